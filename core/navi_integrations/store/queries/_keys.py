"""Statements for key rotation: which rows each key sealed, and the lock that orders them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._base import QueriesBase

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["ROTATION_LOCK", "KeyQueries"]

#: PostgreSQL advisory lock id that orders sealing writers and key rotation.
ROTATION_LOCK = 0x6E617672


class KeyQueries(QueriesBase):
    """Sealed rows by key, for rotation, and the lock that orders sealing writers."""

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
