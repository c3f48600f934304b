"""Statements on health rows: outcomes, Retry-After holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...scopes import Scope
from ._base import QueriesBase, now_ms
from ._credentials import _account
from .statements import RATE_LIMIT_SQL, STATUS_OF_SQL

__all__ = ["RATE_LIMIT_SQL", "STATUS_OF_SQL", "HealthQueries"]


class HealthQueries(QueriesBase):
    """Health status, error counts and Retry-After deadlines of credential rows."""

    # -- health --------------------------------------------------------------

    def health_rows(
        self, provider_id: str, row_scope: Scope
    ) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
        """The status row and the credential row's error columns of one credential scope."""
        import sqlalchemy as sa

        credentials, _, status = self._tables()
        account = _account(row_scope)
        with self.store.read() as conn:
            found = conn.execute(
                sa.select(status).where(
                    status.c.provider == provider_id,
                    status.c.project_id == row_scope.key,
                    status.c.account == account,
                )
            ).first()
            cred = conn.execute(
                sa.select(credentials.c.error_count, credentials.c.last_error).where(
                    credentials.c.provider == provider_id,
                    credentials.c.project_id == row_scope.key,
                    credentials.c.account == account,
                )
            ).first()
        return (
            None if found is None else dict(found._mapping),
            None if cred is None else dict(cred._mapping),
        )

    def rate_limited_until(self, provider_id: str, row_scope: Scope) -> int | None:
        """The stored Retry-After deadline (epoch ms) of one credential row, if any."""
        params = {"provider": provider_id, "pid": row_scope.key, "account": _account(row_scope)}
        rows = self.store.fetch(RATE_LIMIT_SQL, params)
        until = rows[0]["rate_limited_until"] if rows else None
        return None if until is None else int(until)

    def status_of(self, provider_id: str, row_scope: Scope) -> tuple[str, int]:
        """(health status, consecutive errors) of a credential row, in one cheap query."""
        params = {"provider": provider_id, "pid": row_scope.key, "account": _account(row_scope)}
        rows = self.store.fetch(STATUS_OF_SQL, params)
        if not rows:
            return "unknown", 0
        return rows[0]["status"] or "unknown", int(rows[0]["error_count"] or 0)

    def hold(self, provider_id: str, row_scope: Scope, until: int) -> None:
        """Store a Retry-After deadline for a credential row; a later one already set is kept."""
        import sqlalchemy as sa

        _, _, status = self._tables()
        account = _account(row_scope)
        with self.store.write() as conn:
            current = conn.execute(
                sa.select(status.c.rate_limited_until).where(
                    status.c.provider == provider_id,
                    status.c.project_id == row_scope.key,
                    status.c.account == account,
                )
            ).first()
            if current is not None and (current[0] or 0) >= until:
                return
            row = {
                "id": status_id(provider_id, row_scope),
                "provider": provider_id,
                "project_id": row_scope.key,
                "account": account,
                "status": "degraded",
                "rate_limited_until": until,
            }
            self._upsert(conn, status, row, {"rate_limited_until": until}, account=True)

    def record_outcome(
        self,
        provider_id: str,
        row_scope: Scope,
        *,
        ok: bool,
        error_text: str | None,
        account: str | None,
        error_kind: str | None = None,
        retry_until: int | None,
        status_after: Any,
    ) -> tuple[str, int]:
        """Store one check or call outcome; returns (new status, consecutive errors).

        ``status_after(consecutive_errors)`` computes the new status inside the
        transaction, from the error count this very write produced. ``error_kind``
        is the failure kind of ``error_text`` (kept to word its advice later).
        """
        import sqlalchemy as sa

        credentials, _, status_table = self._tables()
        now = now_ms()
        name = _account(row_scope)  # the row's account; ``account`` is the identity reported
        where = (
            (credentials.c.provider == provider_id)
            & (credentials.c.project_id == row_scope.key)
            & (credentials.c.account == name)
        )
        with self.store.write() as conn:
            if ok:
                conn.execute(
                    credentials.update().where(where).values(error_count=0, last_error=None)
                )
                count = 0
            else:
                conn.execute(
                    credentials.update()
                    .where(where)
                    .values(error_count=credentials.c.error_count + 1, last_error=error_text)
                )
                found = conn.execute(sa.select(credentials.c.error_count).where(where)).scalar()
                count = int(found or 0)
            status = str(status_after(count))
            meta = json.dumps({"account": account}) if ok and account else None
            row: dict[str, Any] = {
                "id": status_id(provider_id, row_scope),
                "provider": provider_id,
                "project_id": row_scope.key,
                "account": name,
                "status": status,
                "last_check_at": now,
                "last_success_at": now if ok else None,
                "error_message": error_text,
                "error_kind": error_kind,
                "error_total": 0 if ok else 1,
                "rate_limited_until": retry_until,
                "metadata": meta,
            }
            update: dict[str, Any] = {
                "status": status,
                "last_check_at": now,
                "error_message": error_text,
                "error_kind": error_kind,
            }
            if ok:
                # A success does not lift a Retry-After: it may have been in flight before it.
                update["last_success_at"] = now
                if meta:
                    update["metadata"] = meta
            else:
                update["error_total"] = status_table.c.error_total + 1
                if retry_until is not None:  # never earlier than a deadline already set
                    update["rate_limited_until"] = sa.case(
                        (
                            status_table.c.rate_limited_until > retry_until,
                            status_table.c.rate_limited_until,
                        ),
                        else_=retry_until,
                    )
            self._upsert(conn, status_table, row, update, account=True)
        return status, count


def status_id(provider_id: str, row_scope: Scope) -> str:
    """The primary key of a credential row's health row (``provider:global:account``)."""
    return f"{provider_id}:{row_scope.project_id or 'global'}:{_account(row_scope)}"
