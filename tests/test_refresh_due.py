"""`navi-int refresh --due` against a real OAuth server on loopback: what is due is renewed
once however many refreshers run, what is not due is left alone, idle refresh tokens are
exercised before the provider's inactivity limit, and a failure says how to fix it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from navi_integrations import IntegrationService, Scope

from .oauth_harness import OAuthServer
from .test_oauth import CLIENT_ID, CLIENT_SECRET, browse, stored


def _sign_in(service: IntegrationService, account: str | None = None) -> None:
    service.sign_in(
        "google",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        services=["gmail"],
        open_browser=browse,
        timeout=30,
        account=account,
    )


def _expires_in(service: IntegrationService, seconds: float, account: str) -> None:
    creds, _ = service.credentials_in_scope(
        "google", Scope.of(None, account), touch=False, require_enabled=False, fresh=False
    )
    values = {k: creds.reveal(k) for k in creds}
    values["expiresAt"] = str(int((time.time() + seconds) * 1000))
    service.store_credentials("google", values, account=account)


def _refresh(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "navi_integrations.cli", "refresh", "--due", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_due_grants_are_renewed_once_and_others_left_alone(
    oauth_server: OAuthServer, navi_service: Any, navi_home: Path
) -> None:
    _sign_in(navi_service, account="soon")
    _sign_in(navi_service, account="later")
    _expires_in(navi_service, 600, "soon")  # within 30 minutes
    _expires_in(navi_service, 7200, "later")  # not
    time.sleep(1.1)  # the server's JWTs carry a one-second "iat"
    before = oauth_server.control(delayMs=300).get("refresh_token", 0)
    old = stored(navi_service)["accessToken"]

    runs = [_refresh() for _ in range(3)]  # three refreshers at once (server, gateway, cron)
    outputs = [r.communicate(timeout=60) for r in runs]
    assert all(r.returncode == 0 for r in runs), [o[1] for o in outputs]
    assert oauth_server.control(delayMs=0)["refresh_token"] - before == 1  # single flight
    reports = [json.loads(out) for out, _ in outputs]
    assert all(r["rowsRead"] == 1 for r in reports)  # only the due row is read
    assert sum(r["refreshed"] for r in reports) >= 1
    assert {g["account"] for r in reports for g in r["grants"]} == {"soon"}
    assert all(CLIENT_SECRET not in out + err for out, err in outputs)

    soon = navi_service.get_token("google", account="soon")
    assert soon.value.get_secret_value() != old
    assert soon.expires_at is not None and soon.expires_at > (time.time() + 3000) * 1000
    # renewed: nothing is due any more
    again = _refresh()
    assert json.loads(again.communicate(timeout=60)[0])["rowsRead"] == 0


def test_idle_refresh_tokens_are_exercised_before_the_limit(
    oauth_server: OAuthServer, navi_service: Any
) -> None:
    _sign_in(navi_service)
    account = navi_service.status(providers=["google"])[0].account_in_use
    _expires_in(navi_service, 400 * 86400, account)  # an access token that outlives the limit
    before = oauth_server.control().get("refresh_token", 0)
    # Google revokes refresh tokens unused for 180 days: due a tenth before (162 days).
    quiet = _refresh("--within", "150d")
    assert json.loads(quiet.communicate(timeout=60)[0])["rowsRead"] == 0
    idle = _refresh("--within", "170d")
    report = json.loads(idle.communicate(timeout=60)[0])
    assert idle.returncode == 0
    assert [(g["outcome"], g["reason"]) for g in report["grants"]] == [("refreshed", "idle")]
    assert oauth_server.control()["refresh_token"] - before == 1
    later = _refresh()  # exercised (next deadline in 162 days), its new token lasts an hour
    assert json.loads(later.communicate(timeout=60)[0])["rowsRead"] == 0


def test_a_failed_refresh_says_how_to_fix_it(oauth_server: OAuthServer, navi_service: Any) -> None:
    _sign_in(navi_service)
    account = navi_service.status(providers=["google"])[0].account_in_use
    _expires_in(navi_service, 60, account)
    oauth_server.control(faults=["invalid_grant"])
    run = _refresh()
    out, err = run.communicate(timeout=60)
    assert run.returncode == 1
    [grant] = json.loads(out)["grants"]
    assert grant["outcome"] == "failed"
    assert grant["advice"]["command"] == "navi-int connect google"
    assert CLIENT_SECRET not in out + err


def test_the_http_server_and_the_gateway_refresh_in_the_background(
    oauth_server: OAuthServer, navi_service: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    import asyncio

    from fastapi.testclient import TestClient
    from navi_integrations.gateway import Gateway
    from navi_integrations.server import create_app

    _sign_in(navi_service)
    account = navi_service.status(providers=["google"])[0].account_in_use
    monkeypatch.setenv("NAVI_INTEGRATIONS_REFRESH_INTERVAL", "0.2")

    def refreshes_while(run: Any) -> int:
        time.sleep(1.1)  # a new "iat"
        _expires_in(navi_service, 60, account)
        before = oauth_server.control().get("refresh_token", 0)
        run()
        return int(oauth_server.control()["refresh_token"] - before)

    def serve() -> None:
        with TestClient(create_app(navi_service)):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not _renewed():
                time.sleep(0.1)

    def gateway() -> None:
        async def run() -> None:
            async with Gateway(navi_service, listings_path=tmp_path / "l.json").running():
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not _renewed():
                    await asyncio.sleep(0.1)

        asyncio.run(run())

    def _renewed() -> bool:  # read as stored: a token read would refresh it itself
        creds, _ = navi_service.credentials_in_scope(
            "google", Scope.of(None, account), touch=False, require_enabled=False, fresh=False
        )
        return int(creds.reveal("expiresAt")) > (time.time() + 600) * 1000

    assert refreshes_while(serve) == 1  # once, though it ran every 0.2 s
    assert refreshes_while(gateway) == 1
