"""Every failure is one clear line, exit 1, no traceback: damaged, full or read-only stores,
unreachable servers and unacceptable credential values, run as a user runs them."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from navi_integrations.models import (
    MAX_CREDENTIAL_CHARS,
    CredentialField,
    IntegrationProvider,
    check_credential_values,
)

from .cli_helpers import navi

LINEAR = "lin_api_" + "Fai1ure" * 5 + "abcde"
NOTION = "ntn_" + "Fai1ure" * 6


def _connect(provider: str, field: str, value: str) -> subprocess.CompletedProcess[str]:
    return navi("connect", provider, "--no-test", "--stdin", stdin=json.dumps({field: value}))


def one_line(result: subprocess.CompletedProcess[str], exit_code: int = 1) -> str:
    """The single ``Error:`` line of a failed command (asserting there is nothing else)."""
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for secret in (LINEAR, NOTION):
        assert secret not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def connected(navi_home: Path) -> Path:
    """A data dir whose SQLite store holds a Linear credential; returns the database file.

    Checkpointed, so that the file alone holds the data: the fast path's last read leaves
    its writes in the WAL (SQLite checkpoints it every 1000 pages), where damage to the
    main file would not reach them.
    """
    assert _connect("linear", "apiKey", LINEAR).returncode == 0
    assert navi("token", "linear").stdout.strip() == LINEAR
    database = navi_home / "navi.db"
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database


def _doctor_reports(text: str) -> None:
    result = navi("doctor")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"store: unusable: {text}" in result.stdout
    assert "providers (user scope):\n  not read: the store is unusable" in result.stdout


# -- a damaged SQLite file -----------------------------------------------------


@pytest.mark.parametrize("damage", ["garbled header", "truncated"])
def test_a_damaged_database_names_the_file_and_what_to_do(connected: Path, damage: str) -> None:
    if damage == "garbled header":
        with connected.open("r+b") as db:
            db.write(b"this is no longer SQLite")
        reason = "file is not a database"
    else:
        os.truncate(connected, connected.stat().st_size // 2)
        reason = "database disk image is malformed"
    expected = (
        f"the database {connected} is damaged ({reason}). Restore it from a backup, or move "
        f"navi.db, navi.db-wal and navi.db-shm out of {connected.parent} and connect your "
        "providers again."
    )
    for command in (("list",), ("token", "linear"), ("connect", "notion")):
        stdin = json.dumps({"token": NOTION}) if command[0] == "connect" else None
        args = (*command, "--no-test", "--stdin") if stdin else command
        assert one_line(navi(*args, stdin=stdin)) == f"Error: {expected}"
    _doctor_reports(expected)


def test_with_debug_the_driver_error_is_shown_as_the_cause(connected: Path) -> None:
    with connected.open("r+b") as db:
        db.write(b"this is no longer SQLite")
    result = navi("--debug", "list")
    assert result.returncode == 1
    assert "sqlite3.DatabaseError: file is not a database" in result.stderr
    assert "StoreCorrupt: the database" in result.stderr


# -- read-only places (tests run as root, who ignores permission bits) ---------------


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@contextmanager
def read_only_mount(folder: Path) -> Iterator[None]:
    """``folder`` as a read-only bind mount of itself (root only)."""
    try:
        _run("mount", "--bind", str(folder), str(folder))
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs root and mount(8) for a read-only bind mount")
    try:
        _run("mount", "-o", "remount,bind,ro", str(folder))
        yield
    finally:
        _run("umount", str(folder))


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``path`` with the immutable flag: not even root can write it."""
    try:
        _run("chattr", "+i", str(path))
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs root and chattr(1) on a file system with the immutable flag")
    try:
        yield
    finally:
        _run("chattr", "-i", str(path))


