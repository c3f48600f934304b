"""Shared fixtures for the core's own tests."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from navi_integrations.testing import write_distribution

from .mcp_auth_harness import hosted  # noqa: F401  (fixture)
from .oauth_harness import oauth_server, oauth_server_process  # noqa: F401  (fixtures)

pytest_plugins = ["pytester"]

# tests/compat holds a legacy plugin with its own tests: test_compat.py installs and runs them.
collect_ignore = ["compat"]

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


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, navi_home: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, and a database on the PostgreSQL server.

    PostgreSQL comes from NAVI_TEST_PG_URL (.ci/run starts a server); without
    it the PostgreSQL runs are skipped, except in CI, where they fail.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{navi_home / 'navi.db'}"
        return
    import os

    base = os.environ.get("NAVI_TEST_PG_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("NAVI_TEST_PG_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip("no PostgreSQL server (set NAVI_TEST_PG_URL, see scripts/start-postgres.sh)")
    import psycopg

    name = f"navi_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def service(store_url: str, navi_registry: Any) -> Any:
    """The service facade on each database."""
    from navi_integrations import IntegrationService
    from navi_integrations.store.engine import Store

    return IntegrationService(store=Store(store_url), registry=navi_registry)
