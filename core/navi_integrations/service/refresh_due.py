"""Keeping OAuth grants alive in the background: ``navi-int refresh --due``.

A grant dies two ways when nobody uses it: its access token expires (the
next reader pays for the refresh, or finds the refresh token expired too),
and some providers revoke a refresh token left unused for a while (Google:
six months; a provider says so with ``oauth.refreshTokenIdleDays``). This
renews every grant whose access token expires within ``within`` seconds and
exercises every refresh token due before its provider's inactivity limit.

What is due is read by two index ranges on ``credentials.expires_at`` and
``credentials.refresh_by`` (:data:`~navi_integrations.store.queries.statements.DUE_SQL`),
never by opening every row: its cost follows what is due, not the store's
size. Each refresh goes through the single-flight refresher: a row is held
while it is renewed, and whoever holds it next sees it renewed and does
nothing, so the HTTP server, the gateway and a cron job can all run it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import NaviError, ProviderNotFound
from ..scopes import Scope
from ..store.reads import grant_times, now_ms

if TYPE_CHECKING:
    from ._parts import Parts

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_WITHIN",
    "DueRefresh",
    "RefreshReport",
    "refresh_interval",
    "refresh_periodically",
]

#: Seconds ahead of expiry ``refresh --due`` renews a grant, unless told.
DEFAULT_WITHIN = 1800.0


@dataclass(frozen=True)
class RefreshOutcome:
    """One grant ``refresh --due`` looked at."""

    provider: str
    project_id: str | None
    account: str
    #: ``refreshed``, ``failed``, or ``skipped`` (not due once read, provider not installed)
    outcome: str
    reason: str | None = None
    message: str | None = None
    advice: Any = None

    def to_document(self) -> dict[str, Any]:
        """JSON form (camelCase)."""
        return {
            "provider": self.provider,
            "projectId": self.project_id,
            "account": self.account,
            "outcome": self.outcome,
            "reason": self.reason,
            "message": self.message,
            "advice": None if self.advice is None else self.advice.to_document(),
        }


@dataclass(frozen=True)
class RefreshReport:
    """What one ``refresh --due`` did: ``rows_read`` rows came back from the due query."""

    within: float
    rows_read: int
    outcomes: list[RefreshOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def refreshed(self) -> int:
        """How many grants were renewed."""
        return sum(o.outcome == "refreshed" for o in self.outcomes)

    @property
    def failed(self) -> list[RefreshOutcome]:
        """The grants that could not be renewed (each with its advice)."""
        return [o for o in self.outcomes if o.outcome == "failed"]

    def to_document(self) -> dict[str, Any]:
        """JSON form (camelCase), as ``refresh --due --json`` prints it."""
        return {
            "within": self.within,
            "rowsRead": self.rows_read,
            "refreshed": self.refreshed,
            "failed": len(self.failed),
            "seconds": round(self.seconds, 3),
            "grants": [o.to_document() for o in self.outcomes],
        }


class DueRefresh:
    """Finds the grants due and renews each once (see the module docstring)."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    def refresh_due(self, *, within: float = DEFAULT_WITHIN) -> RefreshReport:
        """Renew every OAuth grant that expires within ``within`` seconds, and exercise
        every refresh token due before its provider's inactivity limit. Failures are
        reported (and recorded as the grant's health), never raised one by one."""
        if not within >= 0:
            from ..errors import InvalidInput

            raise InvalidInput("--within must be a duration of 0 seconds or more")
        started = time.monotonic()
        parts = self._parts
        now = now_ms()
        cutoff = now + int(within * 1000)
        rows = parts.queries.credentials.due(cutoff)
        outcomes = []
        for row in rows:
            outcome = self._one(row, now, cutoff)
            if outcome is not None:
                outcomes.append(outcome)
        return RefreshReport(within, len(rows), outcomes, time.monotonic() - started)

    def _one(self, row: Any, now: int, cutoff: int) -> RefreshOutcome | None:
        parts = self._parts
        provider_id = str(row["provider"])
        row_scope = Scope.of(row["project_id"] or None, str(row["account"]))
        done = _Outcome(provider_id, row_scope)
        try:
            doc = parts.catalog.document(provider_id)
        except ProviderNotFound:
            return done("skipped", "provider not installed")
        if row["expires_at"] == 0:  # stored before schema 0006: read it once
            try:
                values = parts.vault.open(
                    provider_id, row_scope, *self._sealed(provider_id, row_scope)
                )
            except NaviError as exc:
                return done("failed", "unreadable", exc)
            expires, refresh_by = grant_times(doc, values, now)
            if refresh_by is not None:
                refresh_by = now  # when it was last exercised is not known: now
            parts.queries.credentials.set_grant_times(int(row["id"]), (expires, refresh_by))
            due = any(t is not None and t <= cutoff for t in (expires, refresh_by))
            if not due:
                return None  # now known, and not due: nothing to tell
        if doc["authType"] != "oauth":
            parts.queries.credentials.set_grant_times(int(row["id"]), (None, None))
            return None
        reason = (
            "expires"
            if row["expires_at"] not in (None, 0) and row["expires_at"] <= cutoff
            else "idle"
        )
        try:
            parts.tokens.refresh(provider_id, row_scope, row_scope, due_by=cutoff)
        except NaviError as exc:
            return done("failed", reason, exc)
        return done("refreshed", reason)

    def _sealed(self, provider_id: str, row_scope: Scope) -> tuple[str, bytes]:
        view = self._parts.queries.credentials.credential_view(provider_id, row_scope)
        found = view.project if not row_scope.is_user else view.user
        if found is None or found.scope != row_scope:
            from ..errors import NotConnected

            raise NotConnected(provider_id, row_scope.project_id, account=row_scope.account)
        return found.key_id, found.value


