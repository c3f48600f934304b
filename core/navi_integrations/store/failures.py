"""Database failures as :class:`StoreError` subclasses that say where and what to do.

:class:`~navi_integrations.store.engine.Store` (the boundary) hands every
driver error here; this module knows SQLite result codes, PostgreSQL
SQLSTATEs and the file-system conditions behind them::

    StoreError
    ├── StoreBusy          the database stayed locked by another connection (errors.py)
    └── StoreProblem       a failure with its location, and advice that fixes it
        ├── StoreCorrupt       the file or its data is damaged
        ├── StoreFull          no space left on the disk (or the server's)
        ├── StoreReadOnly      the database, its folder or file system cannot be written
        └── StoreUnavailable   cannot open or reach the database (or another I/O error)

Messages name the file (or the URL without its password) and never hold a
statement's parameters.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import sqlalchemy as sa

from ..errors import (
    Advice,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreProblem,
    StoreReadOnly,
    StoreUnavailable,
)
from .schema import BUSY_TIMEOUT_MS  # re-exported: defined where SQLAlchemy is not needed

__all__ = [
    "BUSY_TIMEOUT_MS",
    "NOT_TRANSLATED",
    "SqliteFailures",
    "StoreCorrupt",
    "StoreFull",
    "StoreProblem",
    "StoreReadOnly",
    "StoreUnavailable",
    "server_failure",
]


# SQLite primary result codes (sqlite3.h), from exc.sqlite_errorcode & 0xFF.
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 10, 11, 13, 14
_SQLITE_NOTADB = 26


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_only_file_system(folder: Path) -> bool:
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:  # Windows
        return False
    try:
        return bool(statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _out_of_space(folder: Path) -> bool:
    """Whether the file system holding ``folder`` has (almost) no free block left.

    SQLite reports a full disk as SQLITE_FULL only while writing pages; when
    it cannot even size its shared-memory file it says "disk I/O error".
    """
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:
        return False
    try:
        found = statvfs(folder)
    except OSError:
        return False
    # root may use the blocks reserved for it, so count those for root only
    free = found.f_bfree if os.geteuid() == 0 else found.f_bavail
    return bool(free * found.f_frsize < _NEARLY_FULL_BYTES)


_NEARLY_FULL_BYTES = 64 * 1024


def _writable(path: Path) -> bool:
    # access(2) sees read-only mounts and immutable files even for root.
    return os.access(path, os.W_OK)


class SqliteFailures:
    """Turns SQLite and file-system errors on one database file into store errors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder = path.parent

    def read_only(self, detail: str) -> StoreProblem | None:
        """Why the file cannot be written, if it is a read-only condition we can name."""
        where = str(self.path)
        if _read_only_file_system(self.folder):
            return StoreReadOnly(
                where,
                f"cannot write the database {where}: {self.folder} is on a read-only file system",
                "remount it read-write, or set NAVI_INTEGRATIONS_HOME to a writable folder",
            )
        if self.path.exists() and not _writable(self.path):
            if self.path.stat().st_mode & stat.S_IWUSR:  # writable by mode: a file flag stops it
                fix = f"clear its immutable flag (chattr -i {where})"
            else:
                fix = f"make it writable (chmod u+w {where})"
            return StoreReadOnly(
                where, f"cannot write the database {where}: the file is read-only", fix
            )
        if self.folder.exists() and not _writable(self.folder):
            return StoreReadOnly(
                where,
                f"cannot write the database {where}: its folder {self.folder} is read-only",
                f"make {self.folder} writable, or set NAVI_INTEGRATIONS_HOME to a writable folder",
            )
        return None

    def full(self) -> StoreFull:
        return StoreFull(
            str(self.path),
            f"cannot write the database {self.path}: the disk is full",
            f"free space on the disk holding {self.folder}, then retry",
        )

    def from_os_error(self, exc: OSError) -> StoreError:
        """An error from preparing the file or its folder (before SQLite opens it)."""
        detail = exc.strerror or type(exc).__name__
        if exc.errno == errno.ENOSPC:
            return self.full()
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            found = self.read_only(detail)
            if found is not None:
                return found
            return StoreReadOnly(
                str(self.path),
                f"cannot create the database {self.path}: {detail}",
                f"make {self.folder} writable, or set NAVI_INTEGRATIONS_HOME to a writable folder",
            )
        return StoreUnavailable(
            str(self.path),
            f"cannot create the database {self.path}: {detail}",
            "check that its folder can be created and written, or set NAVI_INTEGRATIONS_HOME",
        )

    def from_sqlite(self, exc: BaseException, code: int) -> StoreError:
        """An error SQLite reported, by its primary result code."""
        detail = _first_line(exc)
        where = str(self.path)
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            name = self.path.name
            return StoreCorrupt(
                where,
                f"the database {where} is damaged ({detail})",
                f"restore it from a backup, or move {name}, {name}-wal and {name}-shm "
                f"out of {self.folder} and connect your providers again",
            )
        if code == _SQLITE_FULL or (
            code in (_SQLITE_IOERR, _SQLITE_CANTOPEN) and _out_of_space(self.folder)
        ):
            return self.full()
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return StoreBusy(
                f"the database {where} stayed locked by another process for "
                f"{BUSY_TIMEOUT_MS // 1000} s",
                advice=Advice("retry_later", hint="retry when that process is done"),
            )
        if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN):
            found = self.read_only(detail)
            if found is not None:
                return found
            if code == _SQLITE_CANTOPEN:
                return StoreUnavailable(
                    where,
                    f"cannot open the database {where} ({detail})",
                    "check that the file and its folder exist and can be read and written",
                )
            return StoreReadOnly(
                where,
                f"cannot write the database {where} ({detail})",
                "make the file and its folder writable",
            )
        if code == _SQLITE_IOERR:
            return StoreUnavailable(
                where,
                f"cannot read or write the database {where}: disk I/O error ({detail})",
                "check the disk; if it persists, restore the database from a backup",
            )
        return StoreUnavailable(
            where,
            f"the database {where} failed ({detail})",
            "run navi-int doctor; add --debug to the failing command to report it",
        )


