"""Who may call the gateway over streamable HTTP: the token holder, on a loopback name.

The gateway runs as `navi-int gateway --transport http` (a real process) or as its
ASGI app under uvicorn on 127.0.0.1, in front of the real upstreams of
``test_gateway``; it is driven with the MCP SDK's client, as an agent runtime
drives it, and with plain HTTP where a browser or a stray process would.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from navi_integrations import IntegrationService

from .gateway_upstream import Faults, build
from .test_gateway import FRESH, STALE, Providers, _serve, _text, _wait_for, agent, bearer

pytest.importorskip("mcp")

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
GATEWAY_ARGS = ["gateway", "--transport", "http", "--port", "0"]


@pytest.fixture
def upstream() -> Iterator[tuple[str, Faults]]:
    """The SDK server over streamable HTTP, accepting only the tokens in ``faults.tokens``."""
    faults = Faults(build("remote").streamable_http_app(), {FRESH})
    with _serve(faults) as url:
        yield f"{url}/mcp", faults


@pytest.fixture
def providers(
    navi_service: IntegrationService, navi_register: Any, upstream: tuple[str, Faults]
) -> Providers:
    """``remoty`` (OAuth, the remote server) and ``stdioy`` (a stdio child), connected."""
    plugin = Providers(upstream[0])
    navi_register(plugin, "gateway-test-providers")
    navi_service.store_credentials("remoty", {"clientId": "c", "accessToken": FRESH})
    navi_service.store_credentials("stdioy", {"apiKey": "stdioy-secret-Cc3"})
    return plugin


@pytest.fixture
def gateway_url(
    providers: Providers, navi_service: IntegrationService, tmp_path: Path
) -> Iterator[str]:
    """The gateway's ASGI app under uvicorn, with its default token (the data dir's)."""
    from navi_integrations.gateway import Gateway, GatewaySettings

    settings = GatewaySettings(call_timeout=5.0, budget=10.0, poll_interval=0.1)
    gateway = Gateway(navi_service, settings=settings, listings_path=tmp_path / "listings.json")
    with _serve(gateway.asgi_app()) as url:
        yield f"{url}/mcp"


def _token() -> str:
    from navi_integrations.server.security import api_token

    return api_token()


def _refusal(url: str, headers: dict[str, str]) -> httpx.HTTPStatusError:
    """What the SDK's client raises when the gateway refuses it (it must, quickly)."""

    async def connect() -> None:
        async with asyncio.timeout(20), agent(url, headers=headers) as session:
            await session.list_tools()

    with pytest.raises(BaseException) as caught:  # an exception group, around the refusal
        asyncio.run(connect())
    found = _leaf(caught.value, httpx.HTTPStatusError)
    assert found is not None, f"not an HTTP refusal: {caught.value!r}"
    return found


def _leaf(exc: BaseException, kind: type[Any]) -> Any:
    if isinstance(exc, kind):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _leaf(inner, kind)
        if found is not None:
            return found
    return None


def _session(url: str) -> str:
    """A session opened the right way (its id), for requests sent after it without the token."""
    answer = _post(url, INITIALIZE, **bearer())
    assert answer.status_code == 200, answer.text
    return answer.headers["mcp-session-id"]


def _post(url: str, document: dict[str, Any], **headers: str) -> httpx.Response:
    headers = {**MCP_HEADERS, **headers}
    return httpx.post(url, json=document, headers=headers, timeout=20)


def test_without_the_token_the_client_is_refused_and_nothing_runs(
    gateway_url: str, navi_service: IntegrationService, upstream: tuple[str, Faults]
) -> None:
    refused = _refusal(gateway_url, {})
    assert refused.response.status_code == 401
    assert refused.response.headers["www-authenticate"].startswith("Bearer")

    answer = _post(gateway_url, INITIALIZE)
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
    error = answer.json()["error"]
    assert "navi-int api-token" in error["message"] and "Traceback" not in answer.text
    assert "mcp-session-id" not in answer.headers  # no session was opened

    # A tool call inside a live session, without the token: refused before the MCP layer.
    session_id = _session(gateway_url)
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "remoty__echo", "arguments": {"text": "sneaky"}},
    }
    answer = _post(gateway_url, call, **{"mcp-session-id": session_id})
    assert answer.status_code == 401
    time.sleep(0.3)  # an audit write would be queued by now
    assert upstream[1].calls == 0  # the provider was never called
    assert navi_service.audit_log(kind="tool_call") == []  # and nothing was audited


def test_a_wrong_token_is_refused(gateway_url: str, upstream: tuple[str, Faults]) -> None:
    refused = _refusal(gateway_url, bearer("navi_" + "x" * 43))
    assert refused.response.status_code == 401
    assert 'error="invalid_token"' in refused.response.headers["www-authenticate"]
    for header in ("Bearer", "Basic " + _token(), _token(), "Bearer " + _token()[:-1]):
        answer = _post(gateway_url, INITIALIZE, Authorization=header)
        assert answer.status_code == 401, header
    assert upstream[1].calls == 0


