"""The service facade: the one object host apps, the CLI and (later) the HTTP API use.

::

    from navi_integrations import IntegrationService

    service = IntegrationService()
    service.connect("linear", {"apiKey": "lin_api_..."})             # user scope
    service.disable("linear", project_id="acme-site")                # one project off
    token = service.get_token("linear", project_id="other-project")  # inherits the user key
    document = service.status_document(project_id="acme-site")       # GET /api/integrations/status

Every read of "what applies" goes through :func:`navi_integrations.scopes.resolve`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .documents import ProviderStatus, Token
from .errors import (
    CredentialsInvalid,
    DecryptionFailed,
    IntegrationDisabled,
    NaviError,
    NotConnected,
    scope_label,
)
from .paths import data_dir
from .plugins.catalog import Catalog, load_catalog
from .results import Health
from .scopes import Effective, Switches, resolve
from .store.crypto import (
    InvalidCiphertext,
    KeySource,
    MasterKey,
    Sealed,
    associated_data,
    key_source,
    open_sealed,
    seal,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .auth.refresh import TokenRefresher
    from .health.tracker import ChangeEvent, HealthTracker
    from .models import Credentials
    from .plugins.registry import Registry
    from .results import FailureKind, HealthResult
    from .store.engine import Store

__all__ = ["IntegrationService", "ProviderStatus", "Token"]


#: last_used_at is written at most this often per credential (milliseconds).
LAST_USED_RESOLUTION_MS = 60_000


# One statement: both scopes' credentials and both scopes' "enabled" switch.
_CREDENTIAL_SQL = """
SELECT c.id, c.project_id, c.value, c.key_id, c.enabled, c.last_used_at,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = c.provider AND d.project_id = :pid) AS project_enabled,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = c.provider AND d.project_id = '') AS global_enabled
FROM credentials c
WHERE c.provider = :provider AND c.project_id IN (:pid, '')
"""


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _defaults_of(doc: Mapping[str, Any]) -> Switches:
    defaults = doc.get("defaults", {})
    return Switches(
        defaults.get("enabledGlobally", True),
        defaults.get("mcpEnabled", True),
        defaults.get("skillEnabled", True),
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


def _key(project_id: str | None) -> str:
    return project_id or ""


class IntegrationService:
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
        self._key_cache: dict[str, MasterKey] = {}
        self._tracker: HealthTracker | None = None
        self._refresher: TokenRefresher | None = None
        self._init_lock = threading.RLock()  # collaborators are created once, by one thread
        self._subscribers: list[Callable[[ChangeEvent], None]] = []
        self._catalog_generation = -1

    # -- collaborators, created on first use -----------------------------

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
            self._keys = key_source(data_dir(), self._environ)
        return self._keys

    def _current_key(self) -> MasterKey:
        key = self.keys.current()
        self._key_cache[key.key_id] = key
        return key

    def _key_for(self, key_id: str) -> MasterKey | None:
        if key_id not in self._key_cache:  # maybe rotated by another process: look again
            self._key_cache.update(self.keys.by_id())
        return self._key_cache.get(key_id)

    # -- tables ------------------------------------------------------------

    @staticmethod
    def _tables() -> tuple[sa.Table, sa.Table, sa.Table]:
        from .store.tables import CREDENTIALS, DEFAULTS, STATUS

        return CREDENTIALS, DEFAULTS, STATUS

    def _upsert(
        self,
        conn: sa.Connection,
        table: sa.Table,
        values: dict[str, Any],
        update: dict[str, Any],
    ) -> None:
        keys = ["provider", "project_id"]
        if self.store.dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            lite = sqlite.insert(table).values(**values)
            conn.execute(lite.on_conflict_do_update(index_elements=keys, set_=update))
            return
        if self.store.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            pg = postgresql.insert(table).values(**values)
            conn.execute(pg.on_conflict_do_update(index_elements=keys, set_=update))
            return
        where = [table.c[k] == values[k] for k in keys]
        if conn.execute(table.update().where(*where).values(**update)).rowcount == 0:
            conn.execute(table.insert().values(**values))

    # -- connecting --------------------------------------------------------

    def connect(
        self, provider_id: str, values: Mapping[str, str], *, project_id: str | None = None
    ) -> None:
        """Validate ``values`` (the ``validate`` hook) and store them encrypted in the scope.

        Raises :class:`CredentialsInvalid` listing every problem; nothing is
        stored then. Replaces credentials already stored in that scope.
        """
        problems = self.registry.validate(provider_id, values)
        if problems:
            raise CredentialsInvalid(provider_id, problems)
        self.store_credentials(provider_id, values, project_id=project_id)

    def store_credentials(
        self, provider_id: str, values: Mapping[str, str], *, project_id: str | None = None
    ) -> None:
        """Store values without validating them (OAuth tokens after a flow, imports)."""
        self.catalog.document(provider_id)
        scope = "project" if project_id else "user"
        sealed = self._seal(provider_id, project_id, values)
        now = _now_ms()
        credentials, _, _ = self._tables()
        row = {
            "provider": provider_id,
            "scope": scope,
            "project_id": _key(project_id),
            "value": sealed.blob,
            "key_id": sealed.key_id,
            "enabled": True,
            "error_count": 0,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        }
        update = {k: row[k] for k in ("value", "key_id", "enabled", "error_count", "last_error")}
        update["updated_at"] = now
        with self.store.write() as conn:
            self._upsert(conn, credentials, row, update)
        self._emit_connection(provider_id, project_id, "connected")

    def _seal(self, provider_id: str, project_id: str | None, values: Mapping[str, str]) -> Sealed:
        """Encrypt a credential set for its row (bound to provider, scope and project)."""
        scope = "project" if project_id else "user"
        plain = {k: v for k, v in values.items() if v != ""}
        return seal(
            self._current_key(),
            json.dumps(plain).encode(),
            associated_data(provider_id, scope, project_id),
        )

    def disconnect(self, provider_id: str, *, project_id: str | None = None) -> bool:
        """Delete the scope's credentials and health; returns whether any were stored."""
        self.catalog.document(provider_id)
        credentials, _, status = self._tables()
        with self.store.write() as conn:
            where = (credentials.c.provider == provider_id) & (
                credentials.c.project_id == _key(project_id)
            )
            deleted = conn.execute(credentials.delete().where(where)).rowcount
            conn.execute(
                status.delete().where(
                    (status.c.provider == provider_id) & (status.c.project_id == _key(project_id))
                )
            )
        if deleted:
            self._emit_connection(provider_id, project_id, "disconnected")
        return bool(deleted)

    # -- switches ------------------------------------------------------------

    def enable(self, provider_id: str, *, project_id: str | None = None) -> None:
        """Enable the provider globally, or for one project."""
        self._set_switches(provider_id, project_id, enabled=True)
        self._emit_connection(provider_id, project_id, "enabled")

    def disable(self, provider_id: str, *, project_id: str | None = None) -> None:
        """Disable the provider globally, or for one project."""
        self._set_switches(provider_id, project_id, enabled=False)
        self._emit_connection(provider_id, project_id, "disabled")

    def update_settings(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        mcp_enabled: bool | None = None,
        skill_enabled: bool | None = None,
    ) -> None:
        """Set MCP and skill switches in a scope (``None`` leaves one unchanged)."""
        self._set_switches(
            provider_id, project_id, mcp_enabled=mcp_enabled, skill_enabled=skill_enabled
        )

    def _set_switches(self, provider_id: str, project_id: str | None, **switches: Any) -> None:
        self.catalog.document(provider_id)
        changes = {k: v for k, v in switches.items() if v is not None}
        if not changes:
            return
        _, defaults, _ = self._tables()
        row = {
            "id": f"{provider_id}:{project_id or 'global'}",
            "provider": provider_id,
            "project_id": _key(project_id),
            **changes,
        }
        with self.store.write() as conn:
            self._upsert(conn, defaults, row, changes)

    # -- reading -------------------------------------------------------------

    def _read_scope(
        self, conn: sa.Connection, provider_ids: list[str], project_id: str | None
    ) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], Any], dict[tuple[str, str], Any]]:
        import sqlalchemy as sa

        credentials, defaults, status = self._tables()
        scopes = sorted({"", _key(project_id)})

        def rows(table: sa.Table, *columns: sa.Column[Any]) -> dict[tuple[str, str], Any]:
            query = sa.select(table.c.provider, table.c.project_id, *columns).where(
                table.c.provider.in_(provider_ids), table.c.project_id.in_(scopes)
            )
            return {(r.provider, r.project_id): r for r in conn.execute(query)}

        return (
            rows(credentials, credentials.c.enabled),
            rows(defaults, defaults.c.enabled, defaults.c.mcp_enabled, defaults.c.skill_enabled),
            rows(status, status.c.status, status.c.rate_limited_until),
        )

    def _effective(
        self,
        provider_id: str,
        project_id: str | None,
        creds: Mapping[tuple[str, str], Any],
        switches: Mapping[tuple[str, str], Any],
    ) -> Effective:
        defaults = _defaults_of(self.catalog.document(provider_id))

        def switch_row(pid: str) -> Switches | None:
            row = switches.get((provider_id, pid))
            return (
                None if row is None else Switches(row.enabled, row.mcp_enabled, row.skill_enabled)
            )

        def cred(pid: str) -> bool | None:
            row = creds.get((provider_id, pid))
            return None if row is None else bool(row.enabled)

        return resolve(
            defaults,
            switch_row(""),
            switch_row(project_id) if project_id else None,
            cred(""),
            cred(project_id) if project_id else None,
        )

    @staticmethod
    def _health(
        provider_id: str,
        state: Effective,
        project_id: str | None,
        status: Mapping[tuple[str, str], Any],
    ) -> Health:
        if not state.enabled:
            return "disabled"
        row = IntegrationService._status_row(provider_id, state, project_id, status)
        return row.status if row is not None else "unknown"

    @staticmethod
    def _status_row(
        provider_id: str,
        state: Effective,
        project_id: str | None,
        status: Mapping[tuple[str, str], Any],
    ) -> Any:
        if state.credential_scope is None:
            return None
        pid = _key(project_id) if state.credential_scope == "project" else ""
        return status.get((provider_id, pid))

    def status(
        self, *, project_id: str | None = None, providers: Iterable[str] | None = None
    ) -> list[ProviderStatus]:
        """Every provider's state globally and, with ``project_id``, in that project."""
        ids = list(providers) if providers is not None else self.catalog.provider_ids()
        for pid in ids:
            self.catalog.document(pid)
        with self.store.read() as conn:
            creds, switches, health = self._read_scope(conn, ids, project_id)
        result = []
        for provider_id in ids:
            doc = self.catalog.document(provider_id)
            global_state = self._effective(provider_id, None, creds, switches)
            item = ProviderStatus(
                provider=provider_id,
                name=doc["name"],
                auth_type=doc["authType"],
                global_state=global_state,
                global_health=self._health(provider_id, global_state, None, health),
            )
            state = global_state
            if project_id:
                state = self._effective(provider_id, project_id, creds, switches)
                item = ProviderStatus(
                    **{
                        **item.__dict__,
                        "project_id": project_id,
                        "project_state": state,
                        "project_health": self._health(provider_id, state, project_id, health),
                    }
                )
            row = self._status_row(provider_id, state, project_id, health)
            until = row.rate_limited_until if row is not None else None
            if until is not None and until > _now_ms():
                item = ProviderStatus(**{**item.__dict__, "rate_limited_until": until})
            result.append(item)
        return result

    def status_document(self, *, project_id: str | None = None) -> dict[str, Any]:
        """The PRD's ``GET /api/integrations/status`` document."""
        return {"integrations": [s.to_document() for s in self.status(project_id=project_id)]}

    def effective(self, provider_id: str, *, project_id: str | None = None) -> Effective:
        """What applies to one provider in a scope."""
        return self.status(project_id=project_id, providers=[provider_id])[0].effective

    def get_credentials(self, provider_id: str, *, project_id: str | None = None) -> Credentials:
        """The effective credentials, decrypted; records ``last_used_at``.

        Raises :class:`NotConnected`, :class:`IntegrationDisabled` or
        :class:`DecryptionFailed` (wrong master key, damaged row).
        """
        return self._credentials(provider_id, project_id, touch=True, require_enabled=True)

    def _credentials(
        self,
        provider_id: str,
        project_id: str | None,
        *,
        touch: bool,
        require_enabled: bool,
        fresh: bool = True,
    ) -> Credentials:
        return self._credentials_and_scope(
            provider_id, project_id, touch=touch, require_enabled=require_enabled, fresh=fresh
        )[0]

    def _credentials_and_scope(
        self,
        provider_id: str,
        project_id: str | None,
        *,
        touch: bool,
        require_enabled: bool,
        fresh: bool = True,
    ) -> tuple[Credentials, str]:
        """The effective credentials and the project id of their row ('' = user scope).

        With ``fresh``, an OAuth token close to expiry is refreshed first
        (once across every caller: see :mod:`navi_integrations.auth.refresh`).
        """
        from .models import Credentials

        doc = self.catalog.document(provider_id)
        rows = self.store.fetch(_CREDENTIAL_SQL, {"provider": provider_id, "pid": _key(project_id)})
        by_scope = {row[1]: row for row in rows}
        project_row = by_scope.get(project_id) if project_id else None
        user_row = by_scope.get("")
        switch = rows[0] if rows else None
        state = resolve(
            _defaults_of(doc),
            Switches(_bool(switch[7])) if switch else None,
            Switches(_bool(switch[6])) if switch and project_id else None,
            None if user_row is None else bool(user_row[4]),
            None if project_row is None else bool(project_row[4]),
        )
        if state.credential_scope is None:
            raise NotConnected(provider_id, project_id)
        if require_enabled and not state.enabled:
            raise IntegrationDisabled(provider_id, project_id)
        row = project_row if state.credential_scope == "project" else user_row
        assert row is not None
        values = self._decrypt(provider_id, state.credential_scope, row[1] or None, row[3], row[2])
        now = _now_ms()
        if touch and (row[5] is None or now - row[5] >= LAST_USED_RESOLUTION_MS):
            credentials, _, _ = self._tables()
            with self.store.write() as conn:
                conn.execute(
                    credentials.update().where(credentials.c.id == row[0]).values(last_used_at=now)
                )
        found = Credentials(values)
        if fresh and self.tokens.needs_refresh(doc, found):
            found = self.tokens.refresh(provider_id, row[1], project_id)
        if fresh and doc["authType"] == "cli":  # e.g. GitHub's token lives in gh
            provider = self.registry.get(provider_id)
            answer = self.registry.call_provider_hook(
                "runtime_credentials", provider, credentials=found
            )
            found = answer if answer is not None else found
        return found, row[1]

    @property
    def tokens(self) -> TokenRefresher:
        """Refreshes OAuth tokens ahead of expiry, once across callers."""
        if self._refresher is None:
            with self._init_lock:
                if self._refresher is None:
                    from .auth.refresh import TokenRefresher

                    self._refresher = TokenRefresher(self)
        return self._refresher

    def refresh_credentials(
        self, provider_id: str, *, project_id: str | None = None, rejected: str | None = None
    ) -> Credentials:
        """Renew an OAuth provider's credentials now (``rejected``: the token it refused)."""
        _, scope = self._credentials_and_scope(
            provider_id, project_id, touch=False, require_enabled=False, fresh=False
        )
        return self.tokens.refresh(provider_id, scope, project_id, rejected=rejected)

    def _decrypt(
        self, provider_id: str, scope: str, project_id: str | None, key_id: str, blob: bytes
    ) -> dict[str, str]:
        label = scope_label(project_id)
        key = self._key_for(key_id)
        if key is None:
            raise DecryptionFailed(provider_id, label, "key")
        try:
            plain = open_sealed(key, bytes(blob), associated_data(provider_id, scope, project_id))
            values = json.loads(plain)
        except (InvalidCiphertext, ValueError):
            raise DecryptionFailed(provider_id, label, "damaged") from None
        if not isinstance(values, dict):
            raise DecryptionFailed(provider_id, label, "damaged")
        return {str(k): str(v) for k, v in values.items()}

    def get_token(
        self, provider_id: str, *, project_id: str | None = None, field: str | None = None
    ) -> Token:
        """The value a script sends: the OAuth access token, a CLI's token, else the first
        secret field; or the named ``field`` (e.g. Slack's ``teamId``)."""
        doc = self.catalog.document(provider_id)
        credentials = self.get_credentials(provider_id, project_id=project_id)
        auth_type = doc["authType"]
        if field is not None:
            if field not in credentials:
                raise NaviError(f"{provider_id} has no '{field}' value")
        elif auth_type == "oauth":
            field = "accessToken"
        elif auth_type == "cli":
            field = "token"
        else:
            secret_fields = [
                f["key"] for f in doc.get("credentials", []) if f["type"] == "password"
            ]
            field = next((k for k in secret_fields if k in credentials), "")
        if field not in credentials:
            raise NaviError(f"{provider_id} has no token to hand out ({auth_type} auth)")
        expires = credentials.reveal("expiresAt") if "expiresAt" in credentials else None
        return Token(auth_type, credentials[field], int(expires) if expires else None)

    # -- health and outcomes -------------------------------------------------

    @property
    def health(self) -> HealthTracker:
        """The health tracker over this service's store."""
        if self._tracker is None:
            from .health.tracker import HealthTracker

            self._tracker = HealthTracker(self)
        return self._tracker

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` on every health or connection change this service makes.

        Returns a function that unsubscribes. A subscriber that raises is
        logged and does not stop the others or the operation.
        """
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _emit_connection(self, provider_id: str, project_id: str | None, after: str) -> None:
        if self._subscribers:
            from .health.tracker import ChangeEvent

            self._emit(ChangeEvent(provider_id, project_id, "connection", None, after))

    def _emit(self, event: ChangeEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a host app's bug must not break a credential operation
                logging.getLogger(__name__).exception("subscriber failed on %s", event.kind)

    def record_success(
        self, provider_id: str, *, project_id: str | None = None, account: str | None = None
    ) -> None:
        """Note a successful call or check: errors reset, health healthy."""
        from .results import HealthResult

        self._require_connected(provider_id, project_id)
        self.health.record(provider_id, HealthResult.healthy(account), project_id=project_id)

    def record_error(
        self,
        provider_id: str,
        error: str,
        *,
        project_id: str | None = None,
        kind: FailureKind = "unavailable",
        retry_after: float | None = None,
    ) -> None:
        """Note a failed call; the message is stored with any credential value redacted."""
        from .results import HealthResult

        self._require_connected(provider_id, project_id)
        result = HealthResult.failed(kind, error, retry_after=retry_after)
        self.health.record(provider_id, result, project_id=project_id)

    def _require_connected(self, provider_id: str, project_id: str | None) -> None:
        if not self.effective(provider_id, project_id=project_id).connected:
            raise NotConnected(provider_id, project_id)

    def check(
        self, provider_id: str, *, project_id: str | None = None, timeout: float = 10.0
    ) -> HealthResult:
        """Run the provider's health check on the stored credentials and record the outcome."""
        credentials, scope = self._credentials_and_scope(
            provider_id, project_id, touch=True, require_enabled=False
        )
        result = self.check_values(provider_id, credentials, timeout=timeout)
        self.health.record(provider_id, result, project_id=project_id, scope=scope)
        return result

    def check_values(
        self,
        provider_id: str,
        credentials: Credentials | Mapping[str, str],
        *,
        timeout: float = 10.0,
    ) -> HealthResult:
        """Run the health check on values that are not stored (test before configure)."""
        from .models import Credentials
        from .results import HealthResult

        provider = self.registry.get(provider_id)
        creds = credentials if isinstance(credentials, Credentials) else Credentials(credentials)
        answer = self.registry.call_provider_hook(
            "health_check", provider, credentials=creds, timeout=timeout
        )
        if answer is None:
            return HealthResult.failed("bad_response", f"{provider.name} has no health check")
        if not isinstance(answer, HealthResult):
            raise NaviError(f"the {provider_id} health check returned {type(answer).__name__}")
        return answer