@dataclass(frozen=True)
class _Outcome:
    provider_id: str
    row_scope: Scope

    def __call__(
        self, outcome: str, reason: str | None, exc: NaviError | None = None
    ) -> RefreshOutcome:
        return RefreshOutcome(
            self.provider_id,
            self.row_scope.project_id,
            str(self.row_scope.account),
            outcome,
            reason,
            None if exc is None else exc.message,
            None if exc is None else exc.advice,
        )


#: Seconds between two background runs in ``navi-int serve`` and ``navi-int gateway``.
DEFAULT_INTERVAL = 900.0


def refresh_interval(environ: Mapping[str, str] | None = None) -> float:
    """``NAVI_INTEGRATIONS_REFRESH_INTERVAL`` (seconds; ``0`` turns the background refresh
    off), else :data:`DEFAULT_INTERVAL`. Raises :class:`InvalidInput` for a bad value."""
    import os

    from ..errors import InvalidInput

    raw = (os.environ if environ is None else environ).get("NAVI_INTEGRATIONS_REFRESH_INTERVAL")
    if not raw:
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise InvalidInput(
            f"NAVI_INTEGRATIONS_REFRESH_INTERVAL must be a number of seconds, not {raw!r}",
            hint="for example 900; 0 turns the background refresh off",
        )
    return value


async def refresh_periodically(
    refresh: Callable[..., RefreshReport], interval: float, *, who: str
) -> None:
    """Run ``refresh(within=…)`` (:meth:`DueRefresh.refresh_due`) every ``interval``
    seconds until cancelled, first right away; ``within`` covers two intervals (at least
    :data:`DEFAULT_WITHIN`) so a grant never expires between two runs. Failures are
    logged (their messages hold no secret) and the loop goes on."""
    import asyncio
    import logging

    log = logging.getLogger("navi_integrations.refresh")
    within = max(DEFAULT_WITHIN, 2 * interval)
    while True:
        try:
            report = await asyncio.to_thread(refresh, within=within)
            for failed in report.failed:
                log.warning(
                    "%s: could not refresh %s:%s: %s",
                    who,
                    failed.provider,
                    failed.account,
                    failed.message,
                )
        except Exception as exc:  # the store is busy or gone: next time
            log.warning("%s: background refresh failed: %s", who, exc)
        await asyncio.sleep(interval)
