"""The MCP gateway, driven through the SDK's client exactly as an agent runtime does.

Upstreams are real: an SDK server over streamable HTTP behind a bearer check
(with injected 401, 429, 503 and slow answers), an SDK server as a stdio child
(killed under the gateway), and the npm servers the project tests with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from navi_integrations import IntegrationService, build_mcp_config, hookimpl
from navi_integrations.models import Credentials, IntegrationProvider

from .cli_helpers import navi
from .gateway_upstream import Faults, build

pytest.importorskip("mcp")

HERE = Path(__file__).parent
SERVERS = HERE / "mcp_servers"
STALE, FRESH = "stale-token-Aa1", "fresh-token-Bb2"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _serve(app: Any) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    runner = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    while not runner.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        thread.join(10)


@pytest.fixture
def upstream() -> Iterator[tuple[str, Faults]]:
    """The SDK server over streamable HTTP, accepting only the tokens in ``faults.tokens``."""
    server = build("remote")
    http_app = server.streamable_http_app()
    faults = Faults(http_app, {FRESH})
    with _serve(faults) as url:
        yield f"{url}/mcp", faults


class Providers:
    """Test providers: ``remoty`` (OAuth, remote server, refresh mints FRESH) and ``stdioy``
    (API key, the SDK server as a stdio child)."""

    def __init__(self, url: str) -> None:
        self.refreshes = 0
        self.refresh_delay = 0.0  # a slow token endpoint
        self.refreshing = threading.Event()
        self.remote = IntegrationProvider.model_validate(
            {
                "id": "remoty",
                "name": "Remoty",
                "description": "test",
                "authType": "oauth",
                "credentials": [{"key": "clientId", "label": "Client", "type": "text"}],
                "oauth": {
                    "authUrl": "http://127.0.0.1:9/auth",
                    "tokenUrl": "http://127.0.0.1:9/token",
                    "scopes": {"read": "Read"},
                },
                "mcp": {
                    "transport": "http",
                    "url": url,
                    "headers": {"Authorization": "Bearer {{accessToken}}"},
                },
            }
        )
        self.stdio = IntegrationProvider.model_validate(
            {
                "id": "stdioy",
                "name": "Stdioy",
                "description": "test",
                "authType": "api_key",
                "credentials": [{"key": "apiKey", "label": "Key", "type": "password"}],
                "mcp": {
                    "transport": "stdio",
                    "command": sys.executable,
                    "args": [str(HERE / "gateway_upstream.py"), "stdioy"],
                    "env": {"STDIOY_KEY": "{{apiKey}}"},
                },
            }
        )

    @hookimpl
    def describe(self) -> list[IntegrationProvider]:
        return [self.remote, self.stdio]

    @hookimpl
    def refresh(
        self, provider: IntegrationProvider, credentials: Credentials
    ) -> Credentials | None:
        if provider.id != "remoty":
            return None
        self.refreshes += 1
        self.refreshing.set()
        time.sleep(self.refresh_delay)
        return Credentials(
            {**{k: credentials.reveal(k) for k in credentials}, "accessToken": FRESH}
        )


@pytest.fixture
def providers(
    navi_service: IntegrationService, navi_register: Any, upstream: tuple[str, Faults]
) -> Providers:
    plugin = Providers(upstream[0])
    navi_register(plugin, "gateway-test-providers")
    navi_service.store_credentials("remoty", {"clientId": "c", "accessToken": FRESH})
    navi_service.store_credentials("stdioy", {"apiKey": "stdioy-secret-Cc3"})
    return plugin


@pytest.fixture
def gateway_url(
    providers: Providers, navi_service: IntegrationService, tmp_path: Path
) -> Iterator[str]:
    from navi_integrations.gateway import Gateway, GatewaySettings

    settings = GatewaySettings(
        call_timeout=1.0,
        budget=4.0,
        max_attempts=3,
        connect_timeout=10.0,
        isolate_after=3,
        isolate_seconds=30.0,
        poll_interval=0.1,
    )
    gateway = Gateway(navi_service, settings=settings, listings_path=tmp_path / "listings.json")
    with _serve(gateway.asgi_app()) as url:
        yield f"{url}/mcp"


def bearer(token: str | None = None) -> dict[str, str]:
    """The header an agent runtime is configured with: the API token of the data dir."""
    from navi_integrations.server.security import api_token

    return {"Authorization": f"Bearer {api_token() if token is None else token}"}


@contextlib.asynccontextmanager
async def agent(
    url: str, notes: list[Any] | None = None, *, headers: dict[str, str] | None = None
) -> AsyncIterator[Any]:
    """A client session on the gateway, as an agent runtime opens one (with the token,
    unless ``headers`` says otherwise)."""
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def on_message(message: Any) -> None:
        if notes is not None:
            notes.append(message)

    sent = bearer() if headers is None else headers
    async with (
        httpx.AsyncClient(headers=sent, timeout=httpx.Timeout(30.0, read=300.0)) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write, message_handler=on_message) as session,
    ):
        await session.initialize()
        yield session


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def _wait_for(condition: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    return condition()


def test_namespaced_tools_resources_prompts_with_health_and_audit(
    gateway_url: str, navi_service: IntegrationService
) -> None:
    async def scenario() -> tuple[list[str], Any, Any, Any, Any]:
        async with agent(gateway_url) as session:
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            called = await session.call_tool("remoty__echo", {"text": "hi"})
            resources = await session.list_resources()
            read = await session.read_resource(resources.resources[0].uri)
            prompt = await session.get_prompt("stdioy__summary", {"topic": "MCP"})
            return tools, called, resources, read, prompt

    tools, called, resources, read, prompt = asyncio.run(scenario())
    assert {"remoty__echo", "remoty__slow", "stdioy__echo", "stdioy__pid"} <= set(tools)
    assert not called.isError and _text(called) == "hi"
    uris = sorted(str(r.uri) for r in resources.resources)
    assert uris == ["remoty+memo://notes/today", "stdioy+memo://notes/today"]
    assert read.contents[0].text == "buy milk"
    assert "Summarise MCP" in json.dumps(prompt.model_dump(mode="json"))
    everything = json.dumps([tools, called.model_dump(mode="json")])
    assert FRESH not in everything and "stdioy-secret" not in everything
    entries = _wait_for(lambda: navi_service.audit_log(kind="tool_call"))
    assert entries[0]["provider"] == "remoty" and entries[0]["tool"] == "echo"
    assert entries[0]["outcome"] == "ok" and entries[0]["durationMs"] is not None
    assert entries[0]["caller"].startswith("mcp/")  # the agent's session
    assert _wait_for(lambda: navi_service.health_record("remoty").status == "healthy")


def test_expired_token_is_refreshed_once_and_the_upstream_reopened(
    gateway_url: str, navi_service: IntegrationService, providers: Providers
) -> None:
    navi_service.store_credentials("remoty", {"clientId": "c", "accessToken": STALE})

    async def call() -> Any:
        async with agent(gateway_url) as session:
            return await session.call_tool("remoty__echo", {"text": "again"})

    result = asyncio.run(call())
    assert not result.isError and _text(result) == "again"
    assert providers.refreshes == 1
    assert navi_service.get_token("remoty").value.get_secret_value() == FRESH


def test_refused_credentials_say_which_command_fixes_them(
    gateway_url: str, navi_service: IntegrationService, upstream: tuple[str, Faults]
) -> None:
    upstream[1].tokens.clear()  # even a renewed token is refused

    async def call() -> Any:
        async with agent(gateway_url) as session:
            return await session.call_tool("remoty__echo", {"text": "x"})

    result = asyncio.run(call())
    assert result.isError
    text = _text(result)
    assert "Remoty rejected the credentials (401)" in text
    assert "Run: navi-int connect remoty" in text and "Traceback" not in text
    assert navi_service.health_record("remoty").status == "failed"


def test_rate_limit_waits_for_retry_after_shared_through_the_store(
    gateway_url: str, navi_service: IntegrationService, upstream: tuple[str, Faults]
) -> None:
    upstream[1].queue.append((429, {"Retry-After": "1"}))

    async def call() -> tuple[Any, float]:
        async with agent(gateway_url) as session:
            started = time.monotonic()
            result = await session.call_tool("remoty__echo", {"text": "patient"})
            return result, time.monotonic() - started

    result, took = asyncio.run(call())
    assert not result.isError and _text(result) == "patient"
    assert took >= 0.9  # it waited for the Retry-After
    assert navi_service.health_record("remoty").rate_limited_until is not None  # shared


def test_unavailable_retried_then_explained_then_isolated_while_others_work(
    gateway_url: str, navi_service: IntegrationService, upstream: tuple[str, Faults]
) -> None:
    faults = upstream[1]

    async def scenario() -> list[Any]:
        async with agent(gateway_url) as session:
            faults.queue += [(503, {}), (503, {})]
            results = [await session.call_tool("remoty__echo", {"text": "through"})]
            faults.queue += [(503, {})] * 100  # down for good
            for _ in range(3):
                results.append(await session.call_tool("remoty__echo", {"text": "x"}))
            before = faults.calls
            started = time.monotonic()
            results.append(await session.call_tool("remoty__echo", {"text": "x"}))
            results.append(time.monotonic() - started)
            results.append(faults.calls - before)
            results.append(await session.call_tool("stdioy__echo", {"text": "fine"}))
            return results

    first, *down, isolated, took, upstream_calls, other = asyncio.run(scenario())
    assert not first.isError and _text(first) == "through"  # two 503s retried away
    for result in down:
        assert result.isError and "Remoty is unavailable (503)" in _text(result)
        assert "temporarily unavailable" in _text(result)
    assert isolated.isError and "paused after 3 failed calls" in _text(isolated)
    assert took < 0.5 and upstream_calls == 0  # answered without calling the provider
    assert not other.isError and _text(other) == "fine"  # the others keep working
    assert navi_service.health_record("remoty").status == "failed"

    def outcomes() -> list[str]:  # audit entries are written off the request path, in batches
        entries = navi_service.audit_log(kind="tool_call", provider="remoty")
        return [e["outcome"] for e in entries] if len(entries) == 5 else []

    assert sorted(_wait_for(outcomes)) == [
        "isolated",
        "ok",
        "unavailable",
        "unavailable",
        "unavailable",
    ]


def test_a_failure_of_a_warm_call_is_recovered_as_its_first_attempt(
    gateway_url: str, upstream: tuple[str, Faults]
) -> None:
    """After a success the provider is warm (no store reads); a 503 then is retried by the
    recovery rules as the call's first attempt, not an extra one."""
    faults = upstream[1]

    async def scenario() -> tuple[Any, Any, int]:
        async with agent(gateway_url) as session:
            await session.call_tool("remoty__echo", {"text": "warm"})
            before = faults.calls
            faults.queue += [(503, {})]
            retried = await session.call_tool("remoty__echo", {"text": "again"})
            calls = faults.calls - before
            faults.queue += [(503, {})] * 10
            gave_up = await session.call_tool("remoty__echo", {"text": "down"})
            return retried, gave_up, calls

    retried, gave_up, calls = asyncio.run(scenario())
    assert not retried.isError and _text(retried) == "again"
    assert calls == 2  # the warm attempt (503) and one retry
    assert gave_up.isError and "Remoty is unavailable (503)" in _text(gave_up)


