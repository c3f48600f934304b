"""The health tracker: what each provider's last checks and calls say, per credential scope.

States and thresholds (PRD F4):

``unknown``   never checked or called since connecting;
``healthy``   the last check or call succeeded;
``degraded``  the last 1 or 2 calls failed with a transient error (5xx, timeout,
              network), or the provider is rate limiting us;
``failed``    3 or more consecutive failures, or one that needs the user
              (credentials refused, no login, CLI missing);
``disabled``  the provider is switched off in the scope (from the switches,
              not stored here).

Health is stored per credential scope (the user's row, or a project's own
credentials) in ``integration_status``, with the last check and success
times, the consecutive and total error counts, the last error (credential
values redacted), the account ("Connected as …") and the shared rate-limit
deadline. Every change of state is published to the service's subscribers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import NaviError
from ..results import FailureKind, Health, HealthResult

if TYPE_CHECKING:
    from ..service import IntegrationService

__all__ = ["FAILED_AFTER_ERRORS", "NEEDS_USER", "ChangeEvent", "HealthRecord", "HealthTracker"]


#: Consecutive errors from which a provider counts as failed rather than degraded.
FAILED_AFTER_ERRORS = 3
#: Failure kinds that only the user can fix: failed at once.
NEEDS_USER: frozenset[FailureKind] = frozenset(
    {"auth", "forbidden", "not_logged_in", "not_installed"}
)
_MAX_ERROR_TEXT = 500


@dataclass(frozen=True)
class HealthRecord:
    """A provider's health in one credential scope."""

    provider: str
    project_id: str | None
    status: Health
    last_check_at: int | None = None
    last_success_at: int | None = None
    error_count: int = 0
    error_total: int = 0
    last_error: str | None = None
    account: str | None = None
    rate_limited_until: int | None = None

    @property
    def rate_limited(self) -> bool:
        """Whether calls must wait for the provider's Retry-After deadline now."""
        return self.rate_limited_until is not None and self.rate_limited_until > time.time() * 1000


@dataclass(frozen=True)
class ChangeEvent:
    """A change a host app may want to react to (e.g. prompt the user to reconnect).

    ``kind`` is ``"health"`` (``before``/``after`` are health states) or
    ``"connection"`` (``"connected"``/``"disconnected"``/``"enabled"``/``"disabled"``).
    """

    provider: str
    project_id: str | None
    kind: Literal["health", "connection"]
    before: str | None
    after: str
    message: str = ""


Subscriber = Callable[[ChangeEvent], None]


def _scope_key(project_id: str | None) -> str:
    return project_id or ""


