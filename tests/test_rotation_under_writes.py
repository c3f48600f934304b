"""Key rotation while other processes write: nothing lost, nothing stranded (both databases)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from navi_integrations import IntegrationService
from navi_integrations.store.engine import Store

WRITERS = 3
WRITES = 120


def test_rotations_and_writers_at_once_lose_nothing(
    store_url: str, tmp_path: Path, navi_registry: object
) -> None:
    service = IntegrationService(store=Store(store_url), registry=navi_registry)  # type: ignore[arg-type]
    service.connect("linear", {"apiKey": "lin_api_" + "seed" * 10})  # a key exists first
    worker = str(Path(__file__).with_name("rotation_worker.py"))
    stop = tmp_path / "stop"
    rotator = subprocess.Popen(
        [sys.executable, worker, "rotate", store_url, str(stop), str(tmp_path / "rot.json")],
        stderr=subprocess.PIPE,
        text=True,
    )
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                worker,
                "write",
                store_url,
                str(n),
                str(WRITES),
                str(tmp_path / f"{n}"),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    for proc in writers:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    stop.touch()
    _, err = rotator.communicate(timeout=600)
    assert rotator.returncode == 0, err
    reports = json.loads((tmp_path / "rot.json").read_text())
    assert len(reports) >= 3, reports  # rotations really overlapped the writes
    assert all(not unreadable for _, unreadable, _ in reports), reports

    last: dict[str, str] = {}
    for n in range(WRITERS):
        for project, value in json.loads((tmp_path / f"{n}").read_text()):
            last[project] = value  # each project has one writer: its last value wins
    assert len(last) == WRITERS * 3
    fresh = IntegrationService(store=Store(store_url), registry=navi_registry)  # type: ignore[arg-type]
    lost = [
        p
        for p, v in last.items()
        if fresh.get_token("linear", project_id=p).value.get_secret_value() != v
    ]
    assert lost == []
    final = fresh.rotate_keys()  # and a last rotation completes: no row sealed with a lost key
    assert final.unreadable == [] and fresh.queries.keys.key_counts() == {
        final.key_id: WRITERS * 3 + 1
    }
    print(f"{len(reports)} rotations during {WRITERS * WRITES} writes: 0 lost, 0 unreadable")
