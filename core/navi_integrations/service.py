"""The service facade: every workflow, for host apps, the CLI, the HTTP API and the gateway.

::

    from navi_integrations import IntegrationService

    service = IntegrationService()
    result = service.connect("linear", {"apiKey": "lin_api_..."}, test=True)  # test, then save
    service.disable("linear", project_id="acme-site")                # one project off
    token = service.get_token("linear", project_id="other-project")  # inherits the user key
    document = service.status_document(project_id="acme-site")       # GET /api/integrations/status

Surfaces only parse input and render the result objects these methods return
(:class:`ConnectResult`, :class:`TestResult`, :class:`McpConfig`…): the same
workflow never lives in two surfaces. The collaborators below the facade
(store, vault, tracker, refresher, registry) never see it. Reads and
connection workflows live here; agent access (MCP configs, skills, OAuth
sign-in, recovered calls) in :mod:`navi_integrations._service_agent`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._service_agent import AgentAccess
from ._service_audit import AuditTrail
from ._service_health import HealthChecks
from ._service_status import StatusReads
from .credentials import Credentials
from .documents import ProviderStatus, Token
from .errors import (
    CredentialsInvalid,
    NaviError,
    StoreFull,
    StoreReadOnly,
)
from .health.events import ChangeEvent, EventBus
from .paths import data_dir
from .results import ConnectResult
from .scopes import Scope
from .statuses import credential_in_effect, token_field
from .store.queries import now_ms

if TYPE_CHECKING:
    from .agent.mcp import McpConfig
    from .auth.refresh import TokenRefresher
    from .health.recovery import RecoveryPolicy
    from .health.tracker import HealthRecord, HealthTracker
    from .plugins.catalog import Catalog
    from .plugins.registry import Registry
    from .results import HealthResult
    from .store.crypto import KeySource
    from .store.engine import Store
    from .store.queries import Queries
    from .store.rotation import RotationReport
    from .store.vault import Vault

__all__ = [
    "IntegrationService",
    "ProviderStatus",
    "Token",
    "acall_with_recovery",
    "build_mcp_config",
    "call_with_recovery",
]

T = TypeVar("T")


#: The health details of a provider that is not connected.
_NO_DETAILS: Mapping[str, Any] = {"account": None, "lastCheckAt": None, "lastError": None}

#: last_used_at is written at most this often per credential (milliseconds).
LAST_USED_RESOLUTION_MS = 60_000


class IntegrationService(StatusReads, HealthChecks, AgentAccess, AuditTrail):
    """Connect, switch, read and track integrations, in the user scope or a project's."""

    def __init__(
        self,
        *,
        store: Store | None = None,
        registry: Registry | None = None,
        catalog: Catalog | None = None,
        keys: KeySource | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._store = store
        self._registry = registry
        self._catalog = catalog
        self._keys = keys
        self._lazy: dict[str, Any] = {}
        self._init_lock = threading.RLock()  # collaborators are created once, by one thread
        self.events = EventBus()
        self._catalog_generation = -1

    # -- collaborators, created on first use -----------------------------

    def _make(self, name: str, factory: Callable[[], Any]) -> Any:
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
                    from .store.engine import Store, database_url

                    self._store = Store(database_url(self._environ))
        return self._store

    @property
    def registry(self) -> Registry:
        """The loaded plugin registry (imports every plugin: only for validate and hooks)."""
        if self._registry is None:
            with self._init_lock:
                if self._registry is None:
                    from .plugins.registry import Registry

                    self._registry = Registry(self._environ).load()
        return self._registry

    @property
    def catalog(self) -> Catalog:
        """Provider documents (from the cache when nothing changed)."""
        found = self._catalog
        if found is not None and (
            self._registry is None or self._catalog_generation == self._registry.generation
        ):
            return found  # the hot path: no import, no lock
        from .plugins.catalog import Catalog, load_catalog

        if self._registry is not None:  # follow the host app's registrations
            if self._catalog is None or self._catalog_generation != self._registry.generation:
                self._catalog = Catalog.from_registry(self._registry)
                self._catalog_generation = self._registry.generation
            return self._catalog
        if self._catalog is None:
            with self._init_lock:
                if self._catalog is None:
                    self._catalog = load_catalog(self._environ)
        return self._catalog

    @property
    def keys(self) -> KeySource:
        """Where the master key comes from."""
        if self._keys is None:
            from .store.crypto import key_source

            self._keys = key_source(
                data_dir(), self._environ, sealed_key_ids=lambda: self.queries.key_ids_in_use()
            )
        return self._keys

    @property
    def vault(self) -> Vault:
        """Seals and opens credential sets with the master key."""
        found_now = self._lazy.get("vault")
        if found_now is not None:
            return found_now  # type: ignore[no-any-return]
        from .store.vault import Vault

        found: Vault = self._make("vault", lambda: Vault(self.keys))
        return found

    @property
    def queries(self) -> Queries:
        """Every SQL statement, bound to this service's store."""
        found_now = self._lazy.get("queries")
        if found_now is not None:
            return found_now  # type: ignore[no-any-return]
        from .store.queries import Queries

        found: Queries = self._make("queries", lambda: Queries(self.store))
        return found

    @property
    def health(self) -> HealthTracker:
        """The health tracker over this service's store."""
        found_now = self._lazy.get("health")
        if found_now is not None:
            return found_now  # type: ignore[no-any-return]
        from .health.tracker import HealthTracker

        found: HealthTracker = self._make(
            "health", lambda: HealthTracker(self.queries, self.events, self._secrets_of)
        )
        return found

    @property
    def tokens(self) -> TokenRefresher:
        """Refreshes OAuth tokens ahead of expiry, once across callers."""
        found_now = self._lazy.get("tokens")
        if found_now is not None:
            return found_now  # type: ignore[no-any-return]
        from .auth.refresh import TokenRefresher, refresh_margin

        found: TokenRefresher = self._make(
            "tokens",
            lambda: TokenRefresher(
                self.store,
                self.queries,
                self.vault,
                self.health,
                self.registry.refresh,
                self.catalog.document,
                refresh_margin(self._environ),
            ),
        )
        return found

    def _secrets_of(self, provider_id: str, row_scope: Scope) -> list[str]:
        try:
            view = self.queries.credential_view(provider_id, row_scope)
            row = view.project if not row_scope.is_user else view.user
            if row is None:
                return []
            return list(self.vault.open(provider_id, row.scope, row.key_id, row.value).values())
        except NaviError:
            return []

    # -- connecting --------------------------------------------------------

    def connect(
        self,
        provider_id: str,
        values: Mapping[str, str],
        *,
        project_id: str | None = None,
        test: bool = False,
        timeout: float = 10.0,
    ) -> ConnectResult:
        """Validate ``values``, optionally test them live, and store them encrypted in the scope.

        Raises :class:`CredentialsInvalid` listing every problem; nothing is
        stored then. With ``test``, the provider's health check runs on the
        values first: a failure stores nothing and comes back as a result
        with ``saved=False``, its failure kind and advice; a provider with no
        health check is saved untested (health stays ``unknown``). A saved
        connection replaces credentials already stored in that scope, and its
        health starts afresh (``healthy`` with the account when tested).
        """
        scope = Scope.of(project_id)
        problems = self.registry.validate(provider_id, values)
        if problems:
            raise CredentialsInvalid(provider_id, problems)
        result: HealthResult | None = None
        if test:
            result = self.check_values(provider_id, values, timeout=timeout)
            if result is not None and not result.ok:
                action, advice = self.classify(
                    provider_id, result, project_id=project_id, connecting=True
                )
                return ConnectResult(
                    provider_id,
                    project_id,
                    saved=False,
                    tested=True,
                    check=result,
                    advice=advice,
                    action=action,
                )
        self._save(provider_id, scope, values)
        if result is not None:
            self.health.record(provider_id, result, scope, row_scope=scope)
        return ConnectResult(
            provider_id,
            project_id,
            saved=True,
            tested=result is not None,
            check=result,
            account=result.account if result is not None else None,
        )

    def store_credentials(
        self, provider_id: str, values: Mapping[str, str], *, project_id: str | None = None
    ) -> None:
        """Store values without validating them (OAuth tokens after a flow, imports)."""
        self._save(provider_id, Scope.of(project_id), values)

    def _save(self, provider_id: str, scope: Scope, values: Mapping[str, str]) -> None:
        self.catalog.document(provider_id)
        with self.store.write() as conn:
            # Sealed inside the write transaction: see store.vault on key rotation.
            self.vault.save(self.queries, conn, provider_id, scope, values)
            # New credentials start with a clean health record: the old one was about others.
            self.queries.clear_health(conn, provider_id, scope)
        self._emit_connection(provider_id, scope, "connected")

    def disconnect(self, provider_id: str, *, project_id: str | None = None) -> bool:
        """Delete the scope's credentials and health; returns whether any were stored."""
        scope = Scope.of(project_id)
        self.catalog.document(provider_id)
        deleted = self.queries.delete_connection(provider_id, scope)
        if deleted:
            self._emit_connection(provider_id, scope, "disconnected")
        return deleted

    # -- reading -------------------------------------------------------------

    def status_document(
        self, *, project_id: str | None = None, providers: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """The PRD's ``GET /api/integrations/status`` document (of some ``providers``), each
        entry with the health details a settings page shows (:meth:`health_details`)."""
        items = self.status(project_id=project_id, providers=providers)
        details = self.health_details(items, project_id=project_id)
        return {
            "integrations": [
                {**s.to_document(), **details.get(s.provider, _NO_DETAILS)} for s in items
            ]
        }

    def health_record(self, provider_id: str, *, project_id: str | None = None) -> HealthRecord:
        """The health of the credentials in effect for the scope (account, errors, …)."""
        self.catalog.document(provider_id)
        return self.health.get(provider_id, Scope.of(project_id))

    def get_credentials(self, provider_id: str, *, project_id: str | None = None) -> Credentials:
        """The effective credentials, decrypted (and fresh); records ``last_used_at``.

        Raises :class:`NotConnected`, :class:`IntegrationDisabled` or
        :class:`DecryptionFailed` (wrong master key, damaged row).
        """
        return self.credentials_in_scope(provider_id, Scope.of(project_id))[0]

    def credentials_in_scope(
        self,
        provider_id: str,
        scope: Scope,
        *,
        touch: bool = True,
        require_enabled: bool = True,
        fresh: bool = True,
    ) -> tuple[Credentials, Scope]:
        """The effective credentials and the scope of the row they come from.

        With ``fresh``, an OAuth token close to expiry is refreshed first
        (once across every caller: see :mod:`navi_integrations.auth.refresh`)
        and a ``cli`` provider's runtime values are added.
        """
        doc = self.catalog.document(provider_id)
        rows = self.queries.credential_rows(provider_id, scope)
        _, row = credential_in_effect(
            doc, provider_id, scope.project_id, rows, require_enabled=require_enabled
        )
        row_scope = scope if row["project_id"] else Scope.user()
        found = Credentials(self.vault.open(provider_id, row_scope, row["key_id"], row["value"]))
        last_used = row["last_used_at"]
        if touch and (last_used is None or now_ms() - last_used >= LAST_USED_RESOLUTION_MS):
            # Bookkeeping only: a full or read-only disk must not block a read.
            with contextlib.suppress(StoreFull, StoreReadOnly):
                self.queries.touch(row["id"])
        if fresh and doc["authType"] == "oauth" and self.tokens.needs_refresh(doc, found):
            found = self.tokens.refresh(provider_id, row_scope, scope)
        if fresh and doc["authType"] == "cli":  # e.g. GitHub's token lives in gh
            found = self.registry.runtime_credentials(provider_id, found)
        return found, row_scope

    def refresh_credentials(
        self, provider_id: str, *, project_id: str | None = None, rejected: str | None = None
    ) -> Credentials:
        """Renew an OAuth provider's credentials now (``rejected``: the token it refused)."""
        scope = Scope.of(project_id)
        _, row_scope = self.credentials_in_scope(
            provider_id, scope, touch=False, require_enabled=False, fresh=False
        )
        return self.tokens.refresh(provider_id, row_scope, scope, rejected=rejected)

    def get_token(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        field: str | None = None,
        caller: str | None = None,
    ) -> Token:
        """The value a script sends: the OAuth access token, a CLI's token, else the first
        secret field; or the named ``field`` (e.g. Slack's ``teamId``).

        With ``caller`` (who asks: ``cli``, ``api``…) the read is audited, refused or not
        (:meth:`audit_log`); never the value.
        """
        doc = self.catalog.document(provider_id)
        if caller is None:
            return token_of(doc, self.get_credentials(provider_id, project_id=project_id), field)
        try:
            found = token_of(doc, self.get_credentials(provider_id, project_id=project_id), field)
        except NaviError as exc:
            self.audit_token_read(provider_id, project_id, caller, outcome=type(exc).__name__)
            raise
        self.audit_token_read(provider_id, project_id, caller)
        return found

    def rotate_keys(
        self, *, batch_size: int = 200, progress: Callable[[int, int], None] | None = None
    ) -> RotationReport:
        """Rotate the master key (or finish an interrupted rotation): see ``store.rotation``."""
        from .store.rotation import rotate

        return rotate(self.store, self.queries, self.keys, batch_size=batch_size, progress=progress)

    # -- health and outcomes -------------------------------------------------

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` on every health or connection change this service makes.

        Returns a function that unsubscribes. A subscriber that raises is
        logged and does not stop the others or the operation.
        """
        return self.events.subscribe(callback)

    def _emit_connection(self, provider_id: str, scope: Scope, after: str) -> None:
        if self.events.active:
            self.events.emit(ChangeEvent(provider_id, scope.project_id, "connection", None, after))


def token_of(doc: Mapping[str, Any], credentials: Credentials, field: str | None) -> Token:
    """The token a provider document says to hand out from ``credentials`` (or ``field``)."""
    field = token_field(doc, doc["id"], credentials, field)
    expires = credentials.reveal("expiresAt") if "expiresAt" in credentials else None
    return Token(doc["authType"], credentials[field], int(expires) if expires else None)


def call_with_recovery(
    provider_id: str,
    fn: Callable[[Credentials], T],
    *,
    project_id: str | None = None,
    service: IntegrationService | None = None,
    policy: RecoveryPolicy | None = None,
) -> T:
    """Call ``fn(credentials)`` for a provider, recovering what can be recovered.

    See :mod:`navi_integrations.health.recovery`. Raises
    :class:`~navi_integrations.errors.IntegrationError` when it gives up.
    """
    from .health.recovery import run_with_recovery

    context = _service(service).recovery_context(provider_id, project_id=project_id)
    return run_with_recovery(context, fn, policy)


async def acall_with_recovery(
    provider_id: str,
    fn: Callable[[Credentials], Awaitable[T]],
    *,
    project_id: str | None = None,
    service: IntegrationService | None = None,
    policy: RecoveryPolicy | None = None,
) -> T:
    """The async form of :func:`call_with_recovery` (``fn`` is a coroutine function)."""
    from .health.recovery import run_with_recovery_async

    context = _service(service).recovery_context(provider_id, project_id=project_id)
    return await run_with_recovery_async(context, fn, policy)


def build_mcp_config(
    service: IntegrationService,
    *,
    runtime: str = "agent-sdk",
    project_id: str | None = None,
    env_refs: bool = False,
    gateway: bool = False,
) -> McpConfig:
    """The MCP config for ``runtime`` (same as ``service.mcp_config``): for host apps that
    inject servers at session start (``gateway``: one entry running ``navi-int gateway``)."""
    return service.mcp_config(
        runtime=runtime, project_id=project_id, env_refs=env_refs, gateway=gateway
    )


def _service(service: IntegrationService | None) -> IntegrationService:
    return service if service is not None else IntegrationService()
