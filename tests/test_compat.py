"""The compatibility promise, kept: a plugin built against the previous releases' public API,
installed as a real distribution, passes its own tests against today's core.

``tests/compat/navi-statuspage`` is that plugin, kept as a third party wrote it against
0.1/0.2: module-level hooks with provider-id guards, ``Registry.call_provider_hook``, 0.1's
module paths (``navi_integrations.registry``, ``.checks``, ``.recovery``, ``.skills``), and
skills with the PRD's frontmatter keys. Retired names warn (``DeprecationWarning`` naming the
replacement and the release that removes it) and still work; see CHANGELOG.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

LEGACY = Path(__file__).resolve().parent / "compat" / "navi-statuspage"


def _uv() -> str:
    import uv

    return str(uv.find_uv_bin())


def test_a_plugin_built_against_the_previous_api_passes_its_own_tests(tmp_path: Path) -> None:
    source = tmp_path / "navi-statuspage"
    shutil.copytree(LEGACY, source, ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    subprocess.run(
        [_uv(), "pip", "install", "-q", "--no-deps", "--target", str(site), str(source)],
        check=True,
        env=env,
    )
    assert (site / "navi_statuspage" / "__init__.py").is_file()
    (source / "navi_statuspage").rename(tmp_path / "not-imported")  # the installed copy runs
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "default"],
        cwd=source,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(site), "NAVI_INTEGRATIONS_HOME": str(tmp_path / "h")},
        check=False,
    )
    (tmp_path / "not-imported").rename(source / "navi_statuspage")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert re.search(r"\b12 passed\b", output), output[-2000:]
    # What it uses is retired, and it is told so, with the replacement and the release.
    for old in (
        "Registry.call_provider_hook is deprecated: use Registry.health_check",
        "navi_integrations.registry.Registry is deprecated: use "
        "navi_integrations.plugins.registry.Registry",
        "navi_integrations.checks.http_check is deprecated",
    ):
        assert old in output, old
    assert "removed in 0.5.0" in output
    assert "SkillWarning" in output and "Fix: move it under metadata" in output


def test_retired_names_warn_with_their_replacement() -> None:
    import navi_integrations
    from navi_integrations import Registry
    from navi_integrations.auth.oauth import OAuthSignIn
    from navi_integrations.store.reads import DEFAULT_REFRESH_MARGIN

    with pytest.warns(DeprecationWarning, match=r"use navi_integrations\.auth\.oauth\.OAuthSign"):
        assert navi_integrations.OAuthSignIn is OAuthSignIn
    with pytest.warns(DeprecationWarning, match=r"store\.direct\.REFRESH_MARGIN_SECONDS"):
        from navi_integrations.store.direct import REFRESH_MARGIN_SECONDS
    assert REFRESH_MARGIN_SECONDS == DEFAULT_REFRESH_MARGIN
    with pytest.warns(DeprecationWarning, match=r"health\.HealthTracker is deprecated"):
        from navi_integrations.health import HealthTracker
    from navi_integrations.health.tracker import HealthTracker as Today

    assert HealthTracker is Today
    with pytest.warns(DeprecationWarning) as caught:
        from navi_integrations.tokens import TokenRefresher  # a 0.1 module, moved whole
    assert "use navi_integrations.auth.refresh.TokenRefresher" in str(caught[0].message)
    assert caught[0].filename == __file__  # the warning points at the user's line
    from navi_integrations.auth.refresh import TokenRefresher as Moved

    assert TokenRefresher is Moved
    with pytest.raises(ImportError):
        from navi_integrations.tokens import nothing_like_this  # noqa: F401
    with pytest.raises(AttributeError, match="has no attribute"):
        navi_integrations.NoSuchName  # noqa: B018
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # today's names do not warn
        assert Registry().load().get("linear").id == "linear"
