"""Figures of the HTTP API (issue 11), all in one run on this machine:

1. ``GET /api/credentials/linear/token`` at 32 concurrent connections: requests per
   second, and p50/p99 latency, against a bare endpoint on the same stack (the same
   app, a trivial route added here only) measured in the same run; target >= 80%;
2. ``GET /api/integrations/status`` with 20 providers and 1,000 projects: p50/p99
   latency, for the user scope and in a project's context.

The server runs as its own process (uvicorn, as ``navi-int serve`` runs it) over a
SQLite store built by ``_store_fixture`` (20 providers: the five plugins and 15 TOML
providers; a credential per provider and project). The load generator is another
process: ``wrk`` when installed (``apt-get install wrk``), else httpx on asyncio.
Rounds alternate between the two endpoints so the machine's noise hits both alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = 1000
CONCURRENCY = 32
SECONDS = 5.0
ROUNDS = 3
PROJECT = "project-00500"


def serve(home: str) -> None:
    """The server process: the app of ``navi-int serve`` plus a bare route, on a free port."""
    import socket

    import uvicorn

    os.environ["NAVI_INTEGRATIONS_HOME"] = home
    os.environ["NAVI_INTEGRATIONS_KEYRING"] = "0"
    from navi_integrations import IntegrationService
    from navi_integrations.server import ServerSettings, create_app

    svc = IntegrationService()
    svc.store  # noqa: B018  (open and migrate before taking requests)
    app = create_app(svc, ServerSettings())

    @app.get("/bench/bare")
    def bare() -> dict[str, Any]:  # a sync route, like the token route: same threadpool hop
        return {"type": "api_key", "value": "x", "expiresAt": None}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def load(url: str, token: str, seconds: float, concurrency: int) -> None:
    """The httpx load generator (when wrk is missing): prints {rps, latencies in ms}."""
    import httpx

    async def main() -> dict[str, Any]:
        latencies: list[float] = []
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as client:
            deadline = time.perf_counter() + seconds

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    start = time.perf_counter()
                    response = await client.get(url)
                    response.raise_for_status()
                    latencies.append((time.perf_counter() - start) * 1000)

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
        latencies.sort()
        return {
            "rps": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2],
            "p99": latencies[int(len(latencies) * 0.99)],
        }

    print(json.dumps(asyncio.run(main())))


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, token: str) -> dict[str, float]:
    done = subprocess.run(
        [
            *("wrk", "-t1", f"-c{CONCURRENCY}", f"-d{SECONDS:.0f}s", "--latency"),
            *("-H", f"Authorization: Bearer {token}", url),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw error answers from {url}:\n{out}")

    def pct(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert found, out
        return float(found.group(1)) * _UNITS[found.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rps, out
    return {"rps": float(rps.group(1)), "p50": pct("50"), "p99": pct("99")}


def _httpx_load(url: str, token: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--load", url, token, str(SECONDS), str(CONCURRENCY)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import httpx
    from _store_fixture import build

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build(home, PROJECTS)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(home)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "NAVI_INTEGRATIONS_HOME": str(home)},
        )
        try:
            assert server.stdout is not None
            base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
            token = (home / "api-token").read_text().strip()
            return _measure(base, token, httpx)
        finally:
            server.terminate()
            server.wait(20)


def _measure(base: str, token: str, httpx: Any) -> int:
    token_url = f"{base}/api/credentials/linear/token?projectId={PROJECT}"
    bare_url = f"{base}/bench/bare"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=30) as client:
        for url in (token_url, bare_url):
            for _ in range(50):  # warm up: imports, caches, the first connections
                client.get(url).raise_for_status()
    generator = "wrk" if shutil.which("wrk") else "httpx (asyncio, in its own process)"
    run = _wrk if shutil.which("wrk") else _httpx_load
    rounds: dict[str, list[dict[str, float]]] = {"bare": [], "token": []}
    for _ in range(ROUNDS):
        rounds["bare"].append(run(bare_url, token))
        rounds["token"].append(run(token_url, token))

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rounds[name])

    print(f"\n1. GET /api/credentials/linear/token, {CONCURRENCY} connections, load: {generator}")
    print(f"   ({ROUNDS} alternating rounds of {SECONDS:.0f} s each, medians)")
    for name in ("bare", "token"):
        print(
            f"   {name:<6} {med(name, 'rps'):9.0f} req/s   p50 {med(name, 'p50'):7.2f} ms"
            f"   p99 {med(name, 'p99'):7.2f} ms"
        )
    ratio = med("token", "rps") / med("bare", "rps")
    ok = ratio >= 0.8
    print(f"   token / bare: {ratio:.0%} (target >= 80%){'  ok' if ok else '  BELOW TARGET'}")

    with httpx.Client(headers=headers, timeout=30) as client:
        count = len(client.get(f"{base}/api/integrations/status").json()["integrations"])
        # the fixture's 20 providers (the five plugins' providers and 15 TOML files) and
        # the plugins' hosted MCP ones
        assert count >= 20, count
        print(f"\n2. GET /api/integrations/status, {count} providers x {PROJECTS} projects")
        for label, url in (
            ("user scope", f"{base}/api/integrations/status"),
            (f"?projectId={PROJECT}", f"{base}/api/integrations/status?projectId={PROJECT}"),
        ):
            for _ in range(20):
                client.get(url).raise_for_status()
            samples = []
            for _ in range(400):
                start = time.perf_counter()
                client.get(url).raise_for_status()
                samples.append((time.perf_counter() - start) * 1000)
            samples.sort()
            print(
                f"   {label:<24} p50 {samples[len(samples) // 2]:7.2f} ms"
                f"   p99 {samples[int(len(samples) * 0.99)]:7.2f} ms   (400 requests)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
    elif sys.argv[1:2] == ["--load"]:
        load(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(main())
