"""Figures: hosted MCP servers with MCP authorization, against the loopback SDK server
and its authorization server (tests/mcp_auth_server.py), on the default SQLite store.

* `navi-int connect NAME` to the first tools/list: wall time of the whole process, the
  browser answering as soon as the URL is shown (discovery, registration, PKCE sign-in,
  token exchange, initialize, tools/list), and with the stored grant reused (no browser);
  each against a baseline measured in the same run: a Python process that lists the tools
  with the MCP SDK and a bearer token it already has.
* Refresh requests when 50 threads and 4 `navi-int token` processes ask for an expired
  token at once: must be exactly 1 in every round (the rotated refresh token kept).
* `navi-int token NAME --headers` (a Claude Code headersHelper) as a whole process against
  `navi-int token linear`, medians of 21 alternating runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _timing import median_runtimes, report

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "mcp_auth_server.py"
NAVI = [sys.executable, "-m", "navi_integrations.cli"]
KEY = "lin_api_" + "Benchmark" * 4 + "wxyz"

LIST_WITH_TOKEN = """
import asyncio, sys, httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
async def main():
    headers = {"Authorization": "Bearer " + sys.argv[2]}
    async with httpx.AsyncClient(headers=headers) as http, \\
            streamable_http_client(sys.argv[1], http_client=http) as (r, w, _), \\
            ClientSession(r, w) as s:
        await s.initialize()
        await s.list_tools()
asyncio.run(main())
"""


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(SERVER)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    base = json.loads(process.stdout.readline())["url"]
    for _ in range(100):
        try:
            httpx.get(f"{base}/_admin/stats").raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return process, base


def connect_seconds(name: str) -> tuple[float, bool]:
    """Wall time of `navi-int connect NAME --no-browser --json`, answering each URL at once."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [*NAVI, "connect", name, "--no-browser", "--json", "--timeout", "30"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    signed_in = False
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "url":
            threading.Thread(
                target=httpx.get, args=(event["url"],), kwargs={"follow_redirects": True}
            ).start()
        if event["event"] == "connected":
            signed_in = bool(event["signedIn"])
    if process.wait(timeout=60) != 0:
        raise SystemExit(f"connect {name} failed")
    return time.perf_counter() - start, signed_in


def token_of(name: str) -> str:
    return subprocess.run(
        [*NAVI, "token", name], capture_output=True, text=True, check=True
    ).stdout.strip()


def expire(base: str, name: str) -> None:
    """Expire the server's tokens and mark the stored one expired, as time would."""
    from navi_integrations import IntegrationService
    from navi_integrations.scopes import Scope

    httpx.post(f"{base}/_admin/expire").raise_for_status()
    service = IntegrationService()
    creds, _ = service.credentials_in_scope(
        name, Scope.user(), touch=False, require_enabled=False, fresh=False
    )
    values = {k: creds.reveal(k) for k in creds}
    values["expiresAt"] = str(int(time.time() * 1000) - 1000)
    service.store_credentials(name, values)


def refresh_round(base: str, name: str) -> tuple[int, float, int]:
    """50 threads and 4 processes read an expired token at once: refresh requests, seconds
    until all have one, and how many distinct tokens they got."""
    from navi_integrations import IntegrationService

    expire(base, name)
    httpx.post(f"{base}/_admin/config", json={"refresh_delay": 0.3}).raise_for_status()
    before = httpx.get(f"{base}/_admin/stats").json()["refreshes"]
    racing = IntegrationService()
    _ = racing.catalog
    go = time.time() + 1.5
    wait = f"import time; time.sleep(max(0, {go!r} - time.time()))"
    # Each process imports first, then waits for the common start, then runs `token`.
    code = "\n".join(
        [
            "import sys",
            "from navi_integrations.cli import main",
            wait,
            f"sys.argv = ['navi-int', 'token', {name!r}]",
            "main()",
        ]
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    tokens: list[str] = []

    def ask() -> None:
        time.sleep(max(0, go - time.time()))
        tokens.append(racing.get_token(name).value.get_secret_value())

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tokens += [p.communicate(timeout=60)[0].strip() for p in processes]
    elapsed = time.time() - go
    refreshes = httpx.get(f"{base}/_admin/stats").json()["refreshes"] - before
    return refreshes, elapsed, len(set(tokens))


def main() -> int:
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    server, base = start_server()
    ok = True
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ.update(NAVI_INTEGRATIONS_HOME=home, NAVI_INTEGRATIONS_KEYRING="0")
            os.environ.pop("NAVI_INTEGRATIONS_DB_URL", None)
            subprocess.run(
                [*NAVI, "mcp", "add", "acme", f"{base}/mcp"], check=True, capture_output=True
            )
            subprocess.run(
                [*NAVI, "connect", "linear", "--no-test", "--stdin"],
                input=f"apiKey={KEY}\n",
                text=True,
                check=True,
                capture_output=True,
            )

            signed: list[float] = []
            reused: list[float] = []
            baseline: list[float] = []
            for _ in range(7):
                subprocess.run([*NAVI, "disconnect", "acme"], check=True, capture_output=True)
                seconds, fresh = connect_seconds("acme")
                assert fresh
                signed.append(seconds)
                seconds, fresh = connect_seconds("acme")
                assert not fresh
                reused.append(seconds)
                token = token_of("acme")
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", LIST_WITH_TOKEN, f"{base}/mcp", token], check=True
                )
                baseline.append(time.perf_counter() - start)
            base_s = statistics.median(baseline)
            print("\nconnect NAME to the first tools/list (median of 7, whole process)")
            print(f"  baseline: SDK process listing tools with a token {base_s * 1000:8.1f} ms")
            for label, values in (
                ("sign-in (discovery, DCR, PKCE)", signed),
                ("stored grant reused", reused),
            ):
                value = statistics.median(values)
                print(f"  connect acme, {label:<31} {value * 1000:8.1f} ms  {value / base_s:5.2f}x")

            print("\nexpired token, 50 threads + 4 processes at once (5 rounds)")
            for i in range(5):
                refreshes, elapsed, distinct = refresh_round(base, "acme")
                mark = "ok" if refreshes == 1 and distinct == 1 else "FAIL"
                ok = ok and mark == "ok"
                print(
                    f"  round {i + 1}: {refreshes} refresh request(s), {distinct} distinct "
                    f"token(s), all served in {elapsed * 1000:.0f} ms  {mark}"
                )

            token_of("acme")  # fresh again, so the helper reads without refreshing
            results = median_runtimes(
                {
                    "navi-int token linear": [*NAVI, "token", "linear"],
                    "navi-int token acme --headers": [*NAVI, "token", "acme", "--headers"],
                }
            )
            ok = (
                report(
                    "token NAME --headers against token linear (median of 21, whole process)",
                    "navi-int token linear",
                    results,
                    1.25,
                )
                and ok
            )
    finally:
        server.kill()
        server.wait()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
