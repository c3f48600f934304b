"""Every SQL statement of the library, in one place, over the tables alembic owns.

Reads return plain values read by column name; writes take the transaction
(``conn``) of the caller when they must happen inside one, so that sealing a
value and writing it, or re-reading a row before refreshing it, is atomic.
SQLAlchemy is imported by the methods that use it; the hot single-statement
reads go through :meth:`Store.fetch` (the driver, no ORM).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..scopes import Scope

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .engine import Store

__all__ = ["CREDENTIAL_VIEW_SQL", "CredentialRow", "CredentialView", "Queries", "ScopeRows"]

#: Both scopes' credentials of one provider, and both scopes' "enabled" switch: one statement.
#: Two equality lookups joined by UNION ALL, not ``IN (:pid, '')``: SQLite builds a
#: temporary index for an IN list on every run, a third of this statement's cost.
CREDENTIAL_VIEW_SQL = """
SELECT c.id, c.project_id, c.value, c.key_id, c.enabled, c.last_used_at,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = :provider AND d.project_id = :pid) AS project_enabled,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = :provider AND d.project_id = '') AS global_enabled
FROM credentials c WHERE c.provider = :provider AND c.project_id = :pid
UNION ALL
SELECT c.id, c.project_id, c.value, c.key_id, c.enabled, c.last_used_at,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = :provider AND d.project_id = :pid) AS project_enabled,
  (SELECT d.enabled FROM integration_defaults d
    WHERE d.provider = :provider AND d.project_id = '') AS global_enabled
FROM credentials c WHERE c.provider = :provider AND c.project_id = '' AND :pid <> ''
"""

#: The health row of one credential row and its consecutive error count.
STATUS_OF_SQL = """
SELECT s.status, c.error_count FROM credentials c LEFT JOIN integration_status s
  ON s.provider = c.provider AND s.project_id = c.project_id
WHERE c.provider = :provider AND c.project_id = :pid
"""

RATE_LIMIT_SQL = """
SELECT project_id, rate_limited_until FROM integration_status
WHERE provider = :provider AND project_id IN (:pid, '')
"""


#: A cheap fingerprint of every row a status document depends on: it changes when any
#: process connects, disconnects, switches or records health (see Queries.change_marker).
CHANGE_MARKER_SQL = """
SELECT
  (SELECT COUNT(*) FROM credentials) AS credentials,
  (SELECT COALESCE(MAX(updated_at), 0) FROM credentials) AS credentials_at,
  (SELECT COUNT(*) FROM integration_status) AS status,
  (SELECT COALESCE(MAX(last_check_at), 0) FROM integration_status) AS checked_at,
  (SELECT COALESCE(MAX(rate_limited_until), 0) FROM integration_status) AS held_until,
  (SELECT COUNT(*) FROM integration_defaults) AS switches,
  (SELECT COALESCE(SUM((LENGTH(id) + 1) * (
      CASE WHEN enabled IS NULL THEN 0 WHEN enabled THEN 1 ELSE 2 END
    + CASE WHEN mcp_enabled IS NULL THEN 0 WHEN mcp_enabled THEN 3 ELSE 6 END
    + CASE WHEN skill_enabled IS NULL THEN 0 WHEN skill_enabled THEN 9 ELSE 18 END)), 0)
   FROM integration_defaults) AS switch_sum
"""

#: PostgreSQL advisory lock id that orders sealing writers and key rotation.
ROTATION_LOCK = 0x6E617672


def now_ms() -> int:
    """Milliseconds since the epoch: the store's time unit."""
    return int(time.time() * 1000)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True)
class CredentialRow:
    """One stored credential set (still sealed)."""

    id: int
    scope: Scope
    value: bytes
    key_id: str
    enabled: bool
    last_used_at: int | None


@dataclass(frozen=True)
class CredentialView:
    """What one statement tells about a provider's credentials in a scope."""

    user: CredentialRow | None
    project: CredentialRow | None
    global_enabled: bool | None
    project_enabled: bool | None

    def in_effect(self) -> CredentialRow | None:
        """The row that applies: the project's own enabled credentials, else the user's."""
        if self.project is not None and self.project.enabled:
            return self.project
        if self.user is not None and self.user.enabled:
            return self.user
        return None


