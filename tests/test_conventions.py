"""Conventions kept honest: the public surface, and every hook documented and exercised."""

from __future__ import annotations

import inspect
import re
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
    assert set(navi_integrations.__all__) == {
        name
        for name in dir(navi_integrations)
        if not name.startswith("_") and not inspect.ismodule(getattr(navi_integrations, name))
    } | {"__version__"}
    for name in navi_integrations.__all__:
        assert getattr(navi_integrations, name).__doc__ or name.isupper() or name.startswith("__")


def test_every_hookspec_is_a_documented_contract() -> None:
    assert HOOKS == ["describe", "health_check", "mcp_config", "refresh", "validate"]
    readme = (ROOT / "README.md").read_text()
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert "None" in doc and "Called" in doc, name
        assert re.search(rf"`{name}\(", readme), f"{name} missing from the README's hook table"


def test_every_hookspec_is_exercised_by_a_test() -> None:
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    sources += "\n".join(p.read_text() for p in (ROOT / "plugins").glob("*/tests/test_*.py"))
    sources += (ROOT / "core/navi_integrations/testing/conformance.py").read_text()
    for name in HOOKS:
        assert re.search(rf"\b{name}\b", sources), name
