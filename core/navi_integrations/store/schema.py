"""What every reader of the store agrees on, importable without SQLAlchemy.

The engine (SQLAlchemy, alembic) and the direct reader (the DB-API driver, for
``token``, ``list`` and ``run``) both take from here the database URL, the
schema revision the code expects, and the SQLite connection settings, so that
the two can never disagree about which database they open or how.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..paths import data_dir

__all__ = ["BUSY_TIMEOUT_MS", "SCHEMA_REVISION", "configure_sqlite", "database_url"]

#: The alembic head this code expects (a test checks it equals the migrations' head).
SCHEMA_REVISION = "0006"
#: How long a SQLite connection waits for another one's write lock.
BUSY_TIMEOUT_MS = 30_000


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The database URL: ``NAVI_INTEGRATIONS_DB_URL``, else the SQLite file in the data dir."""
    env = os.environ if environ is None else environ
    url = env.get("NAVI_INTEGRATIONS_DB_URL", "").strip()
    if not url:
        return f"sqlite:///{data_dir() / 'navi.db'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def configure_sqlite(dbapi_conn: Any) -> None:
    """Settings of every SQLite connection: autocommit (BEGIN is ours), WAL, busy timeout."""
    dbapi_conn.isolation_level = None  # autocommit; the store issues BEGIN itself
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