@dataclass(frozen=True)
class ScopeRows:
    """The rows of the three tables for some providers, in the user scope and one project.

    Each maps ``(provider, project_id column)`` to the row as a mapping by column name.
    """

    credentials: dict[tuple[str, str], Mapping[str, Any]]
    switches: dict[tuple[str, str], Mapping[str, Any]]
    status: dict[tuple[str, str], Mapping[str, Any]]


class Queries:
    """The statements, bound to one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # Audit writes queue here rather than in SQLite's busy handler, whose sleeps back
        # off up to 100 ms: many threads reading tokens at once would wait far longer.
        self._audit_lock = threading.Lock()

    @staticmethod
    def _tables() -> tuple[sa.Table, sa.Table, sa.Table]:
        from .tables import CREDENTIALS, DEFAULTS, STATUS

        return CREDENTIALS, DEFAULTS, STATUS

    def _upsert(
        self, conn: sa.Connection, table: sa.Table, values: dict[str, Any], update: dict[str, Any]
    ) -> None:
        keys = ["provider", "project_id"]
        dialect = self.store.dialect
        if dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            lite = sqlite.insert(table).values(**values)
            conn.execute(lite.on_conflict_do_update(index_elements=keys, set_=update))
            return
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            pg = postgresql.insert(table).values(**values)
            conn.execute(pg.on_conflict_do_update(index_elements=keys, set_=update))
            return
        where = [table.c[k] == values[k] for k in keys]
        if conn.execute(table.update().where(*where).values(**update)).rowcount == 0:
            conn.execute(table.insert().values(**values))

    # -- credentials ---------------------------------------------------------

    def credential_rows(self, provider_id: str, scope: Scope) -> list[dict[str, Any]]:
        """Both scopes' rows of a provider with both scopes' switches, by column name
        (:data:`~navi_integrations.statuses.CREDENTIAL_COLUMNS`): the hot read."""
        return self.store.fetch(CREDENTIAL_VIEW_SQL, {"provider": provider_id, "pid": scope.key})

    def credential_view(self, provider_id: str, scope: Scope) -> CredentialView:
        """Both scopes' rows and switches, as values."""
        rows = self.credential_rows(provider_id, scope)
        by_key = {
            row["project_id"]: CredentialRow(
                row["id"],
                Scope.from_key(row["project_id"]),
                bytes(row["value"]),
                row["key_id"],
                bool(row["enabled"]),
                row["last_used_at"],
            )
            for row in rows
        }
        first = rows[0] if rows else None
        return CredentialView(
            by_key.get(""),
            by_key.get(scope.key) if not scope.is_user else None,
            _bool(first["global_enabled"]) if first else None,
            _bool(first["project_enabled"]) if first and not scope.is_user else None,
        )

    def save_credential(
        self, conn: sa.Connection, provider_id: str, scope: Scope, blob: bytes, key_id: str
    ) -> None:
        """Insert or replace a scope's sealed credentials (errors reset, enabled)."""
        credentials, _, _ = self._tables()
        now = now_ms()
        row = {
            "provider": provider_id,
            "scope": scope.kind,
            "project_id": scope.key,
            "value": blob,
            "key_id": key_id,
            "enabled": True,
            "error_count": 0,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        }
        update = {k: row[k] for k in ("value", "key_id", "enabled", "error_count", "last_error")}
        update["updated_at"] = now
        self._upsert(conn, credentials, row, update)

    def clear_health(self, conn: sa.Connection, provider_id: str, scope: Scope) -> None:
        """Forget a credential row's health (its credentials were just replaced)."""
        _, _, status = self._tables()
        conn.execute(
            status.delete().where(
                status.c.provider == provider_id, status.c.project_id == scope.key
            )
        )

    def delete_connection(self, provider_id: str, scope: Scope) -> bool:
        """Delete a scope's credentials and their health; whether credentials existed."""
        credentials, _, status = self._tables()
        with self.store.write() as conn:
            deleted = conn.execute(
                credentials.delete().where(
                    credentials.c.provider == provider_id, credentials.c.project_id == scope.key
                )
            ).rowcount
            conn.execute(
                status.delete().where(
                    status.c.provider == provider_id, status.c.project_id == scope.key
                )
            )
        return bool(deleted)

    def touch(self, credential_id: int) -> None:
        """Record a use of a credential row now."""
        credentials, _, _ = self._tables()
        with self.store.write() as conn:
            conn.execute(
                credentials.update()
                .where(credentials.c.id == credential_id)
                .values(last_used_at=now_ms())
            )

    def lock_credential(
        self, conn: sa.Connection, provider_id: str, scope: Scope
    ) -> Mapping[str, Any] | None:
        """Read a credential row inside a write transaction, holding it (FOR UPDATE on PG)."""
        import sqlalchemy as sa

        credentials, _, _ = self._tables()
        query = sa.select(credentials.c.id, credentials.c.value, credentials.c.key_id).where(
            credentials.c.provider == provider_id, credentials.c.project_id == scope.key
        )
        if self.store.dialect == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        return None if row is None else dict(row._mapping)

    def replace_value(self, conn: sa.Connection, row_id: int, blob: bytes, key_id: str) -> None:
        """Replace a row's sealed value (after a refresh), inside the caller's transaction."""
        credentials, _, _ = self._tables()
        conn.execute(
            credentials.update()
            .where(credentials.c.id == row_id)
            .values(value=blob, key_id=key_id, updated_at=now_ms())
        )

    # -- switches ------------------------------------------------------------

    def set_switches(self, provider_id: str, scope: Scope, changes: Mapping[str, bool]) -> None:
        """Set some of ``enabled``/``mcp_enabled``/``skill_enabled`` for a scope."""
        _, defaults, _ = self._tables()
        row = {
            "id": f"{provider_id}:{scope.project_id or 'global'}",
            "provider": provider_id,
            "project_id": scope.key,
            **changes,
        }
        with self.store.write() as conn:
            self._upsert(conn, defaults, row, dict(changes))

    def own_switches(self, provider_ids: Iterable[str], scope: Scope) -> dict[str, Any]:
        """Each provider's switches as set in exactly ``scope`` (``enabled``, ``mcp_enabled``,
        ``skill_enabled``; None where unset: inherited); providers with no row are left out."""
        _, table, _ = self._tables()
        names = ("enabled", "mcp_enabled", "skill_enabled")
        query = table.select().where(
            table.c.provider.in_(list(provider_ids)), table.c.project_id == scope.key
        )
        with self.store.read() as conn:
            return {
                r.provider: {n: _bool(r._mapping[n]) for n in names} for r in conn.execute(query)
            }

    def reset_switches(self, provider_id: str, scope: Scope, columns: Iterable[str]) -> bool:
        """Unset some of ``enabled``/``mcp_enabled``/``skill_enabled`` in a scope so they
        inherit again; a row left with nothing set is deleted. Returns whether any was set."""
        import sqlalchemy as sa

        _, table, _ = self._tables()
        names = [c for c in ("enabled", "mcp_enabled", "skill_enabled") if c in set(columns)]
        if not names:
            return False
        where = (table.c.provider == provider_id, table.c.project_id == scope.key)
        with self.store.write() as conn:
            changed = conn.execute(
                table.update()
                .where(*where, sa.or_(*(table.c[n].is_not(None) for n in names)))
                .values(**dict.fromkeys(names))
            ).rowcount
            unset = (table.c[n].is_(None) for n in ("enabled", "mcp_enabled", "skill_enabled"))
            conn.execute(table.delete().where(*where, *unset))
        return bool(changed)

    def scope_rows(self, provider_ids: Iterable[str], scope: Scope) -> ScopeRows:
        """The three tables' rows for the providers, in the user scope and ``scope``."""
        import sqlalchemy as sa

        credentials, defaults, status = self._tables()
        ids = list(provider_ids)
        keys = sorted({"", scope.key})

        def rows(table: sa.Table, *columns: sa.Column[Any]) -> dict[tuple[str, str], Any]:
            query = sa.select(table.c.provider, table.c.project_id, *columns).where(
                table.c.provider.in_(ids), table.c.project_id.in_(keys)
            )
            return {(r.provider, r.project_id): dict(r._mapping) for r in conn.execute(query)}

        with self.store.read() as conn:
            return ScopeRows(
                rows(credentials, credentials.c.enabled, credentials.c.last_error),
                rows(
                    defaults, defaults.c.enabled, defaults.c.mcp_enabled, defaults.c.skill_enabled
                ),
                rows(
                    status,
                    status.c.status,
                    status.c.rate_limited_until,
                    status.c.error_message,
                    status.c.last_check_at,
                    status.c.last_success_at,
                    status.c.metadata,
                ),
            )

    # -- health --------------------------------------------------------------

    def health_rows(
        self, provider_id: str, row_scope: Scope
    ) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
        """The status row and the credential row's error columns of one credential scope."""
        import sqlalchemy as sa

        credentials, _, status = self._tables()
        with self.store.read() as conn:
            found = conn.execute(
                sa.select(status).where(
                    status.c.provider == provider_id, status.c.project_id == row_scope.key
                )
            ).first()
            cred = conn.execute(
                sa.select(credentials.c.error_count, credentials.c.last_error).where(
                    credentials.c.provider == provider_id,
                    credentials.c.project_id == row_scope.key,
                )
            ).first()
        return (
            None if found is None else dict(found._mapping),
            None if cred is None else dict(cred._mapping),
        )

    def rate_limited_until(self, provider_id: str, scope: Scope) -> int | None:
        """The stored Retry-After deadline (epoch ms) that applies to ``scope``, if any.

        The project's own row when it has one (its own credentials), else the user's.
        """
        rows = self.store.fetch(RATE_LIMIT_SQL, {"provider": provider_id, "pid": scope.key})
        found = {r["project_id"]: r["rate_limited_until"] for r in rows}
        until = found.get(scope.key) if scope.key in found else found.get("")
        return None if until is None else int(until)

    def status_of(self, provider_id: str, row_scope: Scope) -> tuple[str, int]:
        """(health status, consecutive errors) of a credential row, in one cheap query."""
        rows = self.store.fetch(STATUS_OF_SQL, {"provider": provider_id, "pid": row_scope.key})
        if not rows:
            return "unknown", 0
        return rows[0]["status"] or "unknown", int(rows[0]["error_count"] or 0)

    def hold(self, provider_id: str, row_scope: Scope, until: int) -> None:
        """Store a Retry-After deadline for a credential row; a later one already set is kept."""
        import sqlalchemy as sa

        _, _, status = self._tables()
        with self.store.write() as conn:
            current = conn.execute(
                sa.select(status.c.rate_limited_until).where(
                    status.c.provider == provider_id, status.c.project_id == row_scope.key
                )
            ).first()
            if current is not None and (current[0] or 0) >= until:
                return
            row = {
                "id": f"{provider_id}:{row_scope.project_id or 'global'}",
                "provider": provider_id,
                "project_id": row_scope.key,
                "status": "degraded",
                "rate_limited_until": until,
            }
            self._upsert(conn, status, row, {"rate_limited_until": until})

    def record_outcome(
        self,
        provider_id: str,
        row_scope: Scope,
        *,
        ok: bool,
        error_text: str | None,
        account: str | None,
        retry_until: int | None,
        status_after: Any,
    ) -> tuple[str, int]:
        """Store one check or call outcome; returns (new status, consecutive errors).

        ``status_after(consecutive_errors)`` computes the new status inside the
        transaction, from the error count this very write produced.
        """
        import sqlalchemy as sa

        credentials, _, status_table = self._tables()
        now = now_ms()
        where = (credentials.c.provider == provider_id) & (
            credentials.c.project_id == row_scope.key
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
                "id": f"{provider_id}:{row_scope.project_id or 'global'}",
                "provider": provider_id,
                "project_id": row_scope.key,
                "status": status,
                "last_check_at": now,
                "last_success_at": now if ok else None,
                "error_message": error_text,
                "error_total": 0 if ok else 1,
                "rate_limited_until": retry_until,
                "metadata": meta,
            }
            update: dict[str, Any] = {
                "status": status,
                "last_check_at": now,
                "error_message": error_text,
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
            self._upsert(conn, status_table, row, update)
        return status, count

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
        from .tables import AUDIT

        with self._audit_lock, self.store.write() as conn:
            # Parameters apart from the statement: its compiled form is cached (hot path).
            conn.execute(AUDIT.insert(), {**entry, "at": now_ms()})

    def audit_entries(
        self, *, limit: int = 100, kind: str | None = None, provider: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit entries first, optionally of one kind or provider."""
        import sqlalchemy as sa

        from .tables import AUDIT

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
