"""pytest fixtures for provider plugins and host apps (registered through ``pytest11``).

Installing navi-integrations makes them available to any test suite; no
``conftest.py`` is needed. Each is typed, so a strict type checker follows them.

``navi_home`` (:class:`~pathlib.Path`)
    an empty data/config dir for the test, set as ``NAVI_INTEGRATIONS_HOME``;
    the ``NAVI_INTEGRATIONS_*`` variables that would point elsewhere are cleared.
``navi_registry`` (:class:`~navi_integrations.Registry`)
    a fresh registry with the built-in plugins and every installed plugin
    (your own, through its entry point, once it is installed: ``pip install -e .``).
``navi_register`` (:class:`Register`)
    ``navi_register(provider_or_plugin)`` registers an ``IntegrationProvider``
    or a plugin (a module or an object with hook implementations) for this test
    only, and returns the name it was registered under.
``navi_service`` (:class:`~navi_integrations.IntegrationService`)
    the service on that registry, with a SQLite store and a key file in
    ``navi_home``: ``connect(id, values, test=True)`` runs your health check
    and stores the credentials, ``mcp_config()``, ``get_credentials(id)``...
    exactly what the CLI and host apps call.
``local_http_server`` (:class:`~navi_integrations.testing.LocalHTTPServer`)
    a real HTTP server on 127.0.0.1, started for the test and stopped after
    it: ``route(method, path, Reply(...) or callable)`` scripts answers,
    ``url`` is its base URL (give it as a self-hosted ``baseUrl`` or through
    ``NAVI_<PROVIDER>_API_URL``), ``requests`` records what it received.

The OS keyring is never touched (``NAVI_INTEGRATIONS_KEYRING=0``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from ..models import IntegrationProvider
    from ..plugins.registry import Registry
    from ..service import IntegrationService
    from .http import LocalHTTPServer

__all__ = ["Register"]


class Register(Protocol):
    """The ``navi_register`` fixture: register a provider or a plugin for one test."""

    def __call__(self, item: IntegrationProvider | object, name: str | None = None) -> str:
        """Register ``item``; returns its registered name. Unregistered after the test."""
        ...


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
def navi_register(navi_registry: Registry) -> Iterator[Register]:
    """Register a provider object or a plugin (module or object) for this test only."""
    from ..models import IntegrationProvider

    names: list[str] = []

    def register(item: IntegrationProvider | object, name: str | None = None) -> str:
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
    """The service on ``navi_registry`` and the isolated data dir (SQLite store, key file).

    ``navi_service.connect("acme", {"apiKey": ...}, test=True)`` validates,
    runs the provider's health check and stores the credentials, as
    ``navi-int connect`` does; ``mcp_config()``, ``get_credentials()`` and
    ``status()`` then answer from that store.
    """
    from ..service import IntegrationService

    return IntegrationService(registry=navi_registry)


@pytest.fixture
def local_http_server() -> Iterator[LocalHTTPServer]:
    """A real HTTP server on 127.0.0.1 for scripted provider responses.

    ::

        def test_health(navi_service, local_http_server):
            local_http_server.route("GET", "/me", Reply(200, json={"email": "ada@x.io"}))
            result = navi_service.connect(
                "acme", {"apiKey": KEY, "baseUrl": local_http_server.url}, test=True
            )
            assert result.check.account == "ada@x.io"
    """
    from .http import LocalHTTPServer

    with LocalHTTPServer() as server:
        yield server
