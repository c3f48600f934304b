"""The providers and plugins as plain documents, cached across processes.

``navi-int plugins``, ``list`` and ``show`` answer from a :class:`Catalog`.
Building one means importing every plugin and validating every provider
model; a process whose :func:`~navi_integrations.plugins.discovery.fingerprint`
matches the cached one reads the catalog from a JSON file instead and never
imports a plugin (nor pydantic). While no ``sys.path`` directory changed
(:func:`~navi_integrations.plugins.discovery.path_stamp`), that fingerprint is
computed from the entry points the cache remembers, without reading every
installed distribution's metadata (most of the check's cost, paid by
``token`` and ``run`` in agents' loops). Set ``NAVI_INTEGRATIONS_NO_CACHE=1`` to
always rebuild. The cache holds no secret: provider documents carry
``{{field}}`` templates only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, cast

from ..errors import ProviderNotFound
from ..paths import cache_dir, private_dir
from .discovery import (
    Candidate,
    cache_disabled,
    discover,
    fingerprint,
    path_stamp,
    saved_candidates,
)

if TYPE_CHECKING:
    from pathlib import Path

    from ..documents import ProviderDocument
    from .info import LoadProblem, PluginInfo
    from .registry import Registry

__all__ = ["Catalog", "LoadProblem", "PluginInfo", "load_catalog"]

_FORMAT = 2
#: The keys of a cached plugin and problem document (the fields of PluginInfo and
#: LoadProblem; a test keeps them equal), checked when the cache is read.
_PLUGIN_KEYS = frozenset({"name", "distribution", "version", "providers", "builtin"})
_PROBLEM_KEYS = frozenset({"plugin", "distribution", "version", "message"})


def __getattr__(name: str) -> Any:
    """``PluginInfo`` and ``LoadProblem``, still importable from here (defined in ``info``)."""
    if name in ("PluginInfo", "LoadProblem"):
        from . import info

        return getattr(info, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Catalog:
    """What a loaded registry knows, as JSON-ready documents."""

    def __init__(
        self,
        plugins: list[PluginInfo],
        problems: list[LoadProblem],
        providers: dict[str, ProviderDocument],
        owners: dict[str, str],
        refused: dict[str, str] | None = None,
    ) -> None:
        self._plugins = plugins
        self._problems = problems
        self._providers = providers
        self._owners = owners
        self._refused = refused or {}
        # From the cache: plugin and problem documents, made objects on first use (the
        # two dataclasses cost `token` and `list` about 4 % and they read providers only).
        self._documents: tuple[list[Any], list[Any]] | None = None

    @property
    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin."""
        self._objects()
        return self._plugins

    @property
    def problems(self) -> list[LoadProblem]:
        """What could not be loaded."""
        self._objects()
        return self._problems

    def _objects(self) -> None:
        if self._documents is None:
            return
        from .info import LoadProblem, PluginInfo

        plugins, problems = self._documents
        self._plugins = [PluginInfo(**{**p, "providers": tuple(p["providers"])}) for p in plugins]
        self._problems = [LoadProblem(**p) for p in problems]
        self._documents = None

    @classmethod
    def from_registry(cls, registry: Registry) -> Catalog:
        """Snapshot a registry (loads it if needed)."""
        # The model's JSON is the document ProviderDocument types (tests/test_models.py).
        providers = {p.id: cast("ProviderDocument", p.to_document()) for p in registry.providers()}
        owners = {pid: registry.owner(pid).name for pid in providers}
        return cls(registry.plugins(), registry.problems(), providers, owners, registry.refused())

    def provider_ids(self) -> list[str]:
        """Every provider id, sorted."""
        return sorted(self._providers)

    def document(self, provider_id: str) -> ProviderDocument:
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

    def to_json(self, key: str, discovery: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Serialisable form, stamped with the fingerprint ``key`` (and what ``discovery`` found,
        for the next check to skip it while no ``sys.path`` directory changes)."""
        if self._documents is not None:  # as read: no objects to make to write them again
            plugins, problems = self._documents
        else:
            plugins = [asdict(p) for p in self.plugins]
            problems = [asdict(p) for p in self.problems]
        return {
            "format": _FORMAT,
            "fingerprint": key,
            "discovery": discovery,
            "plugins": plugins,
            "problems": problems,
            "providers": self._providers,
            "owners": self._owners,
            "refused": self._refused,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalog:
        """Inverse of :meth:`to_json` (:class:`ValueError` for a document it did not write)."""
        plugins, problems = list(data["plugins"]), list(data["problems"])
        if any(not isinstance(p, dict) or p.keys() != _PLUGIN_KEYS for p in plugins) or any(
            not isinstance(p, dict) or p.keys() != _PROBLEM_KEYS for p in problems
        ):
            raise ValueError("not a catalog document")
        catalog = cls(
            [], [], dict(data["providers"]), dict(data["owners"]), dict(data.get("refused", {}))
        )
        catalog._documents = (plugins, problems)
        return catalog


def load_catalog(environ: Mapping[str, str] | None = None) -> Catalog:
    """The current catalog: from the cache when nothing changed, else rebuilt (and cached)."""
    env = os.environ if environ is None else environ
    if cache_disabled(env):
        return _build(env, discover(env))
    path = cache_dir() / "providers.json"
    data = _read_cache(path)
    # Before discovering, so that a change during it shows next time.
    paths, empty = path_stamp(_empty_folders(data))
    if data is not None and _unchanged_since(env, data, paths):
        cached = _from_cache(data)
        if cached is not None:
            return cached
    candidates = discover(env)
    key = fingerprint(env, candidates)
    catalog = _from_cache(data) if data is not None and data.get("fingerprint") == key else None
    if catalog is None:
        catalog = _build(env, candidates)
    saved = [c.to_saved() for c in candidates]
    discovery = (
        {"paths": paths, "empty": empty, "entryPoints": saved} if None not in saved else None
    )
    _write_cache(path, catalog.to_json(key, discovery))
    return catalog


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or damaged cache: rebuild it
    return data if isinstance(data, dict) and data.get("format") == _FORMAT else None


def _empty_folders(data: Mapping[str, Any] | None) -> dict[str, int] | None:
    """The folders the last check found without distributions, with their times then."""
    try:
        empty = (data or {}).get("discovery", {})["empty"]
    except (KeyError, TypeError):
        return None
    return empty if isinstance(empty, dict) else None


def _from_cache(data: Mapping[str, Any]) -> Catalog | None:
    try:
        return Catalog.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None  # damaged cache: rebuild it


def _unchanged_since(env: Mapping[str, str], data: Mapping[str, Any], paths: list[Any]) -> bool:
    """Whether the cache holds, checked without discovery: same sys.path directories, and the
    same fingerprint computed from the entry points the cache remembers."""
    try:
        discovery = data.get("discovery")
        if not discovery or discovery["paths"] != paths:
            return False
        candidates = saved_candidates(discovery["entryPoints"])
        return bool(data["fingerprint"] == fingerprint(env, candidates))
    except (KeyError, TypeError, ValueError):
        return False


def _write_cache(path: Path, document: dict[str, Any]) -> None:
    import tempfile

    try:
        private_dir(path.parent)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=".providers-", suffix=".json", delete=False
        ) as tmp:
            json.dump(document, tmp)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only home still works, only slower


def _build(env: Mapping[str, str], candidates: list[Candidate]) -> Catalog:
    from .registry import Registry  # imports pydantic and every plugin: only on a miss

    return Catalog.from_registry(Registry(env).load(candidates=candidates))