# What the server says when it refuses a connection, and the SQLSTATE it means.
_CONNECT_REFUSALS = {
    r'database ".*" does not exist': "3D000",
    r'role ".*" does not exist': "28000",
    r"authentication failed": "28P01",
    r"pg_hba\.conf": "28000",
}


def server_failure(location: str, exc: BaseException) -> StoreError:
    """A PostgreSQL (psycopg) error, by its SQLSTATE."""
    detail = _first_line(exc)
    state = str(getattr(exc, "sqlstate", None) or "")
    if not state:  # psycopg gives no SQLSTATE when connecting fails: read the server's answer
        fatal = re.search(r"FATAL:\s*(.+)", detail)
        if fatal:
            detail = fatal.group(1).strip()
            state = _CONNECT_REFUSALS.get(
                next((k for k in _CONNECT_REFUSALS if re.search(k, detail)), ""), ""
            )
    cls = state[:2]
    if not state or cls == "08":
        return StoreUnavailable(
            location,
            f"cannot connect to the database {location} ({detail})",
            "check that the server is running and that NAVI_INTEGRATIONS_DB_URL is right",
        )
    if cls == "28":
        return StoreUnavailable(
            location,
            f"the database server refused the login to {location} ({detail})",
            "check the user and password in NAVI_INTEGRATIONS_DB_URL",
        )
    if state == "3D000":
        return StoreUnavailable(
            location,
            f"the database {location} does not exist ({detail})",
            "create it, or fix NAVI_INTEGRATIONS_DB_URL",
        )
    if state == "53100":
        return StoreFull(
            location,
            f"cannot write the database {location}: the server's disk is full",
            "free space on the database server (ask its administrator), then retry",
        )
    if state == "25006":
        return StoreReadOnly(
            location,
            f"cannot write the database {location}: the server is read-only (a standby?)",
            "point NAVI_INTEGRATIONS_DB_URL at the primary server",
        )
    if state in ("XX001", "XX002"):
        return StoreCorrupt(
            location,
            f"the database {location} reports damaged data ({detail})",
            "restore it from a backup (ask its administrator)",
        )
    if state in ("40001", "40P01", "55P03"):
        return StoreBusy(
            f"the database {location} conflicted with another transaction ({detail})",
            advice=Advice("retry_later", hint="retry"),
        )
    if cls in ("53", "57", "58"):
        return StoreUnavailable(
            location,
            f"the database server for {location} cannot serve now ({detail})",
            "retry in a moment; if it persists, ask its administrator",
            action="retry_later",
        )
    return StoreUnavailable(
        location,
        f"the database {location} failed ({detail})",
        "run navi-int doctor; add --debug to the failing command to report it",
    )


# Driver errors that say something about the database, not about our SQL:
# constraint violations and programming errors stay as they are (they are bugs
# or handled by the caller).
NOT_TRANSLATED = (
    sa.exc.IntegrityError,
    sa.exc.ProgrammingError,
    sa.exc.DataError,
    sa.exc.NotSupportedError,
)