def test_a_slow_upstream_times_out_within_the_budget(gateway_url: str) -> None:
    async def call() -> tuple[Any, float]:
        async with agent(gateway_url) as session:
            started = time.monotonic()
            result = await session.call_tool("remoty__slow", {"seconds": 30})
            return result, time.monotonic() - started

    result, took = asyncio.run(call())
    assert result.isError and "did not answer within" in _text(result)
    assert took < 7  # the 4 s budget, never a hang


def test_a_timed_out_call_is_retried_only_when_running_it_twice_is_harmless(
    gateway_url: str, upstream: tuple[str, Faults]
) -> None:
    faults = upstream[1]

    async def scenario() -> tuple[Any, int, Any, int]:
        async with agent(gateway_url) as session:
            before = faults.calls
            writing = await session.call_tool("remoty__slow", {"seconds": 1.5})
            writes = faults.calls - before
            before = faults.calls
            reading = await session.call_tool("remoty__slow_once", {"seconds": 1.5})
            return writing, writes, reading, faults.calls - before

    writing, writes, reading, reads = asyncio.run(scenario())
    # `slow` declares nothing: it may have run, so it is not run again; the agent is told.
    assert writes == 1 and writing.isError and "may have been carried out" in _text(writing)
    # `slow_once` is read-only (readOnlyHint): its timeout is retried, and the retry answers.
    assert reads == 2 and not reading.isError and _text(reading) == "read", (reads, reading)


