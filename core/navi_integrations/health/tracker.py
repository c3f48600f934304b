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
deadline. Every change of state is published on the event bus.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ..results import FailureKind, Health, HealthResult
from ..scopes import Scope
from .events import ChangeEvent, EventBus

if TYPE_CHECKING:
    from ..store.queries import Queries

__all__ = ["FAILED_AFTER_ERRORS", "NEEDS_USER", "HealthRecord", "HealthTracker"]


#: Consecutive errors from which a provider counts as failed rather than degraded.
FAILED_AFTER_ERRORS = 3
#: Failure kinds that only the user can fix: failed at once.
NEEDS_USER: frozenset[FailureKind] = frozenset(
    {"auth", "forbidden", "not_logged_in", "not_installed", "plugin"}
)
_MAX_ERROR_TEXT = 500

#: The secret values of a credential row, to redact from stored error text.
SecretsOf = Callable[[str, Scope], Iterable[str]]


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
    #: The failure kind of ``last_error`` (None before it was recorded, in stores older
    #: than schema 0005, or after a success).
    error_kind: FailureKind | None = None

    @property
    def rate_limited(self) -> bool:
        """Whether calls must wait for the provider's Retry-After deadline now."""
        return self.rate_limited_until is not None and self.rate_limited_until > time.time() * 1000


class HealthTracker:
    """Records outcomes and answers "how is provider P doing in this scope?".

    ``secrets_of(provider, row_scope)`` gives the values to redact from error
    text; events go to ``events``.
    """

    def __init__(self, queries: Queries, events: EventBus, secrets_of: SecretsOf) -> None:
        self._queries = queries
        self._events = events
        self._secrets_of = secrets_of

    def row_scope(self, provider_id: str, scope: Scope) -> Scope | None:
        """The scope of the credential row in effect for ``scope`` (None: not connected)."""
        row = self._queries.credentials.credential_view(provider_id, scope).in_effect()
        return None if row is None else row.scope

    def get(self, provider_id: str, scope: Scope | None = None) -> HealthRecord:
        """The health record of the credentials in effect for the scope (default: user)."""
        scope = scope or Scope.user()
        row_scope = self.row_scope(provider_id, scope)
        if row_scope is None:
            return HealthRecord(provider_id, scope.project_id, "unknown")
        row, cred = self._queries.health.health_rows(provider_id, row_scope)
        if row is None:
            return HealthRecord(provider_id, row_scope.project_id, "unknown")
        meta = json.loads(row["metadata"]) if row["metadata"] else {}
        return HealthRecord(
            provider_id,
            row_scope.project_id,
            row["status"],
            row["last_check_at"],
            row["last_success_at"],
            cred["error_count"] if cred else 0,
            row["error_total"],
            row["error_message"],
            meta.get("account"),
            row["rate_limited_until"],
            row.get("error_kind"),
        )

    def rate_limited_until(self, provider_id: str, scope: Scope) -> float | None:
        """Epoch seconds until which calls with the credentials in effect for ``scope`` must
        wait (shared by every process), or None."""
        row_scope = self.row_scope(provider_id, scope)
        if row_scope is None:
            return None
        until = self._queries.health.rate_limited_until(provider_id, row_scope)
        if until is None or until <= time.time() * 1000:
            return None
        return float(until) / 1000

    def status_of(self, provider_id: str, row_scope: Scope) -> tuple[str, int]:
        """(health status, consecutive errors) of a credential row, in one cheap query."""
        return self._queries.health.status_of(provider_id, row_scope)

    def hold(self, provider_id: str, row_scope: Scope, seconds: float) -> None:
        """Make every process wait ``seconds`` before calling the provider with this credential.

        One small write, done before any other bookkeeping so that the window
        in which another caller has not heard of the Retry-After stays short.
        An earlier, later deadline is kept.
        """
        self._queries.health.hold(provider_id, row_scope, int((time.time() + seconds) * 1000))

    def record(
        self,
        provider_id: str,
        result: HealthResult,
        scope: Scope,
        *,
        row_scope: Scope | None = None,
    ) -> HealthRecord | None:
        """Store one outcome; returns the new record (None when not connected in the scope).

        ``row_scope`` is the scope of the credential row when the caller knows it.
        """
        pid = row_scope if row_scope is not None else self.row_scope(provider_id, scope)
        if pid is None:
            return None
        before = self.status_of(provider_id, pid)[0]
        text = None if result.ok else self._redact(provider_id, pid, result.message)
        now = int(time.time() * 1000)
        until = (
            now + int(result.retry_after * 1000)
            if result.kind == "rate_limited" and result.retry_after
            else None
        )
        status, count = self._queries.health.record_outcome(
            provider_id,
            pid,
            ok=result.ok,
            error_text=text,
            account=result.account,
            error_kind=None if result.ok else result.kind,
            retry_until=until,
            status_after=lambda errors: _status_after(result, errors),
        )
        if status != before and self._events.active:
            self._events.emit(
                ChangeEvent(provider_id, pid.project_id, "health", before, status, text or "")
            )
        # the store returns the text _status_after chose, a Health value
        health = cast(Health, status)
        return HealthRecord(provider_id, pid.project_id, health, now, error_count=count)

    def _redact(self, provider_id: str, row_scope: Scope, message: str) -> str:
        from ..credentials import redact

        return redact(message, self._secrets_of(provider_id, row_scope))[:_MAX_ERROR_TEXT]


def _status_after(result: HealthResult, consecutive_errors: int) -> Health:
    if result.ok:
        return "healthy"
    if result.kind in NEEDS_USER or consecutive_errors >= FAILED_AFTER_ERRORS:
        return "failed"
    return "degraded"
