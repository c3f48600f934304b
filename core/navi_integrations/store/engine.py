"""The credential store: SQLite by default, any SQLAlchemy URL (PostgreSQL) when configured.

``NAVI_INTEGRATIONS_DB_URL`` selects the database; without it the store is
``<data dir>/navi.db`` (SQLite, WAL mode, busy timeout, file mode 0600).
The schema is migrated with alembic, automatically on first use and by
``navi-int db upgrade``.

Writes on SQLite take the write lock up front (``BEGIN IMMEDIATE``) so that
concurrent writers queue on the busy timeout instead of failing; on
PostgreSQL each write is a single-row upsert or update.

The engine is the boundary where driver errors (sqlite3, psycopg, and the
file system under SQLite) become :class:`StoreError` subclasses that say
which database failed and what to do (see :mod:`.failures`): every
``read()``, ``write()``, ``fetch()`` and migration goes through it, so
callers never see a driver exception for a damaged, full, read-only or
unreachable database.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from ..errors import StoreBusy, StoreError
from ..paths import private_dir
from ._reader import Reader
from .failures import (
    BUSY_TIMEOUT_MS,
    NOT_TRANSLATED,
    SqliteFailures,
    StoreCorrupt,
    StoreFull,
    StoreProblem,
    StoreReadOnly,
    StoreUnavailable,
    server_failure,
)
from .schema import SCHEMA_REVISION, database_url
from .schema import configure_sqlite as _configure_sqlite

__all__ = [
    "SCHEMA_REVISION",
    "Store",
    "StoreBusy",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreProblem",
    "StoreReadOnly",
    "StoreUnavailable",
    "database_url",
    "key_ids_in_database",
]

_BUSY_TIMEOUT_MS = BUSY_TIMEOUT_MS
_PG_MIGRATION_LOCK = 0x6E617669  # "navi": advisory lock held while migrating


def _prepare_sqlite_file(url: sa.engine.URL) -> None:
    """Create the database file with mode 0600 (SQLite gives its -wal/-shm files the same).

    An existing file is never opened here: closing any descriptor of a SQLite
    file drops every POSIX lock this process holds on it, which would let
    another process believe no connection is open and reset the WAL under
    ours. Only ``chmod`` touches an existing file.
    """
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    else:
        os.close(fd)  # the file did not exist: no SQLite connection can hold it yet


def _keep_wal(store: Store) -> None:
    """Keep the SQLite WAL file from one process to the next.

    The last connection to close checkpoints the WAL and deletes it; the next
    writer then creates it again and syncs its header and the directory (two
    ``fdatasync``), which made the first ``navi-int token`` after ``connect``
    slower than every later one. A read-only connection cannot delete the WAL,
    so one is held for the store's life and closed after its pool: SQLite's
    automatic checkpoint (each 1000 pages) keeps the WAL small instead.
    """
    database = store.url.database
    if not database or database == ":memory:" or store.url.query:
        return
    import sqlite3
    from urllib.parse import quote

    uri = f"file:{quote(os.path.abspath(database))}?mode=ro"
    try:
        keeper = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error:
        return  # an optimisation only: the store works without it
    try:
        keeper.execute("PRAGMA schema_version").fetchall()  # a read attaches it to the WAL
    except sqlite3.Error:
        keeper.close()
        return
    weakref.finalize(store, _release_wal, store.engine, store._local, keeper)


def _release_wal(engine: Engine, local: threading.local, keeper: Any) -> None:
    """Close the store's connections, then the read-only one (at exit or collection)."""
    with contextlib.suppress(Exception):
        engine.dispose()
        holder = getattr(local, "holder", None)
        local.holder = None
        if holder is not None:
            holder.reader.close()
    with contextlib.suppress(Exception):
        keeper.close()