def test_a_killed_stdio_child_is_restarted_once(gateway_url: str) -> None:
    async def scenario() -> tuple[int, Any, Any]:
        async with agent(gateway_url) as session:
            first = int(_text(await session.call_tool("stdioy__pid", {})))
            os.kill(first, signal.SIGKILL)
            again = await session.call_tool("stdioy__pid", {})
            crashing = await session.call_tool("stdioy__die", {})
            return first, again, crashing

    first, again, crashing = asyncio.run(scenario())
    assert not again.isError and int(_text(again)) != first  # a new child answered
    assert crashing.isError and "Stdioy MCP server stopped" in _text(crashing)


def test_connecting_or_switching_a_provider_changes_the_tool_list(
    gateway_url: str, navi_service: IntegrationService
) -> None:
    from mcp import types

    notes: list[Any] = []

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        async with agent(gateway_url, notes) as session:
            before = [t.name for t in (await session.list_tools()).tools]
            await asyncio.to_thread(navi_service.update_settings, "stdioy", mcp_enabled=False)
            for _ in range(60):
                if any(
                    isinstance(getattr(n, "root", n), types.ToolListChangedNotification)
                    for n in notes
                ):
                    break
                await asyncio.sleep(0.05)
            after = [t.name for t in (await session.list_tools()).tools]
            notes.clear()
            await asyncio.to_thread(navi_service.disconnect, "remoty")
            for _ in range(60):
                if notes:
                    break
                await asyncio.sleep(0.05)
            gone = [t.name for t in (await session.list_tools()).tools]
            return before, after, gone

    before, after, gone = asyncio.run(scenario())
    assert any(n.startswith("stdioy__") for n in before)
    assert not any(n.startswith("stdioy__") for n in after) and "remoty__echo" in after
    assert gone == []