def test_a_read_only_data_dir_says_so(connected: Path) -> None:
    folder = connected.parent
    expected = (
        f"Error: cannot write the database {connected}: {folder} is on a read-only file "
        "system. Remount it read-write, or set NAVI_INTEGRATIONS_HOME to a writable folder."
    )
    with read_only_mount(folder):
        assert one_line(navi("list")) == expected
        assert one_line(navi("token", "linear")) == expected
        assert one_line(_connect("notion", "token", NOTION)) == expected
        _doctor_reports(expected.removeprefix("Error: "))


def test_a_new_store_in_a_read_only_data_dir_says_so(navi_home: Path) -> None:
    with read_only_mount(navi_home):
        listing = one_line(navi("list"))
        connecting = one_line(_connect("linear", "apiKey", LINEAR))
    store = (
        f"Error: cannot write the database {navi_home / 'navi.db'}: {navi_home} is on a "
        "read-only file system. Remount it read-write, or set NAVI_INTEGRATIONS_HOME to a "
        "writable folder."
    )
    key = (
        f"Error: cannot create the key file {navi_home / 'master.key'}: Read-only file system. "
        f"Make {navi_home} writable, or set NAVI_INTEGRATIONS_KEY."
    )
    assert listing == store
    assert connecting in (store, key)  # whichever of the two connect needs first


def test_a_read_only_database_file_says_so_and_reading_still_works(connected: Path) -> None:
    with immutable(connected):
        line = one_line(_connect("notion", "token", NOTION))
        assert line == (
            f"Error: cannot write the database {connected}: the file is read-only. Clear its "
            f"immutable flag (chattr -i {connected})."
        )
        listing = navi("list")
        assert listing.returncode == 0 and "linear" in listing.stdout
    assert _connect("notion", "token", NOTION).returncode == 0


# -- a full disk ----------------------------------------------------------------


