"""The providers and plugins as plain documents, cached across processes.

``navi-int plugins``, ``list`` and ``show`` answer from a :class:`Catalog`.
Building one means importing every plugin and validating every provider
model; a process whose :func:`~navi_integrations.plugins.discovery.fingerprint`
matches the cached one reads the catalog from a JSON file instead and never
imports a plugin (nor pydantic). Set ``NAVI_INTEGRATIONS_NO_CACHE=1`` to
always rebuild. The cache holds no secret: provider documents carry
``{{field}}`` templates only.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ..errors import ProviderNotFound
from ..paths import cache_dir, private_dir
from .discovery import Candidate, cache_disabled, discover, fingerprint
from .info import LoadProblem, PluginInfo

if TYPE_CHECKING:
    from .registry import Registry

__all__ = ["Catalog", "LoadProblem", "PluginInfo", "load_catalog"]

_FORMAT = 2


class Catalog:
    """What a loaded registry knows, as JSON-ready documents."""

    def __init__(
        self,
        plugins: list[PluginInfo],
        problems: list[LoadProblem],
        providers: dict[str, dict[str, Any]],
        owners: dict[str, str],
        refused: dict[str, str] | None = None,
    ) -> None:
        self.plugins = plugins
        self.problems = problems
        self._providers = providers
        self._owners = owners
        self._refused = refused or {}

    @classmethod
    def from_registry(cls, registry: Registry) -> Catalog:
        """Snapshot a registry (loads it if needed)."""
        providers = {p.id: p.to_document() for p in registry.providers()}
        owners = {pid: registry.owner(pid).name for pid in providers}
        return cls(registry.plugins(), registry.problems(), providers, owners, registry.refused())

    def provider_ids(self) -> list[str]:
        """Every provider id, sorted."""
        return sorted(self._providers)

    def document(self, provider_id: str) -> dict[str, Any]:
        """The provider's IntegrationProvider document; :class:`ProviderNotFound` if none."""
        try:
            return self._providers[provider_id]
        except KeyError:
            if provider_id in self._refused:
                raise ProviderNotFound(provider_id, refused=self._refused[provider_id]) from None
            raise ProviderNotFound.among(provider_id, self._providers) from None

    def owner(self, provider_id: str) -> PluginInfo:
        """The plugin declaring ``provider_id``."""
        self.document(provider_id)
        name = self._owners[provider_id]
        return next(p for p in self.plugins if p.name == name)

    def to_json(self, key: str) -> dict[str, Any]:
        """Serialisable form, stamped with the fingerprint ``key``."""
        return {
            "format": _FORMAT,
            "fingerprint": key,
            "plugins": [asdict(p) for p in self.plugins],
            "problems": [asdict(p) for p in self.problems],
            "providers": self._providers,
            "owners": self._owners,
            "refused": self._refused,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalog:
        """Inverse of :meth:`to_json`."""
        plugins = [PluginInfo(**{**p, "providers": tuple(p["providers"])}) for p in data["plugins"]]
        problems = [LoadProblem(**p) for p in data["problems"]]
        return cls(
            plugins,
            problems,
            dict(data["providers"]),
            dict(data["owners"]),
            dict(data.get("refused", {})),
        )


def load_catalog(environ: Mapping[str, str] | None = None) -> Catalog:
    """The current catalog: from the cache when nothing changed, else rebuilt (and cached)."""
    env = os.environ if environ is None else environ
    candidates = discover(env)
    if cache_disabled(env):
        return _build(env, candidates)
    key = fingerprint(env, candidates)
    path = cache_dir() / "providers.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") == _FORMAT and data.get("fingerprint") == key:
            return Catalog.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or damaged cache: rebuild it
    catalog = _build(env, candidates)
    try:
        private_dir(path.parent)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=".providers-", suffix=".json", delete=False
        ) as tmp:
            json.dump(catalog.to_json(key), tmp)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only home still works, only slower
    return catalog


def _build(env: Mapping[str, str], candidates: list[Candidate]) -> Catalog:
    from .registry import Registry  # imports pydantic and every plugin: only on a miss

    return Catalog.from_registry(Registry(env).load(candidates=candidates))
