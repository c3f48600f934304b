"""Six processes for a while on one store, on SQLite and on PostgreSQL: operations and errors.

Five workers run a mixed workload (connect, token reads, switches, settings, recorded
errors) on scopes of their own, and a sixth rotates the master key over and over. Each
worker logs the last value it saw `connect` accept for each scope; at the end every
value is read back (lost = differs, unreadable = cannot be decrypted).

Run: python benchmarks/bench_workload.py [SECONDS] (default 60; PostgreSQL needs
NAVI_TEST_PG_URL, e.g. from scripts/start-postgres.sh).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

WORKERS = 5


def worker(url: str, n: int, seconds: float, log: str) -> None:
    from navi_integrations import IntegrationService, NaviError
    from navi_integrations.store.engine import Store

    service = IntegrationService(store=Store(url))
    rng = random.Random(n)
    ops = errors = 0
    last: dict[str, str] = {}
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        i += 1
        project = f"w{n}-{rng.randrange(4)}"
        op = rng.choice(["connect", "token", "token", "token", "switch", "settings", "error"])
        try:
            if op == "connect":
                value = f"lin_api_{n:02d}x{i:07d}".ljust(48, "z")
                service.connect("linear", {"apiKey": value}, project_id=project)
                last[project] = value
            elif op == "token" and project in last:
                service.get_token("linear", project_id=project)
            elif op == "switch":
                service.enable("linear", project_id=project)
            elif op == "settings":
                service.update_settings(
                    "linear", project_id=project, mcp_enabled=rng.random() < 0.5
                )
            elif op == "error" and project in last:
                service.record_error("linear", "HTTP 503", project_id=project)
            ops += 1
        except NaviError as exc:
            errors += 1
            print(f"worker {n}: {exc}", file=sys.stderr)
    Path(log).write_text(json.dumps({"ops": ops, "errors": errors, "last": last}))


def rotator(url: str, stop: str, log: str) -> None:
    from navi_integrations import IntegrationService
    from navi_integrations.store.engine import Store

    service = IntegrationService(store=Store(url))
    rotations = unreadable = 0
    while not Path(stop).exists():
        report = service.rotate_keys(batch_size=10)
        rotations += 1
        unreadable += len(report.unreadable)
        time.sleep(0.05)
    Path(log).write_text(json.dumps({"rotations": rotations, "unreadable": unreadable}))


def run(label: str, url: str, seconds: float, home: Path) -> None:
    from navi_integrations import IntegrationService
    from navi_integrations.store.engine import Store

    env = {**os.environ, "NAVI_INTEGRATIONS_HOME": str(home), "NAVI_INTEGRATIONS_KEYRING": "0"}
    os.environ.update(env)
    IntegrationService(store=Store(url)).connect("linear", {"apiKey": "lin_api_" + "s" * 40})
    stop = home / "stop"
    me = str(Path(__file__).resolve())
    rot = subprocess.Popen([sys.executable, me, "rotator", url, str(stop), str(home / "rot")])
    procs = [
        subprocess.Popen(
            [sys.executable, me, "worker", url, str(n), str(seconds), str(home / f"w{n}")],
            env=env,
        )
        for n in range(WORKERS)
    ]
    for proc in procs:
        proc.wait()
    stop.touch()
    rot.wait()
    logs = [json.loads((home / f"w{n}").read_text()) for n in range(WORKERS)]
    rotation = json.loads((home / "rot").read_text())
    fresh = IntegrationService(store=Store(url))
    lost = unreadable = 0
    for log in logs:
        for project, value in log["last"].items():
            try:
                got = fresh.get_token("linear", project_id=project).value.get_secret_value()
            except Exception:
                unreadable += 1
                continue
            lost += got != value
    ops = sum(log["ops"] for log in logs)
    errors = sum(log["errors"] for log in logs)
    print(
        f"{label}: {WORKERS + 1} processes x {seconds:.0f} s: {ops} operations, {errors} errors, "
        f"{rotation['rotations']} rotations; lost {lost}, unreadable "
        f"{unreadable + rotation['unreadable']}"
    )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "sqlite"
        home.mkdir()
        run("SQLite", f"sqlite:///{home / 'navi.db'}", seconds, home)
    base = os.environ.get("NAVI_TEST_PG_URL")
    if not base:
        print("PostgreSQL: skipped (set NAVI_TEST_PG_URL)")
        return
    import psycopg

    name = f"navi_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run("PostgreSQL", base.rsplit("/", 1)[0] + f"/{name}", seconds, Path(tmp))
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) > 1 and sys.argv[1] == "rotator":
        rotator(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