class HealthTracker:
    """Records outcomes and answers "how is provider P doing in this scope?"."""

    def __init__(self, service: IntegrationService) -> None:
        self._service = service

    def _scope(self, provider_id: str, project_id: str | None) -> str | None:
        """The project id of the credential row in effect ('' = user), None if not connected."""
        state = self._service.effective(provider_id, project_id=project_id)
        if state.credential_scope is None:
            return None
        return _scope_key(project_id) if state.credential_scope == "project" else ""

    def get(self, provider_id: str, *, project_id: str | None = None) -> HealthRecord:
        """The health record of the credentials in effect for the scope."""
        import sqlalchemy as sa

        from ..store.tables import CREDENTIALS, STATUS

        pid = self._scope(provider_id, project_id)
        if pid is None:
            return HealthRecord(provider_id, project_id, "unknown")
        with self._service.store.read() as conn:
            row = conn.execute(
                sa.select(STATUS).where(
                    STATUS.c.provider == provider_id, STATUS.c.project_id == pid
                )
            ).first()
            cred = conn.execute(
                sa.select(CREDENTIALS.c.error_count, CREDENTIALS.c.last_error).where(
                    CREDENTIALS.c.provider == provider_id, CREDENTIALS.c.project_id == pid
                )
            ).first()
        if row is None:
            return HealthRecord(provider_id, pid or None, "unknown")
        meta = json.loads(row.metadata) if row.metadata else {}
        return HealthRecord(
            provider_id,
            pid or None,
            row.status,
            row.last_check_at,
            row.last_success_at,
            cred.error_count if cred else 0,
            row.error_total,
            row.error_message,
            meta.get("account"),
            row.rate_limited_until,
        )

    def rate_limited_until(
        self, provider_id: str, *, project_id: str | None = None
    ) -> float | None:
        """Epoch seconds until which calls must wait (shared by every process), or None."""
        from ..store.tables import STATUS

        rows = self._service.store.fetch(
            f"SELECT project_id, rate_limited_until FROM {STATUS.name} "
            "WHERE provider = :provider AND project_id IN (:pid, '')",
            {"provider": provider_id, "pid": _scope_key(project_id)},
        )
        found = dict(rows)
        key = _scope_key(project_id)
        # The project's own row when it has one (its own credentials), else the user's.
        until = found.get(key) if key in found else found.get("")
        if until is None or until <= time.time() * 1000:
            return None
        return float(until) / 1000

    def status_of(self, provider_id: str, scope: str) -> tuple[str, int]:
        """(health status, consecutive errors) of a credential row, in one cheap query."""
        rows = self._service.store.fetch(
            "SELECT s.status, c.error_count FROM credentials c LEFT JOIN integration_status s"
            " ON s.provider = c.provider AND s.project_id = c.project_id"
            " WHERE c.provider = :provider AND c.project_id = :pid",
            {"provider": provider_id, "pid": scope},
        )
        if not rows:
            return "unknown", 0
        return rows[0][0] or "unknown", int(rows[0][1] or 0)

    def hold(self, provider_id: str, scope: str, seconds: float) -> None:
        """Make every process wait ``seconds`` before calling the provider with this credential.

        One small write, done before any other bookkeeping so that the window
        in which another caller has not heard of the Retry-After stays short.
        An earlier, later deadline is kept.
        """
        import sqlalchemy as sa

        from ..store.tables import STATUS

        until = int((time.time() + seconds) * 1000)
        with self._service.store.write() as conn:
            current = conn.execute(
                sa.select(STATUS.c.rate_limited_until).where(
                    STATUS.c.provider == provider_id, STATUS.c.project_id == scope
                )
            ).first()
            if current is not None and (current[0] or 0) >= until:
                return
            row = {
                "id": f"{provider_id}:{scope or 'global'}",
                "provider": provider_id,
                "project_id": scope,
                "status": "degraded",
                "rate_limited_until": until,
            }
            self._service._upsert(conn, STATUS, row, {"rate_limited_until": until})

    def record(
        self,
        provider_id: str,
        result: HealthResult,
        *,
        project_id: str | None = None,
        scope: str | None = None,
    ) -> HealthRecord | None:
        """Store one outcome; returns the new record (None when not connected in the scope).

        ``scope`` is the project id of the credential row ('' = user) when the caller knows it.
        """
        import sqlalchemy as sa

        from ..store.tables import CREDENTIALS, STATUS

        pid = scope if scope is not None else self._scope(provider_id, project_id)
        if pid is None:
            return None
        now = int(time.time() * 1000)
        before = self.status_of(provider_id, pid)[0]
        text = None if result.ok else self._redact(provider_id, project_id, result.message)
        where = (CREDENTIALS.c.provider == provider_id) & (CREDENTIALS.c.project_id == pid)
        with self._service.store.write() as conn:
            if result.ok:
                conn.execute(
                    CREDENTIALS.update().where(where).values(error_count=0, last_error=None)
                )
                count = 0
            else:
                conn.execute(
                    CREDENTIALS.update()
                    .where(where)
                    .values(error_count=CREDENTIALS.c.error_count + 1, last_error=text)
                )
                count = conn.execute(sa.select(CREDENTIALS.c.error_count).where(where)).scalar_one()
            status = _status_after(result, count)
            until = (
                now + int(result.retry_after * 1000)
                if result.kind == "rate_limited" and result.retry_after
                else None
            )
            meta = json.dumps({"account": result.account}) if result.ok and result.account else None
            row: dict[str, Any] = {
                "id": f"{provider_id}:{pid or 'global'}",
                "provider": provider_id,
                "project_id": pid,
                "status": status,
                "last_check_at": now,
                "last_success_at": now if result.ok else None,
                "error_message": text,
                "error_total": 0 if result.ok else 1,
                "rate_limited_until": until,
                "metadata_json": meta,
            }
            update: dict[str, Any] = {
                "status": status,
                "last_check_at": now,
                "error_message": text,
            }
            if result.ok:
                # A success does not lift a Retry-After: it may have been in flight before it.
                update["last_success_at"] = now
                if meta:
                    update["metadata"] = meta
            else:
                update["error_total"] = STATUS.c.error_total + 1
                if until is not None:  # never earlier than a deadline already set
                    update["rate_limited_until"] = sa.case(
                        (STATUS.c.rate_limited_until > until, STATUS.c.rate_limited_until),
                        else_=until,
                    )
            row["metadata"] = row.pop("metadata_json")
            self._service._upsert(conn, STATUS, row, update)
        if status != before:
            self._service._emit(
                ChangeEvent(provider_id, pid or None, "health", before, status, text or "")
            )
        return HealthRecord(provider_id, pid or None, status, now, error_count=count)

    def _redact(self, provider_id: str, project_id: str | None, message: str) -> str:
        try:
            values = self._service._credentials(
                provider_id, project_id, touch=False, require_enabled=False, fresh=False
            )
            secrets = [values.reveal(k) for k in values]
        except NaviError:
            secrets = []
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 4:
                message = message.replace(secret, "[redacted]")
        message = re.sub(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}", r"\1[redacted]", message)
        return message[:_MAX_ERROR_TEXT]


def _status_after(result: HealthResult, consecutive_errors: int) -> Health:
    if result.ok:
        return "healthy"
    if result.kind in NEEDS_USER or consecutive_errors >= FAILED_AFTER_ERRORS:
        return "failed"
    return "degraded"
