"""One DB-API connection read by column name: the store's hot reads and the fast path's.

It imports nothing of the store but the driver it is handed, so that both
:class:`~navi_integrations.store.engine.Store` and
:mod:`~navi_integrations.store.driver` can use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Reader"]

# Per statement text: its result's column names, and its psycopg form. Statements are
# the package's own constants (and their expansions per number of providers): few.
_COLUMNS: dict[str, tuple[str, ...]] = {}
_PYFORMAT: dict[str, str] = {}


class Reader:
    """One connection through the DB-API driver; rows come back as dicts by column name."""

    def __init__(
        self,
        conn: Any,
        *,
        pyformat: bool,
        errors: type[Exception],
        writer: Callable[[], Any] | None = None,
    ) -> None:
        self._conn = conn
        self._pyformat = pyformat
        self.errors = errors
        self._writer = writer

    def fetch(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run one statement; each row as a dict by column name."""
        cursor = self._conn.execute(self._text(sql), params)
        rows = cursor.fetchall()
        if not rows:
            return []
        names = _COLUMNS.get(sql)
        if names is None:  # a statement's columns never change: read them once
            names = _COLUMNS[sql] = tuple(d[0] for d in cursor.description)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def write(self, sql: str, params: Mapping[str, Any]) -> None:
        """Run one writing statement, committed at once (autocommit)."""
        if self._writer is None:
            self._run(sql, params).close()
            return
        conn = self._writer()
        try:
            self._run(sql, params, conn).close()
        finally:
            conn.close()

    def _text(self, sql: str) -> str:
        if not self._pyformat:
            return sql
        found = _PYFORMAT.get(sql)
        if found is None:  # psycopg: %(name)s
            found = _PYFORMAT[sql] = re.sub(r"(?<!:):([A-Za-z_]\w*)", r"%(\1)s", sql)
        return found

    def _run(self, sql: str, params: Mapping[str, Any], conn: Any = None) -> Any:
        cursor = (conn or self._conn).cursor()
        try:
            cursor.execute(self._text(sql), dict(params))
        except BaseException:
            cursor.close()
            raise
        return cursor

    def close(self) -> None:
        """Close the connection (ending a read-only transaction)."""
        self._conn.close()
