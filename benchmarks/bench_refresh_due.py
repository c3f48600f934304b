"""Figures of issue 19: ``refresh --due`` over a big store, and ``token`` for a bound account.

1. ``refresh --due`` in stores of 20,000 and 200,000 credential rows, each
   with the same 100 Google grants due (their access tokens expire in 10
   minutes), renewed against a local stand-in for Google's token endpoint
   (loopback HTTP, the refresh itself real). Printed: rows the due query read
   and the time of a run, per store; the ratio of the two times (the target:
   it does not grow with the store, <= 1.5x for 10x the rows), and the time of
   a run with nothing due (the index probe alone).
2. ``navi-int token linear --project P``, whole processes, median of 21: a
   project bound to its non-default account against one using its default.
   Target: <= 1.10x.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import _store_fixture
from _timing import median_runtimes, report

DUE = 100


def make_due(home: Path, count: int) -> None:
    """Give ``count`` projects' Google rows a grant that expires in 10 minutes."""
    from navi_integrations import IntegrationService

    os.environ["NAVI_INTEGRATIONS_HOME"] = str(home)
    service = IntegrationService()
    soon = str(int((time.time() + 600) * 1000))
    for n in range(count):
        service.store_credentials(
            "google",
            {
                "clientId": "bench.apps.googleusercontent.com",
                "clientSecret": "GOCSPX-bench",
                "accessToken": f"ya29.old-{n}",
                "refreshToken": f"1//refresh-{n}",
                "expiresAt": soon,
                "scope": "openid email",
            },
            project_id=f"project-{n:05d}",
        )


def run_due(home: Path) -> tuple[int, int, float]:
    from navi_integrations import IntegrationService

    os.environ["NAVI_INTEGRATIONS_HOME"] = str(home)
    service = IntegrationService()
    service.catalog  # noqa: B018  (loaded before the clock starts)
    service.registry  # noqa: B018
    started = time.perf_counter()
    found = service.refresh_due(within=1800)
    seconds = time.perf_counter() - started
    assert not found.failed, [f.message for f in found.failed]
    return found.rows_read, found.refreshed, seconds


def main() -> int:
    from navi_integrations.testing import LocalHTTPServer, Reply, Request

    ok = True
    issued = iter(range(10**9))

    def token(request: Request) -> Reply:
        n = next(issued)
        return Reply(
            200,
            json={"access_token": f"ya29.new-{n}", "expires_in": 3600, "token_type": "Bearer"},
        )

    with tempfile.TemporaryDirectory() as tmp, LocalHTTPServer() as google:
        google.route("POST", "/token", token)
        os.environ["NAVI_GOOGLE_TOKEN_URL"] = google.url + "/token"
        figures = {}
        for name, projects in (("20,000 rows", 1_000), ("200,000 rows", 10_000)):
            home = Path(tmp) / name.split()[0].replace(",", "")
            _store_fixture.build(home, projects)
            make_due(home, DUE)
            rows, refreshed, seconds = run_due(home)
            idle = statistics.median(run_due(home)[2] for _ in range(5))
            figures[name] = seconds
            print(
                f"refresh --due, {name}: read {rows} rows, refreshed {refreshed} in "
                f"{seconds * 1000:.0f} ms; nothing due: {idle * 1000:.2f} ms"
            )
            ok = ok and rows == DUE and refreshed == DUE
        ratio = figures["200,000 rows"] / figures["20,000 rows"]
        print(f"  200,000 rows / 20,000 rows: {ratio:.2f}x (target <= 1.5x)")
        ok = ok and ratio <= 1.5

        # token for a bound non-default account against the default one (200,000 rows)
        from navi_integrations import IntegrationService

        service = IntegrationService()
        service.store_credentials(
            "linear", {"apiKey": "lin_api_" + "b" * 40}, project_id="project-00002", account="work"
        )
        service.use_account("linear", "work", project_id="project-00002")
        navi = [sys.executable, "-m", "navi_integrations.cli", "token", "linear", "--project"]
        out = os.popen(" ".join([*navi, "project-00002"])).read().strip()
        assert out == "lin_api_" + "b" * 40, out
        results = median_runtimes(
            {
                "token, default account": [*navi, "project-00001"],
                "token, bound non-default account": [*navi, "project-00002"],
            }
        )
        ok = report("navi-int token (200,000 rows)", "token, default account", results, 1.10) and ok
    print(json.dumps({"ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
