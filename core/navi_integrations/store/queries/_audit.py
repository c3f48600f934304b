"""Statements for the audit trail and change detection."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._base import QueriesBase, now_ms
from .statements import CHANGE_MARKER_SQL

if TYPE_CHECKING:
    from ..engine import Store

__all__ = ["CHANGE_MARKER_SQL", "AuditQueries"]


class AuditQueries(QueriesBase):
    """Audit entries (token reads, tool calls) and a fingerprint of what status reads see."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        # Audit writes queue here rather than in SQLite's busy handler, whose sleeps back
        # off up to 100 ms: many threads reading tokens at once would wait far longer.
        self._audit_lock = threading.Lock()

    def record_audit(self, entry: Mapping[str, Any]) -> None:
        """Append one audit entry (``kind``, ``provider``, ``project_id``, ``caller``…)."""
        from ..tables import AUDIT

        with self._audit_lock, self.store.write() as conn:
            # Parameters apart from the statement: its compiled form is cached (hot path).
            conn.execute(AUDIT.insert(), {"at": now_ms(), **entry})

    def record_audits(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append several audit entries in one transaction (one statement, executemany)."""
        from ..tables import AUDIT

        if not entries:
            return
        at = now_ms()
        with self._audit_lock, self.store.write() as conn:
            conn.execute(AUDIT.insert(), [{"at": at, **entry} for entry in entries])

    def audit_entries(
        self, *, limit: int = 100, kind: str | None = None, provider: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit entries first, optionally of one kind or provider."""
        import sqlalchemy as sa

        from ..tables import AUDIT

        query = sa.select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(AUDIT.c.kind == kind)
        if provider is not None:
            query = query.where(AUDIT.c.provider == provider)
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def change_marker(self) -> tuple[Any, ...]:
        """A fingerprint of the rows status documents are built from, in one statement.

        Equal markers mean nothing changed, so a server can poll this to notice
        changes made by other processes (the CLI, another server on the same
        PostgreSQL) and only then rebuild its documents.
        """
        row = self.store.fetch(CHANGE_MARKER_SQL, {})[0]
        return tuple(int(v or 0) for v in row.values())
