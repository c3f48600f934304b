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

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, GrantRevoked, StoreBusy, connect_advice
from ..results import HealthResult
from ..scopes import Scope
from ..store.reads import (
    DEFAULT_REFRESH_MARGIN,
    grant_times,
    now_ms,
    refresh_due,
    refresh_margin,
)

if TYPE_CHECKING:
    from ..documents import ProviderDocument
    from ..health.tracker import HealthTracker
    from ..models import Credentials
    from ..store.engine import Store
    from ..store.queries import Queries
    from ..store.vault import Vault

__all__ = ["DEFAULT_REFRESH_MARGIN", "TokenRefresher", "needs_refresh", "refresh_margin"]

#: Renews credentials through the ``refresh`` hook: (provider id, credentials) -> renewed.
RenewHook = Callable[[str, "Credentials"], "Credentials | None"]


def needs_refresh(auth_type: str, values: Mapping[str, Any], margin: float) -> bool:
    """Whether an OAuth access token expires within ``margin`` seconds (the rule of
    :func:`navi_integrations.store.reads.refresh_due`, now)."""
    return refresh_due(auth_type, values, margin, now_ms())


class TokenRefresher:
    """Keeps OAuth credentials fresh (see the module docstring).

    ``renew`` calls the ``refresh`` hook; ``documents`` gives a provider's
    document (name, auth type).
    """

    def __init__(
        self,
        store: Store,
        queries: Queries,
        vault: Vault,
        tracker: HealthTracker,
        renew: RenewHook,
        documents: Callable[[str], ProviderDocument],
        margin: float | None = None,
    ) -> None:
        self._store = store
        self._queries = queries
        self._vault = vault
        self._tracker = tracker
        self._renew = renew
        self._documents = documents
        self.margin = margin if margin is not None else refresh_margin()
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def needs_refresh(self, doc: ProviderDocument, credentials: Credentials) -> bool:
        """Whether an OAuth access token expires within the margin."""
        return needs_refresh(str(doc.get("authType")), credentials, self.margin)

    def _lock(self, provider_id: str, row_scope: Scope) -> threading.Lock:
        key = (provider_id, row_scope.key, row_scope.account or "")
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _current(self, provider_id: str, scope: Scope) -> tuple[Credentials, Scope] | None:
        from ..models import Credentials

        row = self._queries.credentials.credential_view(provider_id, scope).in_effect()
        if row is None:
            return None
        values = self._vault.open(provider_id, row.scope, row.key_id, row.value)
        return Credentials(values), row.scope

    def refresh(
        self,
        provider_id: str,
        row_scope: Scope,
        scope: Scope,
        *,
        rejected: str | None = None,
        due_by: int | None = None,
    ) -> Credentials:
        """Return fresh credentials for the row, refreshing them at most once across callers.

        ``rejected`` is an access token the provider refused: the row is
        renewed if it still holds that token, whatever its expiry says.
        ``due_by`` (epoch ms, ``refresh --due``): renew if the row's access token
        expires by then or its idle refresh token must be exercised by then, as
        the row says once it is held (so two refreshers renew it once).
        """
        doc = self._documents(provider_id)
        patience = time.monotonic() + 30.0  # then queue on the lock like any writer
        with self._lock(provider_id, row_scope):
            while True:
                # Cheap look first: another thread or process has often renewed it already.
                current = (
                    self._current(provider_id, scope.with_account(row_scope.account))
                    if due_by is None
                    else None
                )
                if (
                    current is not None
                    and current[1] == row_scope
                    and not self._stale(doc, current[0], rejected)
                ):
                    return current[0]
                wait = time.monotonic() > patience
                try:
                    return self._refresh_in_store(
                        provider_id, row_scope, scope, rejected, wait, due_by
                    )
                except StoreBusy:
                    # Another process is writing (most likely refreshing this token):
                    # look again shortly rather than sleep in SQLite's coarse busy wait.
                    time.sleep(0.01)

    def _stale(self, doc: ProviderDocument, credentials: Credentials, rejected: str | None) -> bool:
        if rejected is not None:
            return "accessToken" not in credentials or credentials.reveal("accessToken") == rejected
        return self.needs_refresh(doc, credentials)

    def _refresh_in_store(
        self,
        provider_id: str,
        row_scope: Scope,
        scope: Scope,
        rejected: str | None,
        wait: bool = False,
        due_by: int | None = None,
    ) -> Credentials:
        from ..models import Credentials

        doc = self._documents(provider_id)
        try:
            with self._store.write(wait=wait) as conn:
                row = self._queries.credentials.lock_credential(conn, provider_id, row_scope)
                if row is None:
                    from ..errors import NotConnected

                    raise NotConnected(provider_id, scope.project_id, account=scope.account)
                current = Credentials(
                    self._vault.open(provider_id, row_scope, row["key_id"], row["value"])
                )
                if due_by is not None:
                    stale = any(
                        row.get(column) is not None and row[column] <= due_by
                        for column in ("expires_at", "refresh_by")
                    )
                else:
                    stale = self._stale(doc, current, rejected)
                if not stale:
                    return current  # another caller renewed it while we waited
                renewed = self._renew(provider_id, current)
                if renewed is None:
                    raise ConfigurationError(
                        f"no plugin can renew {doc['name']} credentials",
                        advice=connect_advice(provider_id, scope.project_id),
                    )
                values = {key: renewed.reveal(key) for key in renewed}
                sealed = self._vault.seal_in(self._queries, conn, provider_id, row_scope, values)
                times = grant_times(doc, values, now_ms())
                self._queries.credentials.replace_value(
                    conn, row["id"], sealed.blob, sealed.key_id, times=times
                )
        except GrantRevoked:
            error = GrantRevoked(provider_id, str(doc["name"]), scope.project_id)
            self._tracker.record(
                provider_id, HealthResult.failed("auth", error.message), scope, row_scope=row_scope
            )
            raise error from None
        return Credentials(values)
