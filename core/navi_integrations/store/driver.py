"""Connections to the store through the DB-API driver, for the fast read path.

``sqlite3`` for the default ``sqlite:///…`` URL, psycopg for PostgreSQL, with
the engine's settings (:mod:`navi_integrations.store.schema`), at the schema
revision this code expects; and the master keys, read as the service reads
them. Anything these cannot do raises :class:`CannotAnswer`: the caller
(:mod:`navi_integrations.store.direct`) then leaves the answer to the service.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import MasterKeyError
from ..paths import data_dir
from ..scopes import check_project_id
from ._reader import Reader
from .queries.statements import SCHEMA_REVISION_SQL
from .reads import now_ms
from .schema import BUSY_TIMEOUT_MS, SCHEMA_REVISION, configure_sqlite, database_url

if TYPE_CHECKING:  # crypto is imported where a value is opened: `list` opens none
    from .crypto import KeySource, MasterKey

__all__ = [
    "CannotAnswer",
    "Keys",
    "Reader",
    "checked_project",
    "connect",
    "expand",
    "now_ms",
]


class CannotAnswer(Exception):
    """The fast path cannot answer alone: the caller leaves the answer to the service."""


def checked_project(project_id: str | None) -> str | None:
    """The project id, refused as the service refuses it (:class:`InvalidInput`)."""
    return None if project_id is None else check_project_id(project_id)


def expand(sql: str, provider_ids: Sequence[str]) -> tuple[str, dict[str, str]]:
    """``sql`` with its ``{providers}`` list spelt as one parameter per id, and those."""
    names = [f"p{i}" for i in range(len(provider_ids))]
    text = sql.format(providers=", ".join(f":{n}" for n in names))
    return text, dict(zip(names, provider_ids, strict=True))


def _connect_sqlite(path: str, *, writes: bool) -> Reader:
    import sqlite3
    from urllib.parse import quote

    if not path or path == ":memory:" or not os.path.isfile(path):
        raise CannotAnswer  # nothing stored yet: the service creates the database
    uri = f"file:{quote(os.path.abspath(path))}"

    def open_as(mode: str) -> sqlite3.Connection:
        conn = sqlite3.connect(f"{uri}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            configure_sqlite(conn)  # autocommit, as the engine's connections
        except BaseException:
            conn.close()
            raise
        return conn

    try:
        conn = open_as("ro")
    except sqlite3.Error:
        raise CannotAnswer from None
    if not writes:
        try:
            conn.execute("BEGIN")  # one snapshot for every statement of this read
        except sqlite3.Error:
            conn.close()
            raise CannotAnswer from None
    # Each write goes through its own connection, closed while the reading one is still
    # open: the connection that closes last checkpoints the WAL into the database (three
    # fsyncs) and deletes it, which a token read would otherwise pay every time; the
    # WAL is checkpointed by SQLite's automatic checkpoint (each 1000 pages) instead.
    return Reader(conn, pyformat=False, errors=sqlite3.Error, writer=lambda: open_as("rw"))


def _connect_postgresql(url: str, *, writes: bool) -> Reader:
    try:
        import psycopg
    except ImportError:
        raise CannotAnswer from None
    try:
        conn = psycopg.connect(url, connect_timeout=10, autocommit=writes)
        if not writes:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
    except psycopg.Error:
        raise CannotAnswer from None
    if writes:
        return Reader(conn, pyformat=True, errors=psycopg.Error)
    # A read-only snapshot writes (a row's last use) through an autocommit connection.
    return Reader(
        conn,
        pyformat=True,
        errors=psycopg.Error,
        writer=lambda: psycopg.connect(url, connect_timeout=10, autocommit=True),
    )


@contextmanager
def connect(environ: Mapping[str, str], *, writes: bool = False) -> Iterator[Reader]:
    """A connection to the configured database at the expected schema, else
    :class:`CannotAnswer`. Reads see one snapshot unless ``writes``; a write commits at
    once, through a connection of its own where the reading one is read-only."""
    url = database_url(environ)
    if url.startswith("sqlite:///") and "?" not in url:
        reader = _connect_sqlite(url.removeprefix("sqlite:///"), writes=writes)
    elif url.startswith("postgresql+psycopg://"):
        plain = "postgresql://" + url.removeprefix("postgresql+psycopg://")
        reader = _connect_postgresql(plain, writes=writes)
    else:
        raise CannotAnswer  # another SQLAlchemy dialect: only the engine knows it
    try:
        try:
            revision = reader.fetch(SCHEMA_REVISION_SQL, {})
        except reader.errors:
            raise CannotAnswer from None  # no alembic_version: a database to create
        if [r["version_num"] for r in revision] != [SCHEMA_REVISION]:
            raise CannotAnswer  # older (to migrate) or newer (the service says so)
        yield reader
    except reader.errors:
        raise CannotAnswer from None
    finally:
        reader.close()


class Keys:
    """The master keys, read as the service reads them; never creates one.

    Any key problem (missing, malformed, open to other users) is left to the
    service, which words it with the key ids the store expects.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        from .crypto import key_source

        # No lookup of the sealed key ids (the engine's): a missing key falls back anyway.
        self._source: KeySource = key_source(data_dir(), environ, sealed_key_ids=tuple)
        self._current: MasterKey | None = None
        self._by_id: dict[str, MasterKey] | None = None

    def current(self) -> MasterKey:
        """The key new values are sealed with (nearly every row's)."""
        if self._current is None:
            try:
                self._current = self._source.current(create=False)
            except MasterKeyError:
                raise CannotAnswer from None
        return self._current

    def by_id(self, key_id: str) -> MasterKey | None:
        """The key whose id is ``key_id``, current or retired, if we have it."""
        if self._by_id is None:
            try:
                self._by_id = self._source.by_id()
            except MasterKeyError:
                raise CannotAnswer from None
        return self._by_id.get(key_id)


def open_row(keys: Keys, provider_id: str, scope: str, row: Mapping[str, object]) -> dict[str, str]:
    """Deprecated since 0.3.0 (removed in 0.5.0): use :func:`.reads.open_row`.

    0.2's form: decrypt the credential ``row`` (a mapping with ``project_id``,
    ``key_id`` and ``value``) of ``provider_id`` in ``scope`` with ``keys``.
    """
    from .. import _deprecation
    from .reads import open_row as open_value

    _deprecation.warn(
        "navi_integrations.store.driver.open_row", "navi_integrations.store.reads.open_row"
    )
    value = row["value"]
    assert isinstance(value, bytes), "a credential row's value is bytes"
    return open_value(
        keys.by_id,
        provider_id,
        scope,
        str(row["project_id"]) or None,
        str(row["key_id"]),
        value,
        current=keys.current(),
    )
