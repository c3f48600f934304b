"""Shared fixtures for the core's own tests."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from navi_integrations.testing import write_distribution

pytest_plugins = ["pytester"]

InstallFn = Callable[..., str]


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InstallFn]:
    """Install a throwaway plugin distribution (real dist-info on sys.path) for one test.

    ``install_plugin("navi-acme", SOURCE)`` writes a module holding SOURCE,
    registered under entry-point name ``acme``; returns the module name.
    """
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(dist: str, source: str, *, ep_name: str | None = None, version: str = "1.0") -> str:
        module = f"{dist.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        write_distribution(
            site,
            dist,
            {ep_name or dist.removeprefix("navi-"): module},
            {module: source},
            version=version,
        )
        importlib.invalidate_caches()
        modules.append(module)
        return module

    yield install
    for module in modules:
        sys.modules.pop(module, None)
