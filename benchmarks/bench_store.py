"""Figures for the credential store, with 200,000 rows (10,000 projects x 20 providers).

1. In-process get_token (resolve scope + read + decrypt), median, against a raw
   sqlite3 primary-key read plus one AES-GCM decrypt: target <= 5x (issue 9; was 10x).
2. status() for one project in a store of 10,000 projects, against the same call
   in a store of one project: target <= 1.5x.
3. `navi-int list --json` whole process against
   `python -c "import click, pluggy, pydantic, sqlmodel, cryptography"`: target <= 1.3x.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _store_fixture
from _timing import median_runtimes, report

PROJECTS = int(os.environ.get("NAVI_BENCH_PROJECTS", "10000"))
GET_TOKEN_TARGET = 5


def per_call(fn, calls: list, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    """Median over ``repeat`` rounds of the mean time per call."""
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for args in calls:
            fn(*args)
        rounds.append((time.perf_counter() - start) / len(calls))
    return statistics.median(rounds)


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big"
        small = Path(tmp) / "small"
        _store_fixture.build(small, 1)
        fields = _store_fixture.build(big, PROJECTS)

        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from navi_integrations import IntegrationService
        from navi_integrations.paths import data_dir
        from navi_integrations.store.crypto import associated_data, key_source
        from navi_integrations.store.engine import Store

        os.environ["NAVI_INTEGRATIONS_HOME"] = str(big)
        service = IntegrationService()
        rng = random.Random(1)
        token_providers = [p for p in fields if p not in ("github", "google")]
        pairs = [
            (rng.choice(token_providers), f"project-{rng.randrange(PROJECTS):05d}")
            for _ in range(200)
        ]
        for provider, project in pairs:  # first use records last_used_at (a write)
            service.get_token(provider, project_id=project)

        raw = sqlite3.connect(big / "navi.db")
        key = key_source(data_dir()).current()
        ids = {
            (p, proj): i
            for i, p, proj in raw.execute("SELECT id, provider, project_id FROM credentials")
        }

        def baseline(provider: str, project: str) -> bytes:
            (blob,) = raw.execute(
                "SELECT value FROM credentials WHERE id = ?", (ids[(provider, project)],)
            ).fetchone()
            aad = associated_data(provider, "project", project)
            return AESGCM(key.secret).decrypt(blob[:12], blob[12:], aad)

        def token(provider: str, project: str) -> object:
            return service.get_token(provider, project_id=project)

        base = per_call(baseline, pairs)
        ours = per_call(token, pairs)
        ratio = ours / base
        ok = ok and ratio <= GET_TOKEN_TARGET
        print(f"\nget_token with {len(ids):,} rows (median of 5 rounds x {len(pairs)} calls)")
        print(f"  baseline: sqlite3 PK read + AES-GCM decrypt  {base * 1e6:8.1f} us  1.00x")
        print(
            f"  service.get_token                             {ours * 1e6:8.1f} us  {ratio:5.2f}x"
            f"  {'ok' if ratio <= GET_TOKEN_TARGET else f'OVER {GET_TOKEN_TARGET}x'}"
        )

        small_service = IntegrationService(store=Store(f"sqlite:///{small / 'navi.db'}"))
        status_small = per_call(lambda: small_service.status(project_id="project-00000"), [()] * 50)
        status_big = per_call(lambda: service.status(project_id="project-04242"), [()] * 50)
        ratio = status_big / status_small
        ok = ok and ratio <= 1.5
        print("\nstatus() for one project (median of 5 rounds x 50 calls)")
        print(f"  store with 1 project        {status_small * 1e3:8.2f} ms  1.00x")
        print(
            f"  store with {PROJECTS:,} projects {status_big * 1e3:8.2f} ms  {ratio:5.2f}x"
            f"  {'ok' if ratio <= 1.5 else 'OVER 1.5x'}"
        )

        results = median_runtimes(
            {
                "baseline: import click, pluggy, pydantic, sqlmodel, cryptography": [
                    sys.executable,
                    "-c",
                    "import click, pluggy, pydantic, sqlmodel, cryptography",
                ],
                "navi-int list --json (20 providers)": [
                    sys.executable,
                    "-m",
                    "navi_integrations.cli",
                    "list",
                    "--json",
                    "--project",
                    "project-00042",
                ],
            },
            env={"NAVI_INTEGRATIONS_HOME": str(big), "NAVI_INTEGRATIONS_KEYRING": "0"},
        )
        ok = (
            report(
                "navi-int list --json, whole process (median of 21)",
                "baseline: import click, pluggy, pydantic, sqlmodel, cryptography",
                results,
                1.3,
            )
            and ok
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
