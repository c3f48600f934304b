"""The HTTP API over real HTTP: the PRD's endpoints, the CLI's documents, access control,
the audit log, live events from other processes, and metrics."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from navi_integrations.testing import LocalHTTPServer

from .cli_helpers import navi
from .provider_apis import LINEAR_KEY, apis, serve
from .server_harness import Running, running_server

pytest.importorskip("fastapi")


@pytest.fixture
def server(
    navi_home: Path, local_http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Running]:
    serve(local_http_server, apis(local_http_server.url)["linear"], monkeypatch)
    with running_server() as running:
        yield running


def _cli_json(*args: str) -> Any:
    done = navi(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_connect_refused_changes_nothing_then_saved_as_the_cli_sees_it(server: Running) -> None:
    with server.client() as client:
        bad = client.post(
            "/api/credentials/linear", json={"credentials": {"apiKey": LINEAR_KEY[:-2] + "zz"}}
        )
        assert bad.status_code == 422
        assert bad.json()["saved"] is False
        assert bad.json()["action"] == "reauth" and bad.json()["message"]
        assert client.get("/api/credentials/linear").json()["hasCredentials"] is False
        malformed = client.post("/api/credentials/linear", json={"credentials": {"apiKey": "x"}})
        assert malformed.status_code == 422
        assert malformed.json()["problems"][0]["field"] == "apiKey"

        good = client.post("/api/credentials/linear", json={"credentials": {"apiKey": LINEAR_KEY}})
        assert good.status_code == 200, good.text
        assert good.json()["account"] == "ada@example.com"
        assert LINEAR_KEY not in good.text
        api_doc = client.get("/api/integrations/status").json()
    # The same document as the CLI's --json, with what a settings page needs.
    assert api_doc == _cli_json("list")
    linear = next(e for e in api_doc["integrations"] if e["provider"] == "linear")
    assert linear["account"] == "ada@example.com"
    assert linear["status"]["global"]["health"] == "healthy"


def test_every_prd_endpoint(server: Running) -> None:
    with server.client(headers={"X-Navi-Caller": "agent-7"}) as client:
        assert client.post(
            "/api/credentials/linear", json={"credentials": {"apiKey": LINEAR_KEY}}
        ).is_success
        providers = client.get("/api/credentials/providers").json()["providers"]
        linear = next(p for p in providers if p["id"] == "linear")
        assert linear["credentials"][0]["key"] == "apiKey"
        assert linear["status"]["hasCredentials"] is True
        assert "iconUrl" in linear and "icon" in linear  # additive: the PRD's icon is kept
        assert client.get("/api/credentials/linear").json()["credentialScope"] == "global"
        tested = client.post("/api/credentials/linear/test").json()
        assert tested["ok"] is True and tested["account"] == "ada@example.com"
        assert client.post("/api/integrations/linear/health-check").json()["ok"] is True
        token = client.get("/api/credentials/linear/token", params={"projectId": "acme"}).json()
        assert token == {"type": "api_key", "value": LINEAR_KEY, "expiresAt": None}

        off = client.post(
            "/api/integrations/linear/disable", json={"scope": "project", "projectId": "acme"}
        ).json()
        assert off["status"]["project"]["enabled"] is False
        assert off["status"]["global"]["enabled"] is True
        assert client.get("/api/credentials/linear/token?projectId=acme").status_code == 409
        on = client.post("/api/integrations/linear/enable", json={"projectId": "acme"}).json()
        assert on["status"]["project"]["enabled"] is True
        changed = client.post(
            "/api/integrations/linear/settings", json={"mcpEnabled": False, "scope": "global"}
        ).json()
        assert changed["status"]["global"]["mcpEnabled"] is False
        one = client.get("/api/integrations/linear/status", params={"projectId": "acme"}).json()
        assert one == next(
            e
            for e in _cli_json("list", "--project", "acme")["integrations"]
            if e["provider"] == "linear"
        )
        health = client.get("/api/integrations/linear/health").json()
        assert health["status"] == "healthy" and health["account"] == "ada@example.com"

        audit = client.get("/api/audit").json()["entries"]
        assert audit[0]["kind"] == "token_read" and audit[0]["provider"] == "linear"
        assert audit[0]["projectId"] == "acme" and audit[0]["caller"] == "api (agent-7)"
        assert audit[0]["outcome"] == "IntegrationDisabled"  # the refused read is audited too
        assert audit[1]["outcome"] == "ok"
        assert LINEAR_KEY not in json.dumps(audit)

        gone = client.request("DELETE", "/api/credentials/linear", json={"scope": "global"})
        assert gone.json() == {
            "provider": "linear",
            "projectId": None,
            "account": None,
            "deleted": True,
        }
        missing = client.get("/api/credentials/linear/token")
        assert missing.status_code == 404
        assert missing.json()["advice"]["command"] == "navi-int connect linear"
        assert client.get("/api/credentials/linearr").status_code == 404

        schema = client.get("/openapi.json").json()
    for path in (
        "/api/credentials/providers",
        "/api/credentials/{provider}",
        "/api/credentials/{provider}/test",
        "/api/credentials/{provider}/token",
        "/api/integrations/status",
        "/api/integrations/{provider}/status",
        "/api/integrations/{provider}/enable",
        "/api/integrations/{provider}/disable",
        "/api/integrations/{provider}/settings",
        "/api/integrations/{provider}/health-check",
        "/api/integrations/{provider}/health",
        "/api/audit",
        "/api/events",
        "/api/providers/{provider}/icon",
    ):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/credentials/{provider}"]) == {"get", "post", "delete"}
    # navi-int audit lists the same reads; navi-int token is audited as the CLI.
    assert navi("token", "linear").returncode == 1
    entries = _cli_json("audit")["entries"]
    assert [e["caller"] for e in entries[:3]] == ["cli", "api (agent-7)", "api (agent-7)"]
    text = navi("audit")
    assert "token_read" in text.stdout and "acme" in text.stdout


def test_access_control(server: Running) -> None:
    url = server.url
    assert httpx.get(f"{url}/api/integrations/status").status_code == 401
    wrong = httpx.get(f"{url}/api/integrations/status", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "navi-int api-token" in wrong.json()["advice"]["command"]
    assert httpx.get(f"{url}/metrics").status_code == 401
    # DNS rebinding: a page on attacker.example resolving to 127.0.0.1 is refused.
    rebound = httpx.get(
        f"{url}/api/integrations/status",
        headers={"Host": "attacker.example", "Authorization": f"Bearer {server.token}"},
    )
    assert rebound.status_code == 403
    assert httpx.get(f"{url}/", headers={"Host": "attacker.example:80"}).status_code == 403
    for name in ("localhost", "127.0.0.1"):
        ok = httpx.get(
            f"{url}/api/integrations/status",
            headers={"Host": f"{name}:1", "Authorization": f"Bearer {server.token}"},
        )
        assert ok.status_code == 200
    # No CORS: a preflight from another origin is not granted, responses carry no ACAO.
    preflight = httpx.options(
        f"{url}/api/integrations/status",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    with server.client(headers={"Origin": "http://evil.example"}) as client:
        assert "access-control-allow-origin" not in client.get("/api/integrations/status").headers

    # The browser: a one-time code gives an HttpOnly, SameSite=Strict session cookie.
    browser = httpx.Client(base_url=url, timeout=30.0)
    assert "Login code" in browser.get("/").text
    code = server.settings.sessions.new_code()
    login = browser.get(f"/login?code={code}")
    assert login.status_code == 303
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert httpx.get(f"{url}/login?code={code}").status_code == 401  # spent
    page = browser.get("/")
    assert 'name="csrf-token"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    csrf = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    assert browser.get("/api/integrations/status").status_code == 200
    refused = browser.post("/api/integrations/linear/disable", json={"scope": "global"})
    assert refused.status_code == 403 and refused.json()["error"] == "CsrfRefused"
    assert _cli_json("list")["integrations"][2]["status"]["global"]["enabled"] is True
    done = browser.post(
        "/api/integrations/linear/disable", json={"scope": "global"}, headers={"X-CSRF-Token": csrf}
    )
    assert done.status_code == 200
    browser.close()


def test_bad_bodies_get_a_clear_4xx_and_change_nothing(server: Running) -> None:
    with server.client() as client:
        before = client.get("/api/integrations/status").json()
        for path, body in [
            ("/api/integrations/linear/disable", {"scope": "project"}),
            ("/api/integrations/linear/disable", {"scope": "everywhere"}),
            ("/api/integrations/linear/disable", {"projectId": "../etc"}),
            ("/api/integrations/linear/settings", {"scope": "global"}),
            ("/api/integrations/linear/settings", {"mcpEnabled": "maybe"}),
            ("/api/credentials/linear", {"credentials": "lin_api"}),
            ("/api/credentials/linear", {"credentials": {"apiKey": LINEAR_KEY}, "extra": 1}),
        ]:
            response = client.post(path, json=body)
            assert response.status_code == 422, (path, body, response.text)
            assert response.json()["message"], response.text
        assert client.post("/api/integrations/nope/enable").status_code == 404
        assert client.get("/api/integrations/status?projectId=%20").status_code == 422
        assert client.get("/api/integrations/status").json() == before


def test_serve_command_prints_a_login_link_and_stays_on_loopback(
    navi_home: Path, tmp_path: Path
) -> None:
    refused = navi("serve", "--host", "0.0.0.0", "--port", "0")
    assert refused.returncode == 2
    assert "--allow-remote" in refused.stderr
    token = navi("api-token")
    assert token.returncode == 0 and token.stdout.startswith("navi_")
    path = Path(navi("api-token", "--path").stdout.strip())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == token.stdout  # created once, read by every later call

    process = subprocess.Popen(
        [sys.executable, "-m", "navi_integrations.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Settings page: http://127.0.0.1:"), line
        link = line.split(": ", 1)[1].strip()
        browser = httpx.Client(timeout=30.0)
        assert browser.get(link).status_code == 303
        assert "Integrations" in browser.get(link.split("login?")[0]).text
        status = httpx.get(
            link.split("login?")[0] + "api/integrations/status",
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
        )
        assert status.status_code == 200
    finally:
        process.terminate()
        process.wait(10)


def test_token_reads_are_audited_in_batches_and_none_is_lost_on_shutdown(
    navi_home: Path,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from navi_integrations import IntegrationService

    service = IntegrationService()
    service.connect("linear", {"apiKey": LINEAR_KEY}, test=False)
    with running_server(service) as running, running.client() as client:

        def read(_: int) -> int:
            return client.get("/api/credentials/linear/token").status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(read, range(120))) == {200}
        refused = client.get("/api/credentials/linear/token", params={"projectId": "off"})
        assert refused.status_code == 200  # the project inherits the user's key
    # Shut down: every queued entry was written (the store, not the server, is asked).
    entries = IntegrationService().audit_log(limit=1000, kind="token_read")
    assert len(entries) == 121 and {e["caller"] for e in entries} == {"api"}


def test_login_link_gives_a_fresh_single_use_link_while_serve_runs(navi_home: Path) -> None:
    none = navi("login-link")
    assert none.returncode == 1 and "no `navi-int serve` is running" in none.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "navi_integrations.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().split(": ", 1)[1].strip()
        announced = navi_home / "serve.json"
        assert stat.S_IMODE(announced.stat().st_mode) == 0o600
        fresh = navi("login-link")
        assert fresh.returncode == 0, fresh.stderr
        link = fresh.stdout.strip()
        assert link.startswith(first.split("login?")[0]) and link != first
        assert httpx.get(link).status_code == 303
        assert httpx.get(link).status_code == 401  # single use
        again = navi("serve", "--login", "--port", "0")
        assert again.returncode == 0 and httpx.get(again.stdout.strip()).status_code == 303
        document = json.loads(navi("login-link", "--json").stdout)
        assert document["expiresIn"] == 600 and "code=" in document["url"]
        # A browser session cannot mint links; only the API token can.
        browser = httpx.Client(timeout=30.0)
        assert browser.get(first).status_code == 303
        page = browser.get(first.split("login?")[0]).text
        csrf = page.split('name="csrf-token" content="')[1].split('"')[0]
        minted = browser.post(
            first.split("login?")[0] + "api/login-links", headers={"X-CSRF-Token": csrf}
        )
        assert minted.status_code == 403
    finally:
        process.terminate()
        process.wait(10)
    assert not (navi_home / "serve.json").exists()
    after = navi("login-link")
    assert after.returncode == 1 and "no `navi-int serve` is running" in after.stderr


def _events(running: Running, project: str | None, into: list[tuple[str, Any]]) -> threading.Event:
    ready = threading.Event()

    def listen() -> None:
        params = {"projectId": project} if project else {}
        with (
            running.client() as client,
            client.stream("GET", "/api/events", params=params, timeout=None) as response,
        ):
            event = ""
            try:
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        into.append((event, json.loads(line[6:])))
                        if event == "ready":
                            ready.set()
            except httpx.RemoteProtocolError:  # the server stops at the end of the test
                pass

    threading.Thread(target=listen, daemon=True).start()
    assert ready.wait(10)
    return ready


def test_events_stream_changes_from_another_process_within_two_seconds(
    server: Running,
) -> None:
    seen: list[tuple[str, Any]] = []
    _events(server, "acme", seen)
    # Another process: the CLI connects, then switches Linear off for the project.
    connected = navi("connect", "linear", "--stdin", stdin=f"apiKey={LINEAR_KEY}\n")
    assert connected.returncode == 0, connected.stderr
    done = time.monotonic()
    while not any(e == "status" and d["hasCredentials"] for e, d in seen):
        assert time.monotonic() - done < 2.0, seen
        time.sleep(0.02)
    assert navi("disable", "linear", "--project", "acme").returncode == 0
    done = time.monotonic()
    while not any(e == "status" and d["status"]["project"]["enabled"] is False for e, d in seen):
        assert time.monotonic() - done < 2.0, seen
        time.sleep(0.02)
    # A change this server makes arrives as a change event too.
    with server.client() as client:
        client.post("/api/integrations/linear/enable", json={"projectId": "acme"})
    deadline = time.monotonic() + 2.0
    while not any(e == "change" and d["after"] == "enabled" for e, d in seen):
        assert time.monotonic() < deadline, seen
        time.sleep(0.02)
    assert LINEAR_KEY not in json.dumps(seen)


def test_metrics_count_setup_use_and_health_without_secrets(server: Running) -> None:
    with server.client() as client:
        client.post("/api/credentials/linear", json={"credentials": {"apiKey": LINEAR_KEY + "0"}})
        client.post("/api/credentials/linear", json={"credentials": {"apiKey": LINEAR_KEY}})
        client.get("/api/credentials/linear/token")
        text = client.get("/metrics").text
    assert 'navi_setup_attempts_total{provider="linear"} 2.0' in text
    assert 'navi_setup_successes_total{provider="linear"} 1.0' in text
    assert 'navi_token_reads_total{outcome="ok",provider="linear"} 1.0' in text
    assert 'navi_time_to_first_use_seconds_count{provider="linear"} 1.0' in text
    assert 'navi_recovery_outcomes_total{action="reauth",provider="linear"} 1.0' in text
    assert 'navi_provider_health{provider="linear",state="healthy"} 1.0' in text
    assert "navi_setup_duration_seconds_bucket" in text
    assert LINEAR_KEY[8:20] not in text


def test_mounted_in_a_host_app(navi_home: Path) -> None:
    """The factory is an ASGI app a host mounts under its own prefix."""
    with running_server(mount="/integrations") as running, running.client() as client:
        response = client.get("/integrations/api/integrations/status")
        assert response.status_code == 200
        browser = httpx.Client(base_url=running.url)
        code = running.settings.sessions.new_code()
        login = browser.get(f"/integrations/login?code={code}")
        assert login.headers["location"] == "/integrations/"
        assert "path=/integrations/" in login.headers["set-cookie"].lower()
        assert '<base href="/integrations/">' in browser.get("/integrations/").text


def test_project_switches_inherit_until_set_and_reset(server: Running) -> None:
    with server.client() as client:
        assert client.post(
            "/api/credentials/linear", json={"credentials": {"apiKey": LINEAR_KEY}}
        ).is_success
        entry = client.get("/api/integrations/linear/status?projectId=acme").json()
        unset = {"enabled": None, "mcpEnabled": None, "skillEnabled": None}
        assert entry["projectSwitches"] == unset  # everything inherited
        assert client.get("/api/integrations/linear/status").json()["projectSwitches"] is None

        acme = {"scope": "project", "projectId": "acme"}
        client.post("/api/integrations/linear/disable", json=acme)
        client.post("/api/integrations/linear/settings", json={"mcpEnabled": False, **acme})
        entry = client.get("/api/integrations/linear/status?projectId=acme").json()
        assert entry["projectSwitches"] == {**unset, "enabled": False, "mcpEnabled": False}
        # The global switch moving does not move a switch the project set.
        client.post("/api/integrations/linear/disable", json={"scope": "global"})
        client.post("/api/integrations/linear/enable", json={"scope": "global"})
        assert client.get("/api/credentials/linear/token?projectId=acme").status_code == 409

        back = client.post("/api/integrations/linear/reset", json={**acme, "switches": ["enabled"]})
        assert back.status_code == 200, back.text
        assert back.json()["projectSwitches"] == {**unset, "mcpEnabled": False}
        assert back.json()["status"]["project"]["enabled"] is True  # inherited again
        assert client.get("/api/credentials/linear/token?projectId=acme").status_code == 200
        listed = _cli_json("list", "--project", "acme")
        assert next(e for e in listed["integrations"] if e["provider"] == "linear") == back.json()

        everything = client.post("/api/integrations/linear/reset", json=acme).json()
        assert everything["projectSwitches"] == unset
        assert everything["status"]["project"]["mcpEnabled"] is True
        bad = client.post("/api/integrations/linear/reset", json={**acme, "switches": ["x"]})
        assert bad.status_code == 422 and bad.json()["message"]
    # The service resets global switches to the provider's defaults the same way.
    svc = server.service
    svc.update_settings("linear", skill_enabled=False)
    assert svc.reset_switches("linear").skill_enabled is True
