"""Master-key rotation: complete, resumable after a kill at any moment, never losing a row."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from navi_integrations import IntegrationService, MasterKeyError
from navi_integrations.store.crypto import (
    associated_data,
    encode_key,
    generate_key,
    open_sealed,
    seal,
)
from navi_integrations.store.tables import CREDENTIALS

ROWS = 1500


def _fill(service: Any, count: int) -> dict[tuple[str, str], str]:
    """Insert ``count`` sealed credentials directly (connect() would be slow for thousands)."""
    key = service.keys.current()
    rows, expected = [], {}
    for n in range(count):
        project = f"proj-{n:05d}"
        value = "ntn_" + f"{n:06d}".ljust(40, "q")
        blob = seal(
            key,
            json.dumps({"token": value}).encode(),
            associated_data("notion", "project", project),
        )
        rows.append(
            {
                "provider": "notion",
                "scope": "project",
                "project_id": project,
                "value": blob.blob,
                "key_id": blob.key_id,
                "enabled": True,
                "error_count": 0,
                "created_at": 1,
                "updated_at": 1,
            }
        )
        expected[("notion", project)] = value
    with service.store.write() as conn:
        conn.execute(CREDENTIALS.insert(), rows)
    return expected


def _check_all(service: Any, expected: dict[tuple[str, str], str]) -> set[str]:
    """Every row opens with a key we still have and holds its value; returns the key ids used."""
    keys = service.keys.by_id()
    with service.store.read() as conn:
        rows = conn.execute(sa.select(CREDENTIALS)).all()
    assert len(rows) == len(expected)
    for row in rows:
        aad = associated_data(row.provider, row.scope, row.project_id)
        plain = json.loads(open_sealed(keys[row.key_id], row.value, aad))
        assert plain["token"] == expected[(row.provider, row.project_id)]
    return {row.key_id for row in rows}


def test_rotation_reencrypts_everything_and_drops_the_old_key(service: Any) -> None:
    expected = _fill(service, 50)
    old = service.keys.current().key_id
    report = service.rotate_keys(batch_size=7)
    assert (report.resumed, report.reencrypted, report.dropped_keys) == (False, 50, [old])
    assert _check_all(service, expected) == {report.key_id} != {old}
    assert service.keys.retired() == []


def test_kill_at_any_moment_loses_nothing_and_rerun_finishes(
    service: Any, navi_home: Path, store_url: str
) -> None:
    expected = _fill(service, ROWS)
    env = {**os.environ, "NAVI_INTEGRATIONS_DB_URL": store_url}
    rng = random.Random(7)
    kills = 0
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "navi_integrations.cli", "keys", "rotate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.3, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate()
        in_use = _check_all(service, expected)  # every row still opens with a kept key
        known = {k.key_id for k in service.keys.retired()} | {service.keys.current().key_id}
        assert in_use <= known
    assert kills >= 1
    done = subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    current = service.keys.current().key_id
    assert _check_all(service, expected) == {current}
    if "Finished the interrupted rotation" in done.stdout:
        assert service.keys.retired() == []


def test_env_key_rotation_uses_old_keys(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = generate_key("test")
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEY", encode_key(first))
    service = IntegrationService(store=service.store, registry=service.registry)
    expected = _fill(service, 10)
    with pytest.raises(MasterKeyError, match="set it to a new key"):
        service.rotate_keys()
    second = generate_key("test")
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEY", encode_key(second))
    monkeypatch.setenv("NAVI_INTEGRATIONS_OLD_KEYS", encode_key(first))
    service = IntegrationService(store=service.store, registry=service.registry)
    report = service.rotate_keys()
    assert (report.resumed, report.reencrypted) == (True, 10)
    monkeypatch.delenv("NAVI_INTEGRATIONS_OLD_KEYS")
    assert _check_all(service, expected) == {second.key_id}


def test_unreadable_row_is_reported_and_its_key_kept(service: Any) -> None:
    _fill(service, 3)
    with service.store.write() as conn:
        conn.execute(
            CREDENTIALS.update()
            .where(CREDENTIALS.c.project_id == "proj-00001")
            .values(value=b"x" * 40)
        )
    old = service.keys.current().key_id
    report = service.rotate_keys()
    assert report.reencrypted == 2
    assert report.unreadable == ["notion (proj-00001)"]
    assert [k.key_id for k in service.keys.retired()] == [old]
