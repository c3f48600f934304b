"""Figure: single-flight OAuth refresh.

100 threads in this process and 4 other processes ask for an expired Google
token at the same instant, against the real OAuth server of tests/oauth_server
(token endpoint slowed to 300 ms). Printed: how many refresh requests reached
the token endpoint (must be exactly 1), and the time until all 104 callers hold
the new token against the time of a single refresh by a lone caller (<= 1.5x).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "oauth_server"
CLIENT = ("123456789012-bench.apps.googleusercontent.com", "GOCSPX-" + "B" * 28)
WORKER = (
    "import sys, time\n"
    "from navi_integrations import IntegrationService\n"
    "s = IntegrationService(); s.catalog; s.registry; s.store\n"
    "start = float(sys.argv[1])\n"
    "time.sleep(max(0, start - time.time()))\n"
    "token = s.get_token('google').value.get_secret_value()\n"
    "print(time.time() - start, token)\n"
)


def control(url: str, **change: object) -> dict[str, int]:
    return dict(httpx.post(f"{url}/__control", json=change).json()["counts"])


def sign_in(url: str) -> None:
    from navi_integrations import IntegrationService

    def browse(link: str) -> None:
        threading.Thread(target=httpx.get, args=(link,), kwargs={"follow_redirects": True}).start()

    client_id, client_secret = CLIENT
    IntegrationService().sign_in(
        "google",
        client_id=client_id,
        client_secret=client_secret,
        services=["gmail"],
        open_browser=browse,
        timeout=30,
    )


def expire() -> None:
    from navi_integrations import IntegrationService, Scope

    service = IntegrationService()
    creds, _ = service.credentials_in_scope(
        "google", Scope.user(), touch=False, require_enabled=False, fresh=False
    )
    values = {k: creds.reveal(k) for k in creds}
    values["expiresAt"] = str(int(time.time() * 1000) - 1000)
    service.store_credentials("google", values)


def lone_refresh(url: str) -> float:
    from navi_integrations import IntegrationService

    expire()
    service = IntegrationService()
    _ = service.catalog, service.registry, service.store
    start = time.perf_counter()
    service.get_token("google")
    return time.perf_counter() - start


def crowd_refresh(url: str) -> tuple[float, int, int]:
    from navi_integrations import IntegrationService

    expire()
    before = control(url).get("refresh_token", 0)
    start = time.time() + 3.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, repr(start)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    service = IntegrationService()
    _ = service.catalog, service.registry, service.store
    durations: list[float] = []
    tokens: set[str] = set()
    lock = threading.Lock()

    def ask() -> None:
        time.sleep(max(0, start - time.time()))
        token = service.get_token("google").value.get_secret_value()
        with lock:
            durations.append(time.time() - start)
            tokens.add(token)

    threads = [threading.Thread(target=ask) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        seconds, token = process.communicate(timeout=120)[0].split()
        durations.append(float(seconds))
        tokens.add(token)
    refreshes = control(url).get("refresh_token", 0) - before
    return max(durations), refreshes, len(tokens)


def main() -> int:
    node = shutil.which("node")
    if node is None or not (SERVER / "node_modules").is_dir():
        print("needs Node.js and `npm ci` in tests/oauth_server")
        return 1
    server = subprocess.Popen(
        [node, str(SERVER / "server.mjs")], stdout=subprocess.PIPE, text=True, cwd=SERVER
    )
    assert server.stdout is not None
    url = json.loads(server.stdout.readline())["url"]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(
                {
                    "NAVI_INTEGRATIONS_HOME": tmp,
                    "NAVI_INTEGRATIONS_KEYRING": "0",
                    "NAVI_GOOGLE_AUTH_URL": f"{url}/authorize",
                    "NAVI_GOOGLE_TOKEN_URL": f"{url}/token",
                    "NAVI_GOOGLE_USERINFO_URL": f"{url}/userinfo",
                }
            )
            sign_in(url)
            control(url, delayMs=300)
            lone = statistics.median(lone_refresh(url) for _ in range(5))
            results = [crowd_refresh(url) for _ in range(3)]
    finally:
        server.terminate()
    crowd = statistics.median(r[0] for r in results)
    refreshes = [r[1] for r in results]
    tokens = [r[2] for r in results]
    ratio = crowd / lone
    print("\nSingle-flight refresh: 100 threads + 4 processes, token endpoint 300 ms (3 rounds)")
    print(f"  refresh requests per round: {refreshes} (must be exactly 1)")
    print(f"  distinct tokens handed out per round: {tokens} (must be 1)")
    print(f"  one caller refreshing alone   {lone * 1000:8.1f} ms  1.00x")
    print(
        f"  all 104 callers hold the token {crowd * 1000:7.1f} ms  {ratio:5.2f}x"
        f"  {'ok' if ratio <= 1.5 else 'OVER 1.5x'}"
    )
    ok = all(r == 1 for r in refreshes) and all(t == 1 for t in tokens) and ratio <= 1.5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
