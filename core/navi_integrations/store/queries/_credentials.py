"""Statements on credential rows and switch rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ...scopes import Scope
from ._base import CredentialRow, CredentialView, QueriesBase, ScopeRows, _bool, now_ms
from .statements import CREDENTIAL_VIEW_SQL

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["CredentialQueries"]


def _account(scope: Scope) -> str:
    """The account column of a row scope (``scope.account``; every row has one)."""
    if scope.account is None:
        raise ValueError(f"a credential row's scope names its account ({scope.label()})")
    return scope.account


class CredentialQueries(QueriesBase):
    """Credentials (sealed values) and switches, in the user scope and projects."""

    # -- credentials ---------------------------------------------------------

    def project_ids(self) -> list[str]:
        """Every project with credentials or switches of its own, sorted."""
        import sqlalchemy as sa

        credentials, defaults, _ = self._tables()
        found = sa.union(
            sa.select(credentials.c.project_id).where(credentials.c.project_id != ""),
            sa.select(defaults.c.project_id).where(defaults.c.project_id != ""),
        )
        with self.store.read() as conn:
            return sorted(str(row[0]) for row in conn.execute(found))

    def credential_rows(self, provider_id: str, scope: Scope) -> list[dict[str, Any]]:
        """Both scopes' rows of a provider with both scopes' switches, by column name
        (:data:`~navi_integrations.statuses.CREDENTIAL_COLUMNS`): the hot read."""
        return self.store.fetch(CREDENTIAL_VIEW_SQL, {"provider": provider_id, "pid": scope.key})

    def credential_view(self, provider_id: str, scope: Scope) -> CredentialView:
        """Both scopes' rows (the accounts ``scope`` picks: its ``account``, else the one it
        uses) and switches, as values."""
        from ...statuses import pick_accounts

        rows = self.credential_rows(provider_id, scope)
        first = rows[0] if rows else None
        user_row, project_row, _ = pick_accounts(
            rows,
            scope.project_id,
            account=scope.account,
            project_account=None if first is None else first["project_account"],
            global_account=None if first is None else first["global_account"],
        )

        def value(row: Mapping[str, Any] | None) -> CredentialRow | None:
            if row is None:
                return None
            return CredentialRow(
                row["id"],
                Scope.of(row["project_id"] or None, str(row["account"])),
                bytes(row["value"]),
                row["key_id"],
                bool(row["enabled"]),
                row["last_used_at"],
            )

        return CredentialView(
            value(user_row),
            value(project_row) if not scope.is_user else None,
            _bool(first["global_enabled"]) if first else None,
            _bool(first["project_enabled"]) if first and not scope.is_user else None,
        )

    def accounts(self, provider_id: str, scope: Scope) -> list[dict[str, Any]]:
        """The provider's accounts stored in exactly ``scope`` (``id``, ``account``,
        ``enabled``), oldest first."""
        import sqlalchemy as sa

        credentials, _, _ = self._tables()
        query = (
            sa.select(credentials.c.id, credentials.c.account, credentials.c.enabled)
            .where(credentials.c.provider == provider_id, credentials.c.project_id == scope.key)
            .order_by(credentials.c.id)
        )
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def bound_to(self, provider_id: str, account: str) -> list[str]:
        """The scopes (``project_id`` column values) whose switch row names ``account``."""
        import sqlalchemy as sa

        _, defaults, _ = self._tables()
        query = sa.select(defaults.c.project_id).where(
            defaults.c.provider == provider_id, defaults.c.account == account
        )
        with self.store.read() as conn:
            return sorted(str(r[0]) for r in conn.execute(query))

    def save_credential(
        self,
        conn: sa.Connection,
        provider_id: str,
        scope: Scope,
        blob: bytes,
        key_id: str,
        *,
        expires_at: int | None = None,
        refresh_by: int | None = None,
    ) -> None:
        """Insert or replace the sealed credentials of one account (``scope.account``) in a
        scope (errors reset, enabled), with its grant's expiry columns.

        Saving counts as a use (``last_used_at``): the first read after ``connect``
        has nothing to write, and costs what every later read costs.
        """
        credentials, _, _ = self._tables()
        now = now_ms()
        row = {
            "provider": provider_id,
            "scope": scope.kind,
            "project_id": scope.key,
            "account": _account(scope),
            "value": blob,
            "key_id": key_id,
            "enabled": True,
            "error_count": 0,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
            "last_used_at": now,
            "expires_at": expires_at,
            "refresh_by": refresh_by,
        }
        kept = (
            "value",
            "key_id",
            "enabled",
            "error_count",
            "last_error",
            "last_used_at",
            "expires_at",
            "refresh_by",
        )
        update = {k: row[k] for k in kept}
        update["updated_at"] = now
        self._upsert(conn, credentials, row, update, account=True)

    def clear_health(self, conn: sa.Connection, provider_id: str, scope: Scope) -> None:
        """Forget a credential row's health (its credentials were just replaced)."""
        _, _, status = self._tables()
        conn.execute(
            status.delete().where(
                status.c.provider == provider_id,
                status.c.project_id == scope.key,
                status.c.account == _account(scope),
            )
        )

    def delete_connection(self, provider_id: str, scope: Scope) -> bool:
        """Delete one account's credentials (``scope.account``) in a scope and their health;
        whether credentials existed."""
        credentials, _, status = self._tables()
        account = _account(scope)
        with self.store.write() as conn:
            deleted = conn.execute(
                credentials.delete().where(
                    credentials.c.provider == provider_id,
                    credentials.c.project_id == scope.key,
                    credentials.c.account == account,
                )
            ).rowcount
            conn.execute(
                status.delete().where(
                    status.c.provider == provider_id,
                    status.c.project_id == scope.key,
                    status.c.account == account,
                )
            )
        return bool(deleted)

    def delete_provider(self, provider_id: str) -> int:
        """Delete a provider's credentials and health in every scope; how many rows of
        credentials there were. Its switches stay (they are the user's settings)."""
        credentials, _, status = self._tables()
        with self.store.write() as conn:
            deleted = conn.execute(
                credentials.delete().where(credentials.c.provider == provider_id)
            ).rowcount
            conn.execute(status.delete().where(status.c.provider == provider_id))
        return int(deleted)

    def touch(self, credential_id: int) -> None:
        """Record a use of a credential row now."""
        import sqlalchemy as sa

        from ..reads import TOUCH_SQL

        with self.store.write() as conn:  # the fast path's statement (store.reads)
            conn.execute(sa.text(TOUCH_SQL), {"now": now_ms(), "id": credential_id})

    def lock_credential(
        self, conn: sa.Connection, provider_id: str, scope: Scope
    ) -> Mapping[str, Any] | None:
        """Read a credential row inside a write transaction, holding it (FOR UPDATE on PG)."""
        import sqlalchemy as sa

        credentials, _, _ = self._tables()
        query = sa.select(
            credentials.c.id,
            credentials.c.value,
            credentials.c.key_id,
            credentials.c.expires_at,
            credentials.c.refresh_by,
        ).where(
            credentials.c.provider == provider_id,
            credentials.c.project_id == scope.key,
            credentials.c.account == _account(scope),
        )
        if self.store.dialect == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        return None if row is None else dict(row._mapping)

    def replace_value(
        self,
        conn: sa.Connection,
        row_id: int,
        blob: bytes,
        key_id: str,
        *,
        times: tuple[int | None, int | None] | None = None,
    ) -> None:
        """Replace a row's sealed value (after a refresh), inside the caller's transaction;
        ``times``: its new ``expires_at`` and ``refresh_by`` (unchanged when ``None``)."""
        credentials, _, _ = self._tables()
        values: dict[str, Any] = {"value": blob, "key_id": key_id, "updated_at": now_ms()}
        if times is not None:
            values["expires_at"], values["refresh_by"] = times
        conn.execute(credentials.update().where(credentials.c.id == row_id).values(**values))

    def set_grant_times(self, row_id: int, times: tuple[int | None, int | None]) -> None:
        """Set a row's ``expires_at`` and ``refresh_by`` (a row stored before they existed)."""
        credentials, _, _ = self._tables()
        with self.store.write() as conn:
            conn.execute(
                credentials.update()
                .where(credentials.c.id == row_id)
                .values(expires_at=times[0], refresh_by=times[1])
            )

    def due(self, cutoff: int) -> list[dict[str, Any]]:
        """Rows whose grant is due by ``cutoff`` (:data:`DUE_SQL`: two index ranges)."""
        from .statements import DUE_SQL

        return self.store.fetch(DUE_SQL, {"cutoff": cutoff})

    # -- switches ------------------------------------------------------------

    def set_switches(
        self, provider_id: str, scope: Scope, changes: Mapping[str, bool | str]
    ) -> None:
        """Set some of ``enabled``/``mcp_enabled``/``skill_enabled`` for a scope, or
        ``account``: the account the scope uses."""
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
        ``skill_enabled``; None where unset: inherited) and the ``account`` it uses (None:
        unset); providers with no row are left out."""
        _, table, _ = self._tables()
        names = ("enabled", "mcp_enabled", "skill_enabled")
        query = table.select().where(
            table.c.provider.in_(list(provider_ids)), table.c.project_id == scope.key
        )
        with self.store.read() as conn:
            return {
                r.provider: {
                    **{n: _bool(r._mapping[n]) for n in names},
                    "account": r._mapping["account"],
                }
                for r in conn.execute(query)
            }

    def reset_switches(self, provider_id: str, scope: Scope, columns: Iterable[str]) -> bool:
        """Unset some of ``enabled``/``mcp_enabled``/``skill_enabled`` in a scope so they
        inherit again; a row left with nothing set is deleted. Returns whether any was set."""
        import sqlalchemy as sa

        _, table, _ = self._tables()
        every = ("enabled", "mcp_enabled", "skill_enabled", "account")
        names = [c for c in every if c in set(columns)]
        if not names:
            return False
        where = (table.c.provider == provider_id, table.c.project_id == scope.key)
        with self.store.write() as conn:
            changed = conn.execute(
                table.update()
                .where(*where, sa.or_(*(table.c[n].is_not(None) for n in names)))
                .values(**dict.fromkeys(names))
            ).rowcount
            unset = (table.c[n].is_(None) for n in every)
            conn.execute(table.delete().where(*where, *unset))
        return bool(changed)

    def scope_rows(self, provider_ids: Iterable[str], scope: Scope) -> ScopeRows:
        """The three tables' rows for the providers, in the user scope and ``scope``."""
        import sqlalchemy as sa

        credentials, defaults, status = self._tables()
        ids = list(provider_ids)
        keys = sorted({"", scope.key})

        def rows(table: sa.Table, *columns: sa.Column[Any]) -> list[dict[str, Any]]:
            query = sa.select(table.c.provider, table.c.project_id, *columns).where(
                table.c.provider.in_(ids), table.c.project_id.in_(keys)
            )
            return [dict(r._mapping) for r in conn.execute(query)]

        with self.store.read() as conn:
            return ScopeRows(
                rows(
                    credentials,
                    credentials.c.id,
                    credentials.c.account,
                    credentials.c.enabled,
                    credentials.c.last_error,
                    credentials.c.last_used_at,
                ),
                rows(
                    defaults,
                    defaults.c.enabled,
                    defaults.c.mcp_enabled,
                    defaults.c.skill_enabled,
                    defaults.c.account,
                ),
                rows(
                    status,
                    status.c.account,
                    status.c.status,
                    status.c.rate_limited_until,
                    status.c.error_message,
                    status.c.last_check_at,
                    status.c.last_success_at,
                    status.c.metadata,
                ),
            )
