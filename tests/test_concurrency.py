"""Eight processes writing to one store at once: no error surfaces, nothing is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from navi_integrations import IntegrationService
from navi_integrations.store.engine import Store
from navi_integrations.store.tables import DEFAULTS

WORKERS = 8
WRITES = 500


def test_eight_processes_of_mixed_writes(
    store_url: str, tmp_path: Path, navi_registry: object
) -> None:
    Store(store_url)  # schema once; the key file is raced for by the workers
    worker = Path(__file__).with_name("concurrency_worker.py")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(worker),
                store_url,
                str(n),
                str(WRITES),
                str(tmp_path / f"{n}.json"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert err == ""
    written: dict[tuple[str, str, str | None], set[object]] = {}
    for n in range(WORKERS):
        for kind, provider, project, value in json.loads((tmp_path / f"{n}.json").read_text()):
            written.setdefault((kind, provider, project), set()).add(value)
    assert sum(len(v) for k, v in written.items() if k[0] == "cred") > WORKERS * WRITES // 4

    service = IntegrationService(store=Store(store_url), registry=navi_registry)  # type: ignore[arg-type]
    with service.store.read() as conn:
        rows = conn.execute(sa.select(DEFAULTS)).all()
    checked = 0
    for row in rows:
        project = row.project_id or None
        for kind in ("enabled", "mcp_enabled", "skill_enabled"):
            value = getattr(row, kind)
            if value is not None:
                assert value in written[(kind, row.provider, project)]
                checked += 1
    assert checked >= 12
    for (kind, provider, project), values in written.items():
        if kind == "cred":
            field = "apiKey" if provider == "linear" else "token"
            service.enable(provider, project_id=project)  # so that it can be read back
            assert service.get_credentials(provider, project_id=project).reveal(field) in values
