"""The store on SQLite and PostgreSQL: migrations, file safety, encryption, damaged rows."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from navi_integrations import DecryptionFailed, IntegrationService, StoreError
from navi_integrations.paths import data_dir
from navi_integrations.store.crypto import associated_data, key_source, seal
from navi_integrations.store.engine import SCHEMA_REVISION, Store
from navi_integrations.store.tables import Credential

SECRET = "lin_api_" + "MigrateMe" * 4 + "abcd"
NOTION = "ntn_" + "N0ti0nS3cr3t" * 3


def test_schema_revision_is_the_migrations_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "navi_integrations.store:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION


def test_upgrade_from_the_first_schema_keeps_data(store_url: str, navi_registry: Any) -> None:
    old = Store(store_url, migrate=False)
    assert old.upgrade("0001") == (None, "0001")
    key = key_source(data_dir()).current()
    sealed = seal(
        key, json.dumps({"apiKey": SECRET}).encode(), associated_data("linear", "user", None)
    )
    with old.write() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO credentials (provider, scope, project_id, value, key_id, created_at,"
                " updated_at) VALUES ('linear', 'user', '', :v, :k, 1, 2)"
            ),
            {"v": sealed.blob, "k": sealed.key_id},
        )
    old.engine.dispose()

    store = Store(store_url)  # first use migrates
    assert store.current_revision() == SCHEMA_REVISION
    with store.read() as conn:
        row = conn.execute(sa.select(Credential.__table__)).one()
    assert (row.enabled, row.error_count, row.created_at, row.updated_at) == (True, 0, 1, 2)
    service = IntegrationService(store=store, registry=navi_registry)
    assert service.get_token("linear").value.get_secret_value() == SECRET


def test_database_newer_than_the_code_is_refused(store_url: str) -> None:
    store = Store(store_url)
    with store.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match=r"revision 9999\) is newer than this version"):
        Store(store_url)


def test_sqlite_file_is_private_and_in_wal_mode(navi_home: Path) -> None:
    store = Store()  # the embedded default
    path = navi_home / "navi.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    os.chmod(path, 0o644)
    Store()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_is_private(navi_home: Path, service: Any) -> None:
    service.connect("notion", {"token": NOTION})
    key_file = navi_home / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "key file" in service.keys.description
    assert "NAVI_INTEGRATIONS_KEYRING=0" in service.keys.description


def _corrupt(service: Any, provider: str, **changes: Any) -> None:
    table = Credential.__table__
    with service.store.write() as conn:
        conn.execute(table.update().where(table.c.provider == provider).values(**changes))


def test_wrong_master_key_gives_a_clear_error(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.connect("notion", {"token": NOTION})
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEY", "A" * 43)
    other = IntegrationService(store=service.store, registry=service.registry)
    with pytest.raises(DecryptionFailed) as caught:
        other.get_token("notion")
    assert caught.value.message == (
        "cannot decrypt the notion credentials (user scope): the master key does not match"
    )
    assert caught.value.advice is not None and caught.value.advice.action == "fix_store"
    assert "\n" not in str(caught.value) and NOTION not in str(caught.value)


def test_row_moved_to_another_scope_or_altered_does_not_decrypt(service: Any) -> None:
    service.connect("notion", {"token": NOTION})
    service.connect("linear", {"apiKey": SECRET})
    table = Credential.__table__
    with service.store.read() as conn:
        notion_blob = conn.execute(
            sa.select(table.c.value).where(table.c.provider == "notion")
        ).scalar_one()
    _corrupt(service, "linear", value=notion_blob)  # copied across providers
    with pytest.raises(
        DecryptionFailed, match=r"linear credentials \(user scope\): the stored value"
    ):
        service.get_token("linear")
    assert service.get_token("notion").value.get_secret_value() == NOTION  # the others still read

    service.connect("linear", {"apiKey": SECRET}, project_id="p1")
    with service.store.read() as conn:
        blob = conn.execute(sa.select(table.c.value).where(table.c.project_id == "p1")).scalar_one()
    _corrupt(service, "notion", value=blob[:-1] + bytes([blob[-1] ^ 1]))  # one bit flipped
    with pytest.raises(DecryptionFailed, match="damaged"):
        service.get_token("notion")
    assert service.get_token("linear", project_id="p1").value.get_secret_value() == SECRET
    # status never needs to decrypt
    assert len(service.status()) == len(service.catalog.provider_ids())


def test_no_plaintext_secret_on_disk_or_in_a_dump(service: Any, navi_home: Path) -> None:
    service.connect("notion", {"token": NOTION})
    service.connect("linear", {"apiKey": SECRET}, project_id="p1")
    service.record_error("notion", f"rejected {NOTION}")
    if service.store.dialect == "sqlite":
        service.store.engine.dispose()
        blobs = b"".join(p.read_bytes() for p in navi_home.rglob("*") if p.is_file())
    else:
        pg_dump = shutil.which("pg_dump") or next(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
        url = service.store.url.set(drivername="postgresql").render_as_string(hide_password=False)
        blobs = subprocess.run([str(pg_dump), url], capture_output=True, check=True).stdout
    assert NOTION.encode() not in blobs
    assert SECRET.encode() not in blobs
    assert SECRET not in repr(service.store) and NOTION not in repr(
        service.get_credentials("notion")
    )


def test_created_folders_are_private(navi_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = navi_home / "fresh" / "data"
    monkeypatch.setenv("NAVI_INTEGRATIONS_HOME", str(home))
    from navi_integrations.plugins.catalog import load_catalog

    load_catalog()  # the cache dir is made first
    Store()
    for folder in (navi_home / "fresh", home, home / "cache"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_the_flat_queries_of_0_2_still_work_with_a_warning(navi_home: Path) -> None:
    """``Queries`` is grouped now (``queries.keys.key_counts()``); 0.2's flat names keep
    working until 0.5.0 and say where they went."""
    from navi_integrations import IntegrationService

    service = IntegrationService()
    service.connect("linear", {"apiKey": "lin_api_" + "q" * 40})
    with pytest.warns(DeprecationWarning, match=r"use Queries\.keys\.key_counts.*") as caught:
        counts = service.queries.key_counts()
    assert counts == service.queries.keys.key_counts() and sum(counts.values()) == 1
    assert "0.5.0" in str(caught[0].message)
    assert caught[0].filename == __file__  # the caller's line, not ours
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        service.queries.nonsense  # noqa: B018
