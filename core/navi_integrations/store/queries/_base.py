"""What every group of statements shares: the time unit, row values, the upsert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...scopes import Scope, credential_scope
from ..driver import now_ms

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ..engine import Store

__all__ = ["CredentialRow", "CredentialView", "QueriesBase", "ScopeRows", "now_ms"]


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
        """The row that applies: the project's own enabled credentials, else the user's
        (:func:`~navi_integrations.scopes.credential_scope`; switches aside)."""
        applies = credential_scope(
            None if self.user is None else self.user.enabled,
            None if self.project is None else self.project.enabled,
        )
        return self.project if applies == "project" else self.user if applies else None


@dataclass(frozen=True)
class ScopeRows:
    """The rows of the three tables for some providers, in the user scope and one project,
    each as a mapping by column name (one credential and health row per account)."""

    credentials: Sequence[Mapping[str, Any]]
    switches: Sequence[Mapping[str, Any]]
    status: Sequence[Mapping[str, Any]]


class QueriesBase:
    """A store and the helpers every group of statements shares (a base, not a mixin:
    each group stands alone, and :class:`Queries` holds one of each)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _tables() -> tuple[sa.Table, sa.Table, sa.Table]:
        from ..tables import CREDENTIALS, DEFAULTS, STATUS

        return CREDENTIALS, DEFAULTS, STATUS

    def _upsert(
        self,
        conn: sa.Connection,
        table: sa.Table,
        values: dict[str, Any],
        update: dict[str, Any],
        *,
        account: bool = False,
    ) -> None:
        """Insert ``values`` or, on the row with the same scope (and ``account``), set
        ``update``."""
        keys = ["provider", "project_id", "account"] if account else ["provider", "project_id"]
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