@contextmanager
def small_disk(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A fresh tmpfs of ``size`` mounted on ``folder`` (root only)."""
    folder.mkdir(exist_ok=True)
    try:
        _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder))
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs root and mount(8) for a small tmpfs")
    try:
        yield folder
    finally:
        _run("umount", "-l", str(folder))


def _fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass  # ENOSPC: the disk is full now
    finally:
        os.close(fd)


def test_a_full_disk_says_so(navi_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with small_disk(navi_home.parent / "small") as home:
        monkeypatch.setenv("NAVI_INTEGRATIONS_HOME", str(home))
        assert _connect("linear", "apiKey", LINEAR).returncode == 0
        _fill(home)
        expected = (
            f"Error: cannot write the database {home / 'navi.db'}: the disk is full. Free space "
            f"on the disk holding {home}, then retry."
        )
        # The WAL kept between runs (store/engine.py) has room for a few writes; a write
        # that needs the disk to grow finds none and says so, naming what to do.
        for attempt in range(200):
            connected = _connect("notion", "token", NOTION[:-4] + f"{attempt:04d}")
            if connected.returncode != 0:
                break
        assert one_line(connected) == expected
        # a read writes its audit row and last use: once the WAL's spare room is used up it
        # fails the same way, never half done (how many small writes still fit depends on
        # the pages the failed connect left free)
        for _ in range(200):
            read = navi("token", "linear")
            if read.returncode != 0:
                break
        assert one_line(read) == expected

        # Another process holds it open (e.g. a server): now the write itself finds no room.
        (home / "filler").unlink()
        holder = sqlite3.connect(home / "navi.db")
        try:
            holder.execute("SELECT count(*) FROM credentials").fetchall()
            _fill(home)
            assert one_line(_connect("notion", "token", NOTION)) == expected
        finally:
            holder.close()
        (home / "filler").unlink()
        assert _connect("notion", "token", NOTION).returncode == 0
        assert navi("token", "linear").stdout.strip() == LINEAR


# -- a database server that cannot be reached ---------------------------------------


def test_an_unreachable_server_is_one_line_without_the_password(
    navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAVI_INTEGRATIONS_DB_URL", "postgresql://navi:s3cr3t-pw@127.0.0.1:1/navi")
    for result in (navi("list"), navi("token", "linear")):
        line = one_line(result)
        assert line.startswith("Error: cannot connect to the database postgresql+psycopg://")
        assert "127.0.0.1:1/navi" in line and "s3cr3t-pw" not in line
        assert line.endswith(
            "Check that the server is running and that NAVI_INTEGRATIONS_DB_URL is right."
        )


def test_a_missing_server_database_says_so(
    navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = os.environ.get("NAVI_TEST_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL server (set NAVI_TEST_PG_URL)")
    monkeypatch.setenv("NAVI_INTEGRATIONS_DB_URL", base.rsplit("/", 1)[0] + "/navi_no_such_db")
    line = one_line(navi("list"))
    assert line.startswith("Error: the database postgresql+psycopg://")
    assert '/navi_no_such_db does not exist (database "navi_no_such_db" does not exist)' in line
    assert line.endswith("Create it, or fix NAVI_INTEGRATIONS_DB_URL.")
    monkeypatch.setenv("NAVI_INTEGRATIONS_DB_URL", base.replace("://", "://nobody_here@", 1))
    line = one_line(navi("list"))
    assert "the database server refused the login" in line
    assert line.endswith("Check the user and password in NAVI_INTEGRATIONS_DB_URL.")


def test_store_failures_are_store_errors_with_advice_as_data(tmp_path: Path) -> None:
    from navi_integrations.errors import StoreError
    from navi_integrations.store.engine import Store, StoreCorrupt

    path = tmp_path / "navi.db"
    path.write_bytes(b"not a database at all, just text" * 10)
    with pytest.raises(StoreCorrupt) as caught:
        Store(f"sqlite:///{path}")
    error: Any = caught.value
    assert isinstance(error, StoreError)
    assert error.location == str(path)
    assert error.message == f"the database {path} is damaged (file is not a database)"
    assert error.advice.action == "fix_store"
    assert error.advice.hint.startswith("restore it from a backup")
    assert error.to_document()["advice"]["action"] == "fix_store"


# -- credential values that must not be stored ----------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (LINEAR[:20] + "\0" + LINEAR[20:], "Personal API key contains a NUL character"),
        ("lin_api_" + "x" * MAX_CREDENTIAL_CHARS, "Personal API key is longer than 65536"),
    ],
)
def test_a_nul_or_huge_value_is_refused_without_quoting_it(
    navi_home: Path, value: str, problem: str
) -> None:
    result = _connect("linear", "apiKey", value)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"invalid linear credentials: apiKey: {problem}" in result.stderr
    assert value not in result.stderr and value[:20] not in result.stderr
    assert len(result.stderr) < 300
    assert not (navi_home / "navi.db").exists() or "linear" not in navi("token", "linear").stdout


def _provider(pattern: str) -> IntegrationProvider:
    return IntegrationProvider(
        id="slow",
        name="Slow",
        description="a provider with a faulty pattern",
        auth_type="api_key",
        credentials=[CredentialField(key="apiKey", label="API key", pattern=pattern)],
    )


def test_a_catastrophic_pattern_is_cut_off_in_time() -> None:
    # Under Python's re this takes about 2**n steps: with n = 60, longer than any user waits.
    value = "a" * 60 + "!"
    start = time.monotonic()
    [problem] = check_credential_values(_provider("(a|aa)+"), {"apiKey": value})
    took = time.monotonic() - start
    assert took < 3, took
    assert problem.field == "apiKey"
    assert "could not be checked: the provider's pattern for it takes too long" in problem.message
    assert value not in problem.message


def test_values_are_still_checked_against_their_pattern() -> None:
    provider = _provider("acme_[a-z0-9]{8}")
    assert check_credential_values(provider, {"apiKey": "acme_1234abcd"}) == []
    [problem] = check_credential_values(provider, {"apiKey": "acme_1234ABCD"})
    assert problem.message == "API key is malformed: expected a value matching acme_[a-z0-9]{8}"