def test_the_right_token_lists_and_calls_the_tools(gateway_url: str) -> None:
    async def scenario() -> tuple[list[str], Any]:
        async with agent(gateway_url, headers=bearer(_token())) as session:
            tools = [t.name for t in (await session.list_tools()).tools]
            return tools, await session.call_tool("remoty__echo", {"text": "allowed"})

    tools, called = asyncio.run(scenario())
    assert {"remoty__echo", "stdioy__echo"} <= set(tools)
    assert not called.isError and _text(called) == "allowed"
    assert _token().startswith("navi_") and FRESH not in json.dumps(tools)


def test_a_host_that_is_not_loopback_at_this_port_is_refused(gateway_url: str) -> None:
    port = int(gateway_url.split(":")[2].split("/")[0])
    for host in (
        "evil.example",  # DNS rebinding: the page's own name, resolved to 127.0.0.1
        f"evil.example:{port}",
        f"127.0.0.1.nip.io:{port}",
        f"localhost:{port + 1}",  # a loopback name, another port
        "127.0.0.1",  # port 80
        f"127.0.0.1:{port}x",
        "[::1",  # malformed: refused, not a server error
        "",
    ):
        answer = _post(gateway_url, INITIALIZE, Host=host, **bearer())
        assert answer.status_code == 403, host
        assert "127.0.0.1" in answer.json()["error"]["message"]
    for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert _post(gateway_url, INITIALIZE, Host=host, **bearer()).status_code == 200, host
    assert _post(gateway_url, INITIALIZE, Host="evil.example").status_code == 403  # before 401


def test_a_foreign_origin_is_refused(gateway_url: str) -> None:
    refused = _refusal(gateway_url, {"Origin": "https://evil.example", **bearer()})
    assert refused.response.status_code == 403
    for origin in ("http://evil.example", "http://127.0.0.1.evil.example:3002", "null", "file://"):
        answer = _post(gateway_url, INITIALIZE, Origin=origin, **bearer())
        assert answer.status_code == 403, origin
        assert "Origin" in answer.json()["error"]["message"]
    # A page on this machine (e.g. the MCP Inspector, on its own port) is a loopback origin:
    # it still needs the token.
    assert _post(gateway_url, INITIALIZE, Origin="http://localhost:6274").status_code == 401
    ok = _post(gateway_url, INITIALIZE, Origin="http://localhost:6274", **bearer())
    assert ok.status_code == 200


def test_a_slow_token_refresh_does_not_stall_the_other_calls(
    gateway_url: str, navi_service: IntegrationService, providers: Providers
) -> None:
    """Recovery (credential reads, refresh over HTTP, health writes) runs off the event loop."""
    providers.refresh_delay = 3.0

    async def scenario() -> tuple[Any, Any, float]:
        async with agent(gateway_url) as first, agent(gateway_url) as second:
            await second.call_tool("stdioy__echo", {"text": "warm"})  # its child is up
            await asyncio.to_thread(
                navi_service.store_credentials, "remoty", {"clientId": "c", "accessToken": STALE}
            )
            await asyncio.sleep(0.5)  # the gateway notices the change within its poll interval
            slow = asyncio.create_task(first.call_tool("remoty__echo", {"text": "renewed"}))
            assert await asyncio.to_thread(providers.refreshing.wait, 10)
            started = time.monotonic()
            quick = await second.call_tool("stdioy__echo", {"text": "meanwhile"})
            took = time.monotonic() - started
            return await slow, quick, took

    renewed, quick, took = asyncio.run(scenario())
    assert not quick.isError and _text(quick) == "meanwhile"
    assert took < 1.5, f"the other call waited {took:.1f} s for the refresh"
    assert not renewed.isError and _text(renewed) == "renewed" and providers.refreshes == 1


@pytest.fixture
def cli_gateway(navi_home: Path, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`navi-int gateway --transport http --port 0` as a process: its URL and output files."""
    out, err = tmp_path / "gateway.out", tmp_path / "gateway.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "navi_integrations.cli", *GATEWAY_ARGS],
            stdout=stdout,
            stderr=stderr,
        )
    try:
        printed = _wait_for(lambda: re.search(r"http://127\.0\.0\.1:\d+/mcp", err.read_text()), 30)
        assert printed, f"no URL: {err.read_text()!r}"
        yield printed.group(0), out, err
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_the_command_says_how_to_authenticate_and_never_shows_the_token(
    cli_gateway: tuple[str, Path, Path], navi_home: Path
) -> None:
    url, out, err = cli_gateway
    token_file = navi_home / "api-token"
    token = token_file.read_text().strip()  # created by the gateway on its first start
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert "Bearer $(navi-int api-token)" in err.read_text()
    assert str(token_file) in err.read_text()

    assert _refusal(url, {}).response.status_code == 401
    assert _refusal(url, bearer("wrong")).response.status_code == 401
    assert _post(url, INITIALIZE, Host="evil.example", **bearer(token)).status_code == 403

    async def listed() -> list[Any]:
        async with agent(url, headers=bearer(token)) as session:
            return (await session.list_tools()).tools

    assert asyncio.run(listed()) == []  # nothing connected here: an empty list, not a refusal
    time.sleep(0.2)
    for output in (out.read_text(), err.read_text()):
        assert token not in output