def test_mcp_config_gateway_is_one_entry_without_secrets(providers: Providers) -> None:
    api_token = bearer()["Authorization"].split()[1]  # the HTTP gateway's: not for configs
    for runtime in ("agent-sdk", "claude-code", "claude-desktop"):
        out = navi("mcp-config", "--gateway", "--format", runtime, "--project", "acme")
        assert out.returncode == 0, out.stderr
        document = json.loads(out.stdout)
        servers = document.get("mcpServers", document)
        assert list(servers) == ["navi-integrations"]
        entry = servers["navi-integrations"]
        assert entry["command"].endswith("navi-int")
        assert entry["args"] == ["gateway", "--project", "acme"]
        assert ("type" in entry) == (runtime != "claude-desktop")
        for secret in (FRESH, "stdioy-secret", "KEY", api_token):
            assert secret not in out.stdout
    service_config = build_mcp_config(IntegrationService(), gateway=True)
    assert list(service_config.servers) == ["navi-integrations"] and not service_config.env


def _need_npm_servers() -> None:
    import shutil

    if shutil.which("npx") is None or not (SERVERS / "node_modules" / ".bin").is_dir():
        reason = "the MCP server packages need Node.js and `npm ci` in tests/mcp_servers"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def test_the_real_npm_servers_listed_through_the_gateway_over_stdio(
    navi_service: IntegrationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`navi-int gateway` launched as a runtime launches it, in front of the npm servers."""
    import shutil

    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    _need_npm_servers()
    slack = {"botToken": "xoxb-111-222-GatewaySlackT0ken", "teamId": "T0123ABCD"}
    navi_service.connect("slack", slack)
    navi_service.connect("notion", {"token": "ntn_" + "GatewayN0ti0n" * 3})
    if shutil.which("gh"):
        navi_service.connect("github", {})
    entry = build_mcp_config(navi_service, gateway=True).servers["navi-integrations"]
    env = {k: v for k, v in os.environ.items() if k.startswith(("NAVI_", "PATH", "HOME"))}
    env["GH_TOKEN"] = "ghp_" + "GatewayGitHubT0ken" * 2

    async def listed() -> tuple[list[str], str]:
        params = StdioServerParameters(
            command=entry["command"], args=entry["args"], env=env, cwd=str(SERVERS)
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = [t.name for t in (await session.list_tools()).tools]
            answer = await session.call_tool("slack__slack_list_channels", {})
            return tools, _text(answer)

    tools, answer = asyncio.run(listed())
    assert "slack__slack_post_message" in tools and "notion__API-post-search" in tools
    if shutil.which("gh"):
        assert "github__create_issue" in tools
    assert slack["botToken"] not in answer + json.dumps(tools)