class _ThreadConnection:
    """One thread's own DBAPI connection, closed when the thread's locals go away."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown, already closed
            self.reader.close()


class Store:
    """A connection pool to the database, with read and write transactions."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = sa.engine.make_url(url or database_url())
        self.engine = self._create_engine()
        self._local = threading.local()
        if migrate:
            self.ensure_schema()
        if self.url.get_backend_name() == "sqlite":
            _keep_wal(self)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql`` (or another SQLAlchemy dialect name)."""
        return str(self.engine.dialect.name)

    def _create_engine(self) -> Engine:
        if self.url.get_backend_name() == "sqlite":
            try:
                _prepare_sqlite_file(self.url)
            except OSError as exc:
                raise SqliteFailures(Path(str(self.url.database))).from_os_error(exc) from exc
            engine = sa.create_engine(self.url, connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000})

            @event.listens_for(engine, "connect")
            def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
                _configure_sqlite(dbapi_conn)

            @event.listens_for(engine, "begin")
            def _sqlite_begin(conn: Connection) -> None:
                options = conn.get_execution_options()
                if not options.get("navi_write", False):
                    conn.exec_driver_sql("BEGIN")
                elif not options.get("navi_nowait", False):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:  # fail at once if another connection writes (see Store.write)
                    conn.exec_driver_sql("PRAGMA busy_timeout=0")
                    try:
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    finally:
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")

            return engine
        try:
            return sa.create_engine(self.url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"the database driver for {self.url.drivername} is not installed ({exc.name}); "
                "for PostgreSQL: pip install 'navi-integrations[postgres]'"
            ) from None

    def failure(self, exc: BaseException) -> StoreError | None:
        """The :class:`StoreError` for a driver error on this database (``None``: not ours).

        Accepts SQLAlchemy's wrappers and the driver's own exceptions.
        Constraint violations and programming errors are not translated.
        """
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, NOT_TRANSLATED):
            return None
        orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        dbapi = self.engine.dialect.loaded_dbapi
        if not isinstance(orig, dbapi.Error) or isinstance(
            orig, (dbapi.IntegrityError, dbapi.ProgrammingError, dbapi.DataError)
        ):
            return None
        if self.dialect == "sqlite":
            location = Path(str(self.url.database or ":memory:"))
            code = int(getattr(orig, "sqlite_errorcode", 1))
            return SqliteFailures(location).from_sqlite(orig, code & 0xFF)
        return server_failure(self._safe_url(), orig)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Raise the :class:`StoreError` for driver errors inside the block."""
        try:
            yield
        except Exception as exc:
            failure = self.failure(exc)
            if failure is None or failure is exc:
                raise
            raise failure from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self._translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, *, wait: bool = True) -> Iterator[Connection]:
        """A write transaction (on SQLite, the write lock is taken at BEGIN).

        With ``wait=False`` on SQLite, :class:`StoreBusy` is raised at once if
        another connection holds the write lock, instead of queueing for it.
        """
        with self._translated(), self.engine.connect() as conn:
            conn = conn.execution_options(navi_write=True, navi_nowait=not wait)
            try:
                transaction = conn.begin()
            except sa.exc.OperationalError as exc:
                if not wait and "locked" in str(exc.orig):
                    raise StoreBusy("the database is being written by another connection") from None
                raise
            with transaction:
                yield conn

    def fetch(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run one read-only statement on this thread's own connection, in autocommit mode.

        The hot path (``get_token``): a single statement is a consistent
        snapshot on its own, and skipping the pool and the ORM makes it
        several times faster. Each thread keeps one connection outside the
        pool (closed when the thread ends), so reading threads never starve
        the pool that writes use. ``sql`` uses ``:name`` parameters; rows come
        back as dicts by column name.
        """
        try:
            return self._fetch(sql, params)
        except self.engine.dialect.loaded_dbapi.Error as exc:
            failure = self.failure(exc)
            if failure is None:
                raise
            raise failure from exc

    def _fetch(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        for attempt in (1, 2):
            holder = getattr(self._local, "holder", None)
            if holder is None:
                dbapi = self.engine.dialect.loaded_dbapi
                reader = Reader(
                    self._connect_raw(),
                    pyformat=self.engine.dialect.paramstyle == "pyformat",
                    errors=dbapi.Error,
                )
                holder = self._local.holder = _ThreadConnection(reader)
            try:
                found: list[dict[str, Any]] = holder.reader.fetch(sql, params)
                return found
            except self.engine.dialect.loaded_dbapi.OperationalError:
                self._local.holder = None  # dropped connection: reconnect once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connect_raw(self) -> Any:
        dialect = self.engine.dialect
        cargs, cparams = dialect.create_connect_args(self.url)
        if self.dialect == "sqlite":
            cparams.setdefault("timeout", _BUSY_TIMEOUT_MS / 1000)
            cparams["check_same_thread"] = False
        conn = dialect.loaded_dbapi.connect(*cargs, **cparams)
        if self.dialect == "sqlite":
            _configure_sqlite(conn)
        elif self.dialect == "postgresql":
            conn.autocommit = True
        return conn

    # -- schema ----------------------------------------------------------

    def current_revision(self, conn: Connection | None = None) -> str | None:
        """The schema revision recorded in the database (``None`` for an empty database)."""
        if conn is None:
            with self.read() as c:
                return self.current_revision(c)
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def ensure_schema(self) -> None:
        """Migrate to :data:`SCHEMA_REVISION` if needed (cheap when already there)."""
        with self.read() as conn:
            if self.current_revision(conn) == SCHEMA_REVISION:
                return
        self.upgrade()

    def key_ids_in_use(self) -> frozenset[str]:
        """Ids of the master keys the stored credentials are sealed with (empty: none stored)."""
        with self.read() as conn:
            if not sa.inspect(conn).has_table("credentials"):
                return frozenset()
            rows = conn.execute(sa.text("SELECT DISTINCT key_id FROM credentials")).scalars()
            return frozenset(str(key_id) for key_id in rows)

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Apply migrations up to ``revision``; returns (before, after)."""
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", "navi_integrations.store:migrations")
        known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
        with self.write() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            before = self.current_revision(conn)
            if before is not None and before not in known:
                raise StoreError(
                    f"the database schema (revision {before}) is newer than this version of "
                    "navi-integrations knows: upgrade navi-integrations"
                )
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            after = self.current_revision(conn)
        if self.dialect == "sqlite" and before != after:
            with self.read() as conn:  # the new schema into navi.db itself, the WAL kept
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        return before, after

    def _safe_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self._safe_url()!r})"


def key_ids_in_database(url: str) -> frozenset[str]:
    """:meth:`Store.key_ids_in_use` of the database at ``url``, without creating it.

    A SQLite file that does not exist yet holds no credential: it is not created.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return frozenset()
        if not Path(parsed.database).exists():
            return frozenset()
    store = Store(url, migrate=False)
    try:
        return store.key_ids_in_use()
    finally:
        store.engine.dispose()
