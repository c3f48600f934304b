"""pytest fixtures for provider plugins and host apps (registered through ``pytest11``).

``navi_home``
    an empty data/config dir for the test, set as ``NAVI_INTEGRATIONS_HOME``.
``navi_registry``
    a fresh, loaded :class:`~navi_integrations.Registry` using that dir.
``navi_register``
    ``navi_register(provider_or_plugin)`` registers a provider object or a
    plugin for this test only.
``navi_service``
    an :class:`~navi_integrations.IntegrationService` on a SQLite store and a
    key file in that dir.
``local_http_server``
    a started :class:`~navi_integrations.testing.LocalHTTPServer` on
    127.0.0.1, stopped after the test.

The OS keyring is never touched (``NAVI_INTEGRATIONS_KEYRING=0``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..plugins.registry import Registry
    from ..service import IntegrationService
    from .http import LocalHTTPServer

_ENV_TO_CLEAR = (
    "NAVI_INTEGRATIONS_DB_URL",
    "NAVI_INTEGRATIONS_KEY",
    "NAVI_INTEGRATIONS_OLD_KEYS",
    "NAVI_INTEGRATIONS_NO_CACHE",
    "NAVI_INTEGRATIONS_PLUGINS",
    "NAVI_INTEGRATIONS_BLOCK_PLUGINS",
    "NAVI_INTEGRATIONS_TRACE",
)


@pytest.fixture
def navi_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated data/config dir, exported as ``NAVI_INTEGRATIONS_HOME``."""
    home = tmp_path / "navi-home"
    home.mkdir()
    monkeypatch.setenv("NAVI_INTEGRATIONS_HOME", str(home))
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEYRING", "0")
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def navi_registry(navi_home: Path) -> Registry:
    """A fresh registry with the built-in plugins and every installed plugin loaded."""
    from ..plugins.registry import Registry

    return Registry().load()


@pytest.fixture
def navi_register(navi_registry: Registry) -> Iterator[Callable[..., str]]:
    """Register a provider object or a plugin object for this test only."""
    from ..models import IntegrationProvider

    names: list[str] = []

    def register(item: Any, name: str | None = None) -> str:
        if isinstance(item, IntegrationProvider):
            registered = navi_registry.register_provider(item)
        else:
            registered = navi_registry.register_plugin(item, name)
        names.append(registered)
        return registered

    yield register
    for name in names:
        navi_registry.unregister(name)


@pytest.fixture
def navi_service(navi_registry: Registry) -> IntegrationService:
    """A service facade on the isolated data dir (SQLite store, key file)."""
    from ..service import IntegrationService

    return IntegrationService(registry=navi_registry)


@pytest.fixture
def local_http_server() -> Iterator[LocalHTTPServer]:
    """A real HTTP server on 127.0.0.1 for scripted provider responses."""
    from .http import LocalHTTPServer

    with LocalHTTPServer() as server:
        yield server
