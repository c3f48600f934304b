"""The parts every collaborator of the service shares, each built on first use.

Built lazily because they cost: the registry imports every plugin, the store
opens (and migrates) the database, and a ``navi-int token`` on the fast path
needs none of them. Each collaborator (:mod:`.connections`, :mod:`.reads`,
:mod:`.health`, …) is handed this one object and takes from it only what it
uses; none of them sees the facade.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import NaviError
from ..health.events import EventBus
from ..paths import data_dir
from ..scopes import Scope

if TYPE_CHECKING:
    from ..auth.refresh import TokenRefresher
    from ..health.tracker import HealthTracker
    from ..plugins.catalog import Catalog
    from ..plugins.registry import Registry
    from ..store.crypto import KeySource
    from ..store.engine import Store
    from ..store.queries import Queries
    from ..store.vault import Vault

__all__ = ["Parts"]

T = TypeVar("T")


class Parts:
    """The store, registry, catalog, keys, vault, queries, health tracker and token
    refresher of one service, created once each (by one thread) when first asked for."""

    def __init__(
        self,
        *,
        store: Store | None = None,
        registry: Registry | None = None,
        catalog: Catalog | None = None,
        keys: KeySource | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.environ = os.environ if environ is None else environ
        self._store = store
        self._registry = registry
        self._catalog = catalog
        self._keys = keys
        self._lazy: dict[str, Any] = {}
        self._init_lock = threading.RLock()
        self.events = EventBus()
        self._catalog_generation = -1

    def _make(self, name: str, factory: Callable[[], T]) -> T:
        found = self._lazy.get(name)
        if found is None:
            with self._init_lock:
                found = self._lazy.get(name)
                if found is None:
                    found = self._lazy[name] = factory()
        return found

    @property
    def store(self) -> Store:
        """The database (opened and migrated on first use)."""
        if self._store is None:
            with self._init_lock:
                if self._store is None:
                    from ..store.engine import Store, database_url

                    self._store = Store(database_url(self.environ))
        return self._store

    @property
    def registry(self) -> Registry:
        """The loaded plugin registry (imports every plugin: only for validate and hooks)."""
        if self._registry is None:
            with self._init_lock:
                if self._registry is None:
                    from ..plugins.registry import Registry

                    self._registry = Registry(self.environ).load()
        return self._registry

    @property
    def catalog(self) -> Catalog:
        """Provider documents (from the cache when nothing changed)."""
        found = self._catalog
        if found is not None and (
            self._registry is None or self._catalog_generation == self._registry.generation
        ):
            return found  # the hot path: no import, no lock
        from ..plugins.catalog import Catalog, load_catalog

        if self._registry is not None:  # follow the host app's registrations
            if self._catalog is None or self._catalog_generation != self._registry.generation:
                self._catalog = Catalog.from_registry(self._registry)
                self._catalog_generation = self._registry.generation
            return self._catalog
        if self._catalog is None:
            with self._init_lock:
                if self._catalog is None:
                    self._catalog = load_catalog(self.environ)
        return self._catalog

    @property
    def keys(self) -> KeySource:
        """Where the master key comes from."""
        if self._keys is None:
            from ..store.crypto import key_source

            self._keys = key_source(
                data_dir(), self.environ, sealed_key_ids=lambda: self.queries.keys.key_ids_in_use()
            )
        return self._keys

    @property
    def vault(self) -> Vault:
        """Seals and opens credential sets with the master key."""
        return self._make("vault", self._new_vault)

    @property
    def queries(self) -> Queries:
        """Every SQL statement, bound to this service's store."""
        return self._make("queries", self._new_queries)

    @property
    def health(self) -> HealthTracker:
        """The health tracker over this service's store."""
        return self._make("health", self._new_health)

    @property
    def tokens(self) -> TokenRefresher:
        """Refreshes OAuth tokens ahead of expiry, once across callers."""
        return self._make("tokens", self._new_tokens)

    # Each imported where first built: `navi-int token` on the fast path builds none.

    def _new_vault(self) -> Vault:
        from ..store.vault import Vault

        return Vault(self.keys)

    def _new_queries(self) -> Queries:
        from ..store.queries import Queries

        return Queries(self.store)

    def _new_health(self) -> HealthTracker:
        from ..health.tracker import HealthTracker

        return HealthTracker(self.queries, self.events, self.secrets_of)

    def _new_tokens(self) -> TokenRefresher:
        from ..auth.refresh import TokenRefresher, refresh_margin

        return TokenRefresher(
            self.store,
            self.queries,
            self.vault,
            self.health,
            self.registry.refresh,
            self.catalog.document,
            refresh_margin(self.environ),
        )

    def secrets_of(self, provider_id: str, row_scope: Scope) -> list[str]:
        """The stored values of one row (to redact from error text); none when unreadable."""
        try:
            view = self.queries.credentials.credential_view(provider_id, row_scope)
            row = view.project if not row_scope.is_user else view.user
            if row is None:
                return []
            return list(self.vault.open(provider_id, row.scope, row.key_id, row.value).values())
        except NaviError:
            return []

    def emit_connection(self, provider_id: str, scope: Scope, after: str) -> None:
        """Tell subscribers that a connection or its switches changed."""
        if self.events.active:
            from ..health.events import ChangeEvent

            self.events.emit(ChangeEvent(provider_id, scope.project_id, "connection", None, after))
