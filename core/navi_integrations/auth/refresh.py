"""Fresh OAuth tokens: refresh ahead of expiry, exactly once however many callers ask.

When a token is within the refresh margin of its expiry (or was just
rejected), the first caller refreshes it and everybody else waits for that
refresh and uses its result:

* threads of one process queue on a lock per credential row;
* processes (and hosts, on PostgreSQL) queue on the database: the refresh
  runs inside a write transaction that holds the credential row (``SELECT …
  FOR UPDATE`` on PostgreSQL; SQLite's write lock).

Whoever gets the lock re-reads the row first and refreshes only if it is
still stale, so a caller that lost the race never declares a token invalid
that another caller has already renewed. ``NAVI_INTEGRATIONS_REFRESH_MARGIN``
(seconds, default 300) sets the margin.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from ..errors import NaviError
from ..results import HealthResult

if TYPE_CHECKING:
    from ..models import Credentials
    from ..service import IntegrationService

__all__ = ["DEFAULT_REFRESH_MARGIN", "TokenRefresher"]

DEFAULT_REFRESH_MARGIN = 300.0


class TokenRefresher:
    """Keeps one service's OAuth credentials fresh (see the module docstring)."""

    def __init__(self, service: IntegrationService, margin: float | None = None) -> None:
        self._service = service
        env = os.environ.get("NAVI_INTEGRATIONS_REFRESH_MARGIN")
        self.margin = (
            margin if margin is not None else float(env) if env else DEFAULT_REFRESH_MARGIN
        )
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def needs_refresh(self, doc: dict[str, Any], credentials: Credentials) -> bool:
        """Whether an OAuth access token expires within the margin (or has no expiry info)."""
        if doc.get("authType") != "oauth" or "accessToken" not in credentials:
            return False
        if "expiresAt" not in credentials:
            return False
        expires_ms = int(credentials.reveal("expiresAt"))
        return expires_ms - time.time() * 1000 < self.margin * 1000

    def _lock(self, provider_id: str, scope: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault((provider_id, scope), threading.Lock())

    def refresh(
        self,
        provider_id: str,
        scope: str,
        project_id: str | None,
        *,
        rejected: str | None = None,
    ) -> Credentials:
        """Return fresh credentials for the row, refreshing them at most once across callers.

        ``rejected`` is an access token the provider refused: the row is
        renewed if it still holds that token, whatever its expiry says.
        """
        from ..store.engine import StoreBusy

        doc = self._service.catalog.document(provider_id)
        patience = time.monotonic() + 30.0  # then queue on the lock like any writer
        with self._lock(provider_id, scope):
            while True:
                # Cheap look first: another thread or process has often renewed it already.
                current, row_scope = self._service._credentials_and_scope(
                    provider_id, project_id, touch=False, require_enabled=False, fresh=False
                )
                if row_scope == scope and not self._stale(doc, current, rejected):
                    return current
                wait = time.monotonic() > patience
                try:
                    return self._refresh_in_store(provider_id, scope, project_id, rejected, wait)
                except StoreBusy:
                    # Another process is writing (most likely refreshing this token):
                    # look again shortly rather than sleep in SQLite's coarse busy wait.
                    time.sleep(0.01)

    def _stale(self, doc: dict[str, Any], credentials: Credentials, rejected: str | None) -> bool:
        if rejected is not None:
            return "accessToken" not in credentials or credentials.reveal("accessToken") == rejected
        return self.needs_refresh(doc, credentials)

    def _refresh_in_store(
        self,
        provider_id: str,
        scope: str,
        project_id: str | None,
        rejected: str | None,
        wait: bool = False,
    ) -> Credentials:
        import sqlalchemy as sa

        from ..models import Credentials
        from ..store.tables import CREDENTIALS
        from .oauth import GrantRevoked

        service = self._service
        doc = service.catalog.document(provider_id)
        kind = "project" if scope else "user"
        try:
            with service.store.write(wait=wait) as conn:
                query = sa.select(
                    CREDENTIALS.c.id, CREDENTIALS.c.value, CREDENTIALS.c.key_id
                ).where(CREDENTIALS.c.provider == provider_id, CREDENTIALS.c.project_id == scope)
                if service.store.dialect == "postgresql":
                    query = query.with_for_update()
                row = conn.execute(query).one()
                current = Credentials(
                    service._decrypt(provider_id, kind, scope or None, row.key_id, row.value)
                )
                if not self._stale(doc, current, rejected):
                    return current  # another caller renewed it while we waited
                provider = service.registry.get(provider_id)
                renewed = service.registry.call_provider_hook(
                    "refresh", provider, credentials=current
                )
                if renewed is None:
                    raise NaviError(f"no plugin can renew {provider.name} credentials")
                values = {key: renewed.reveal(key) for key in renewed}
                sealed = service._seal(provider_id, scope or None, values)
                conn.execute(
                    CREDENTIALS.update()
                    .where(CREDENTIALS.c.id == row.id)
                    .values(
                        value=sealed.blob, key_id=sealed.key_id, updated_at=int(time.time() * 1000)
                    )
                )
        except GrantRevoked:
            error = GrantRevoked(provider_id, str(doc["name"]), project_id)
            service.health.record(provider_id, HealthResult.failed("auth", str(error)), scope=scope)
            raise error from None
        return Credentials(values)
