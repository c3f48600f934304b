"""Conventions kept honest: the public surface, and every hook documented (each hook's own
test is in test_hooks.py)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path

import navi_integrations
from navi_integrations import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name
    for name, fn in vars(hookspecs).items()
    if inspect.isfunction(fn) and hasattr(fn, "navi_integrations_spec")
)


def test_public_surface_is_what_we_mean() -> None:
    assert set(navi_integrations.__all__) == set(navi_integrations._LAZY) | {
        "__version__",
        "hookimpl",
    }
    for name in navi_integrations.__all__:
        value = getattr(navi_integrations, name)  # every lazy name resolves
        literal = typing.get_origin(value) is typing.Literal  # a type alias: no docstring
        assert name.isupper() or name.startswith("__") or literal or value.__doc__, name
    # Every error a host app may catch, from the package itself (InvalidCiphertext is internal:
    # it surfaces as DecryptionFailed).
    from navi_integrations import errors

    assert set(errors.__all__) - set(navi_integrations.__all__) == {"InvalidCiphertext"}


def test_importing_the_package_builds_no_model() -> None:
    code = "import sys, navi_integrations; print('pydantic.main' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_hookspec_is_a_documented_contract() -> None:
    assert HOOKS == [
        "describe",
        "health_check",
        "mcp_config",
        "refresh",
        "runtime_credentials",
        "validate",
    ]
    readme = (ROOT / "README.md").read_text()
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert "None" in doc and "Called" in doc, name
        assert re.search(rf"`{name}\(", readme), f"{name} missing from the README's hook table"


def test_the_changelog_has_this_version_and_every_deprecation() -> None:
    """Keep a Changelog: a section for the version being built, and each retired name that
    still works (and warns) listed under Deprecated, so users learn of it before it goes."""
    from navi_integrations import _deprecation, _version
    from navi_integrations.health import _MOVED as health_moved
    from navi_integrations.store import _MOVED as store_moved
    from navi_integrations.store.direct import _MOVED as direct_moved

    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[(Unreleased\] — )?{re.escape(_version.__version__)}", changelog, re.M)
    deprecated = changelog.split("### Deprecated", 1)[1].split("\n## ", 1)[0]
    assert f"removed in {_deprecation.REMOVED_IN}" in deprecated
    names = [
        *navi_integrations._MOVED,
        *health_moved,
        *store_moved,
        *direct_moved,
        "call_provider_hook",
        "open_row",
        "enabled_skills",
    ]
    missing = [name for name in names if not re.search(rf"\b{name}\b", deprecated)]
    assert not missing, f"deprecated but not in CHANGELOG.md's Deprecated: {missing}"


def test_every_type_ignore_names_its_code_and_reason() -> None:
    """mypy --strict runs over the core, the plugins and docs/examples: an ignore there must
    say which error it silences and why (``# type: ignore[code]  # reason``)."""
    bare = []
    for folder in ("core", "plugins", "docs/examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if "type: ignore" in line and not re.search(
                    r"# type: ignore\[[a-z, _-]+\]  # \S", line
                ):
                    bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert not bare, f"type: ignore without its code and reason: {bare}"
