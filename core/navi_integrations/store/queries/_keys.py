"""Statements for key rotation, the audit trail and change detection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._base import QueriesBase, now_ms
from .statements import CHANGE_MARKER_SQL

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["CHANGE_MARKER_SQL", "ROTATION_LOCK", "KeyQueries"]

#: PostgreSQL advisory lock id that orders sealing writers and key rotation.
ROTATION_LOCK = 0x6E617672


class KeyQueries(QueriesBase):
    """Sealed rows by key (rotation), audit entries, and a change marker."""

    # -- rotation ------------------------------------------------------------

    def lock_rotation(self, conn: sa.Connection, *, exclusive: bool) -> None:
        """On PostgreSQL, the lock that orders sealing writers (shared) and key promotion or
        retirement (exclusive), for the transaction. SQLite's write lock already does it."""
        if self.store.dialect != "postgresql":
            return
        import sqlalchemy as sa

        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        conn.execute(sa.text(f"SELECT {function}(:k)"), {"k": ROTATION_LOCK})

    def count_sealed_without(self, conn: sa.Connection, key_id: str) -> int:
        """How many rows are sealed with another key than ``key_id``."""
        import sqlalchemy as sa

        credentials, _, _ = self._tables()
        found = conn.execute(
            sa.select(sa.func.count()).where(credentials.c.key_id != key_id)
        ).scalar_one()
        return int(found)

    def sealed_without(
        self, key_id: str, skip: Iterable[int], limit: int
    ) -> list[Mapping[str, Any]]:
        """The next rows sealed with another key than ``key_id`` (ids in ``skip`` excluded)."""
        import sqlalchemy as sa

        credentials, _, _ = self._tables()
        c = credentials.c
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(c.id, c.provider, c.scope, c.project_id, c.value, c.key_id)
                .where(c.key_id != key_id, c.id.not_in(list(skip)))
                .order_by(c.id)
                .limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    def reseal(
        self,
        conn: sa.Connection,
        row_id: int,
        *,
        old_value: bytes,
        blob: bytes,
        key_id: str,
    ) -> bool:
        """Replace a row's value only if it still holds ``old_value`` (no lost update)."""
        credentials, _, _ = self._tables()
        updated = conn.execute(
            credentials.update()
            .where(credentials.c.id == row_id, credentials.c.value == old_value)
            .values(value=blob, key_id=key_id)
        ).rowcount
        return bool(updated)

    def key_counts(self) -> dict[str, int]:
        """How many rows each key id seals."""
        import sqlalchemy as sa

        credentials, _, _ = self._tables()
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(credentials.c.key_id, sa.func.count()).group_by(credentials.c.key_id)
            ).all()
        return {str(key_id): int(count) for key_id, count in rows}

    def key_ids_in_use(self, conn: sa.Connection | None = None) -> set[str]:
        """The ids of every key some row is sealed with."""
        import sqlalchemy as sa

        credentials, _, _ = self._tables()
        query = sa.select(credentials.c.key_id).distinct()
        if conn is not None:
            return set(conn.execute(query).scalars())
        with self.store.read() as own:
            return set(own.execute(query).scalars())

    # -- audit and change detection -----------------------------------------

    def record_audit(self, entry: Mapping[str, Any]) -> None:
        """Append one audit entry (``kind``, ``provider``, ``project_id``, ``caller``…)."""
        from ..tables import AUDIT

        with self._audit_lock, self.store.write() as conn:
            # Parameters apart from the statement: its compiled form is cached (hot path).
            conn.execute(AUDIT.insert(), {**entry, "at": now_ms()})

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
