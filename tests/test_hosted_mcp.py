"""Hosted MCP servers with MCP authorization, against a real SDK server and its own
authorization server on loopback (tests/mcp_auth_server.py), driven as users drive them:
`navi-int mcp add`, `navi-int connect --no-browser --json` with a test "browser" that
follows the sign-in redirects, the generated configs, the gateway, and many callers at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from navi_integrations import GrantRevoked, IntegrationService
from navi_integrations.scopes import Scope

from .cli_helpers import navi
from .mcp_auth_harness import NAVI, Hosted, connect_json


def stored(service: IntegrationService, provider: str = "acme") -> dict[str, str]:
    creds, _ = service.credentials_in_scope(
        provider, Scope.user(), touch=False, require_enabled=False, fresh=False
    )
    return {k: creds.reveal(k) for k in creds}


async def _list_tools(url: str, headers: dict[str, str]) -> list[str]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx.AsyncClient(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return sorted(t.name for t in (await session.list_tools()).tools)


def added(hosted: Hosted, *extra: str) -> None:
    result = navi("mcp", "add", "acme", hosted.mcp, *extra)
    assert result.returncode == 0, result.stderr
    assert "Next: navi-int connect acme" in result.stdout


def test_add_then_connect_discovers_registers_and_signs_in(hosted: Hosted, navi_home: Path) -> None:
    added(hosted)
    text = (navi_home / "providers" / "acme.toml").read_text()
    assert hosted.mcp in text and "[mcp]" in text

    code, events, err = connect_json("acme")
    assert code == 0, err
    assert [e["event"] for e in events] == ["url", "waiting", "connected"]
    url = events[0]["url"]
    assert "code_challenge_method=S256" in url and "resource=" in url  # PKCE, RFC 8707
    done = events[-1]
    assert done["tools"] == ["echo", "whoami"] and done["signedIn"] and done["registered"]
    assert done["scopes"] == ["tools"]
    assert hosted.stats()["registrations"] == 1

    service = IntegrationService()
    values = stored(service)
    assert values["resource"] == hosted.mcp
    assert values["tokenEndpoint"] == f"{hosted.base}/token"
    assert values["issuer"].rstrip("/") == hosted.base
    # Encrypted at rest: neither token is in the database file.
    raw = (navi_home / "navi.db").read_bytes() + (
        navi_home / "providers" / "acme.toml"
    ).read_bytes()
    assert values["accessToken"].encode() not in raw
    assert values["refreshToken"].encode() not in raw

    # Connecting again reuses the grant: no browser, no new registration.
    code, events, err = connect_json("acme", browser=False)
    assert code == 0, err
    assert [e["event"] for e in events] == ["connected"] and not events[0]["signedIn"]
    assert hosted.stats()["registrations"] == 1 and hosted.stats()["authorizations"] == 1


def test_generated_configs_and_the_gateway_list_the_tools(hosted: Hosted, navi_home: Path) -> None:
    added(hosted)
    assert connect_json("acme")[0] == 0

    plain = json.loads(navi("mcp-config", "--format", "claude-code").stdout)["mcpServers"]["acme"]
    assert plain["type"] == "http" and plain["url"] == hosted.mcp
    assert asyncio.run(_list_tools(plain["url"], plain["headers"])) == ["echo", "whoami"]

    result = navi("mcp-config", "--format", "claude-code", "--headers-helper")
    entry = json.loads(result.stdout)["mcpServers"]["acme"]
    assert "headers" not in entry and "token acme --headers" in entry["headersHelper"]
    # Claude Code runs the helper through a shell at connect time and reads a JSON object.
    helper = subprocess.run(
        entry["headersHelper"], shell=True, capture_output=True, text=True, check=True
    )
    headers = json.loads(helper.stdout)
    assert headers["Authorization"].startswith("Bearer at_")
    assert asyncio.run(_list_tools(entry["url"], headers)) == ["echo", "whoami"]
    refused = navi("mcp-config", "--format", "agent-sdk", "--headers-helper")
    assert refused.returncode == 2 and "Claude Code" in refused.stderr

    async def through_gateway() -> tuple[list[str], str]:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        env = {k: v for k, v in os.environ.items() if k.startswith(("NAVI_", "PATH", "HOME"))}
        params = StdioServerParameters(command=sys.executable, args=[*NAVI[1:], "gateway"], env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            answer = await session.call_tool("acme__echo", {"text": "through"})
            return tools, " ".join(getattr(c, "text", "") for c in answer.content)

    tools, answer = asyncio.run(through_gateway())
    assert {"acme__echo", "acme__whoami"} <= set(tools) and answer == "through"


def test_expiry_is_refreshed_once_for_50_threads_and_4_processes(
    hosted: Hosted, navi_home: Path
) -> None:
    added(hosted)
    assert connect_json("acme")[0] == 0
    service = IntegrationService()
    before = stored(service)
    hosted.admin("expire")
    hosted.admin("config", refresh_delay=0.3)  # a wide window for a second refresh to slip in
    _store_expired(service)

    start = time.time() + 2.0
    code = (
        "import sys, time\n"
        "from navi_integrations import IntegrationService\n"
        "s = IntegrationService(); s.catalog; s.registry\n"
        "time.sleep(max(0, float(sys.argv[1]) - time.time()))\n"
        "print(s.get_token('acme').value.get_secret_value())\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, repr(start)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    racing = IntegrationService()
    _ = racing.catalog
    tokens: list[str] = []

    def ask() -> None:
        time.sleep(max(0, start - time.time()))
        tokens.append(racing.get_token("acme").value.get_secret_value())

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tokens += [p.communicate(timeout=60)[0].strip() for p in processes]
    assert all(p.returncode == 0 for p in processes)

    stats = hosted.stats()
    assert stats["refreshes"] == 1 and stats["refused_refreshes"] == 0
    after = stored(service)
    assert after["refreshToken"] != before["refreshToken"]  # rotated, and the new one kept
    assert len(tokens) == 54 and set(tokens) == {after["accessToken"]}
    # The renewed token works against the server (bound to its resource, RFC 8707).
    headers = {"Authorization": f"Bearer {after['accessToken']}"}
    assert asyncio.run(_list_tools(hosted.mcp, headers)) == ["echo", "whoami"]


def _store_expired(service: IntegrationService) -> None:
    values = stored(service)
    values["expiresAt"] = str(int(time.time() * 1000) - 1000)
    service.store_credentials("acme", values)


def test_a_revoked_grant_asks_for_reauth_and_connect_heals_it(
    hosted: Hosted, navi_home: Path
) -> None:
    added(hosted)
    assert connect_json("acme")[0] == 0
    service = IntegrationService()
    first = stored(service)
    hosted.admin("revoke")
    _store_expired(service)
    with pytest.raises(GrantRevoked) as caught:
        service.get_token("acme")
    assert "navi-int connect acme" in str(caught.value.advice)
    assert first["refreshToken"] not in str(caught.value)
    token = navi("token", "acme")
    assert token.returncode == 1 and "navi-int connect acme" in token.stderr

    code, events, err = connect_json("acme")
    assert code == 0, err
    assert events[-1]["signedIn"] and not events[-1]["registered"]  # reused, not repeated
    stats = hosted.stats()
    assert stats["registrations"] == 1 and stats["authorizations"] == 2
    assert navi("token", "acme").stdout.strip() == stored(service)["accessToken"]
    health = service.effective("acme")
    assert health.connected


def test_a_second_sign_in_revokes_the_grant_it_replaces(hosted: Hosted, navi_home: Path) -> None:
    added(hosted)
    assert connect_json("acme")[0] == 0
    service = IntegrationService()
    old = stored(service)
    # The server forgets the access token while navi still thinks it good: connect must sign
    # in again, and the grant it replaces (its refresh token still alive) is revoked.
    hosted.admin("expire")
    service.store_credentials("acme", {**old, "expiresAt": str(int(time.time() * 1000) + 3600_000)})
    code, events, err = connect_json("acme")
    assert code == 0, err
    assert events[-1]["signedIn"] and not events[-1]["registered"]
    assert hosted.stats()["revocations"] == 1
    refused = httpx.post(
        f"{hosted.base}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": old["refreshToken"],
            "client_id": old["clientId"],
        },
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert stored(service)["refreshToken"] != old["refreshToken"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"iss": "wrong"}, "did not come from the authorization server"),
        ({"iss": "none"}, "did not come from the authorization server"),
        ({"deny": True}, "declined in the browser"),
    ],
)
def test_a_refused_or_mixed_up_sign_in_stores_nothing(
    hosted: Hosted, navi_home: Path, config: dict[str, Any], message: str
) -> None:
    added(hosted)
    hosted.admin("config", **config)
    code, events, _ = connect_json("acme")
    assert code == 1
    assert events[-1]["event"] == "failed" and message in events[-1]["error"]
    assert "nothing was saved" in events[-1]["error"]
    assert not IntegrationService().effective("acme").connected


def test_insufficient_scope_steps_up_with_a_second_sign_in(hosted: Hosted, navi_home: Path) -> None:
    added(hosted)
    hosted.admin("config", require=["write"])
    code, events, err = connect_json("acme")
    assert code == 0, err
    assert [e["event"] for e in events].count("url") == 2  # asked again, for more
    assert events[-1]["scopes"] == ["tools", "write"]
    assert events[-1]["tools"] == ["echo", "whoami"]


def test_a_pre_registered_client_is_used_first(
    hosted: Hosted, navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    registered = httpx.post(
        f"{hosted.base}/register",
        json={
            "redirect_uris": [f"http://127.0.0.1:{port}/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "client_name": "the team's navi",
        },
    ).json()
    added(hosted, "--client-id", registered["client_id"])
    monkeypatch.setenv("NAVI_INTEGRATIONS_OAUTH_REDIRECT_PORT", str(port))
    code, events, err = connect_json("acme")
    assert code == 0, err
    assert not events[-1]["registered"]
    assert hosted.stats()["registrations"] == 1  # the team's, none of navi's
    assert stored(IntegrationService())["clientId"] == registered["client_id"]


def test_headers_only_server_stores_its_header_encrypted(hosted: Hosted, navi_home: Path) -> None:
    secret = "k3y-" + "Sh0uldNeverBeOnDisk" * 2
    result = navi("mcp", "add", "keyed", hosted.mcp, "--header", f"X-Api-Key: {secret}")
    assert result.returncode == 0, result.stderr
    text = (navi_home / "providers" / "keyed.toml").read_text()
    assert secret not in text and "{{headerXApiKey}}" in text
    assert secret.encode() not in (navi_home / "navi.db").read_bytes()
    headers = navi("token", "keyed", "--headers")
    assert json.loads(headers.stdout) == {"X-Api-Key": secret}
    assert secret not in navi("list").stdout + navi("show", "keyed").stdout
    stdio = navi("token", "slack", "--headers")
    assert stdio.returncode == 2 and "no remote MCP server" in stdio.stderr
    # Linear's own remote server takes its API key as a header.
    key = "lin_api_" + "h3aders" * 5
    saved = navi("connect", "linear", "--no-test", "--stdin", stdin=f"apiKey={key}\n")
    assert saved.returncode == 0
    assert json.loads(navi("token", "linear", "--headers").stdout) == {
        "Authorization": f"Bearer {key}"
    }


def test_mcp_add_refuses_what_cannot_work(hosted: Hosted, navi_home: Path) -> None:
    assert "already a provider" in navi("mcp", "add", "linear", hosted.mcp).stderr
    assert "http:// or https://" in navi("mcp", "add", "x", "ftp://host/mcp").stderr
    assert "not a valid name" in navi("mcp", "add", "Bad_Name", hosted.mcp).stderr
    added(hosted)
    assert "--force" in navi("mcp", "add", "acme", hosted.mcp).stderr
    removed = navi("mcp", "remove", "acme")  # stdin is not a terminal: no prompt
    assert removed.returncode == 2 and "--yes" in removed.stderr
    assert navi("mcp", "remove", "acme", "--yes").returncode == 0
    assert not (navi_home / "providers" / "acme.toml").exists()


def test_a_provider_file_with_an_mcp_table_is_checked_where_it_is_wrong(
    navi_home: Path,
) -> None:
    folder = navi_home / "providers"
    folder.mkdir()
    (folder / "both.toml").write_text(
        'id = "both"\nname = "Both"\nbase_url = "https://api.example"\n'
        '[mcp]\nurl = "https://mcp.example/mcp"\n'
    )
    (folder / "ftp.toml").write_text('id = "ftp"\nname = "F"\n\n[mcp]\nurl = "ftp://x/mcp"\n')
    (folder / "plain.toml").write_text(
        'id = "plain"\nname = "P"\n\n[mcp]\nurl = "http://mcp.example.com/mcp"\n'
    )
    problems = navi("plugins").stdout + navi("plugins").stderr
    assert "both.toml" in problems and "cannot be combined" in problems
    assert "ftp.toml:5" in problems and "mcp.url must be an http://" in problems
    assert "plain.toml:5" in problems and "plain http://" in problems


def test_connect_never_prompts_without_a_terminal(navi_home: Path) -> None:
    result = navi("connect", "linear")
    assert result.returncode == 2
    assert "stdin is not a terminal" in result.stderr and "--field apiKey=" in result.stderr
    failed = subprocess.run(
        [*NAVI, "connect", "linear", "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert failed.returncode == 2
    assert json.loads(failed.stdout.splitlines()[-1])["event"] == "failed"


def test_the_helper_command_quotes_the_project(navi_home: Path) -> None:
    from navi_integrations.agent.mcp import headers_helper_command

    command = headers_helper_command("acme", "a project; rm -rf /")
    assert shlex.split(command)[-4:] == ["acme", "--project", "a project; rm -rf /", "--headers"]


def test_a_grant_is_never_sent_to_another_url(hosted: Hosted, navi_home: Path) -> None:
    added(hosted)
    assert connect_json("acme")[0] == 0
    token = navi("token", "acme").stdout.strip()
    elsewhere = {"NAVI_ACME_MCP_URL": "http://127.0.0.1:9/mcp"}
    headers = navi("token", "acme", "--headers", env=elsewhere)
    assert headers.returncode == 1 and "granted for" in headers.stderr
    assert token not in headers.stdout + headers.stderr
    config = navi("mcp-config", "--format", "claude-code", env=elsewhere)
    assert config.returncode == 1  # acme was the only server: none could be built
    assert "Left out acme" in config.stderr and "granted for" in config.stderr
    assert token not in config.stdout + config.stderr
    # Pointing the provider at another server forgets what was granted for the old one.
    moved = navi("mcp", "add", "acme", "http://127.0.0.1:9/mcp", "--force")
    assert moved.returncode == 0 and "Deleted 1 stored connection(s)" in moved.stdout
    assert not IntegrationService().effective("acme").connected


def test_a_pre_registered_port_in_use_is_a_clear_error(
    hosted: Hosted, navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added(hosted, "--client-id", "the-teams-client")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("NAVI_INTEGRATIONS_OAUTH_REDIRECT_PORT", str(taken.getsockname()[1]))
        code, events, _ = connect_json("acme", browser=False)
    assert code == 1 and "is in use" in events[-1]["error"]
    assert not IntegrationService().effective("acme").connected


def test_mcp_add_keeps_odd_names_whole_and_never_echoes_a_header(navi_home: Path) -> None:
    done = navi("mcp", "add", "odd", "https://mcp.example.com/mcp", "--display-name", "Odd 🚀\x7f")
    assert done.returncode == 0, done.stderr
    assert json.loads(navi("show", "odd", "--json").stdout)["name"] == "Odd 🚀\x7f"
    secret = "sk-" + "NeverEchoed" * 3
    bad = navi(
        "mcp", "add", "keyed2", "https://mcp.example.com/mcp", "--header", f"Bearer {secret}"
    )
    assert bad.returncode == 2 and secret not in bad.stderr
    assert not (navi_home / "providers" / "keyed2.toml").exists()


def test_the_http_api_connects_a_hosted_server(hosted: Hosted, navi_home: Path) -> None:
    from .server_harness import running_server

    added(hosted)
    with running_server() as server, server.client() as client:
        classic = client.post("/api/credentials/acme/oauth", json={"scope": "global"})
        assert classic.status_code == 422 and "mcp-authorize" in classic.json()["advice"]["hint"]
        begun = client.post("/api/credentials/acme/mcp-authorize", json={"scope": "global"})
        assert begun.status_code == 200, begun.text
        url = begun.json()["authorizationUrl"]
        assert "code_challenge_method=S256" in url and "resource=" in url
        assert httpx.get(url, follow_redirects=True, timeout=30).status_code == 200
        deadline = time.monotonic() + 30
        while not client.get("/api/integrations/acme/status").json()["hasCredentials"]:
            assert time.monotonic() < deadline, "the sign-in was not stored"
            time.sleep(0.1)
        again = client.post("/api/credentials/acme/mcp-authorize", json={"scope": "global"})
        assert again.json()["authorizationUrl"] is None
        assert again.json()["tools"] == ["echo", "whoami"]
    assert hosted.stats()["registrations"] == 1
