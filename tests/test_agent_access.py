"""Agent access: MCP configs launched for real and spoken to with the MCP SDK; run; skills."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from navi_integrations import IntegrationService, build_mcp_config

from .cli_helpers import navi

SERVERS = Path(__file__).with_name("mcp_servers")
LINEAR_KEY = "lin_api_" + "Mcp0Access" * 4
SLACK = {"botToken": "xoxb-111-222-McpSlackT0ken", "teamId": "T0123ABCD"}
NOTION = "ntn_" + "McpN0ti0nT0ken" * 3


@pytest.fixture
def connected(
    navi_service: IntegrationService, monkeypatch: pytest.MonkeyPatch
) -> IntegrationService:
    navi_service.connect("linear", {"apiKey": LINEAR_KEY})
    navi_service.connect("slack", SLACK)
    navi_service.connect("notion", {"token": NOTION})
    navi_service.connect("github", {})
    monkeypatch.setenv("GH_TOKEN", "ghp_" + "McpGitHubT0ken" * 2)  # gh hands this out
    return navi_service


def _need_npm_servers() -> None:
    if shutil.which("npx") is None or not (SERVERS / "node_modules" / ".bin").is_dir():
        reason = "the MCP server packages need Node.js and `npm ci` in tests/mcp_servers"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


async def _list_stdio_tools(entry: dict[str, Any]) -> list[str]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=entry["command"],
        args=entry["args"],
        env={
            **{k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ},
            **entry.get("env", {}),
        },
        cwd=str(SERVERS),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return [tool.name for tool in (await session.list_tools()).tools]


def test_generated_stdio_configs_launch_the_real_servers(connected: IntegrationService) -> None:
    _need_npm_servers()
    if shutil.which("gh") is None:
        pytest.fail("gh is needed for GitHub's token") if os.environ.get("CI") else pytest.skip(
            "no gh"
        )
    out = navi("mcp-config", "--format", "agent-sdk")
    assert out.returncode == 0, out.stderr
    config = json.loads(out.stdout)
    assert set(config) == {"github", "linear", "notion", "slack"}
    assert config["slack"]["env"] == {
        "SLACK_BOT_TOKEN": SLACK["botToken"],
        "SLACK_TEAM_ID": "T0123ABCD",
    }
    assert config["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"] == os.environ["GH_TOKEN"]
    expected = {
        "github": "create_issue",
        "slack": "slack_post_message",
        "notion": "API-post-search",
    }
    for name, tool in expected.items():
        assert config[name]["type"] == "stdio"
        tools = asyncio.run(_list_stdio_tools(config[name]))
        assert tool in tools, (name, tools[:10])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def remote_mcp() -> Any:
    """A Python MCP server (the official SDK) over SSE and streamable HTTP, behind a bearer."""
    import uvicorn
    from mcp.server.fastmcp import FastMCP
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount

    server = FastMCP("linear-stand-in")

    @server.tool()
    def list_issues() -> list[str]:
        """List issues."""
        return ["ENG-1"]

    http_app = server.streamable_http_app()
    sse_app = server.sse_app()

    class BearerOnly:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                headers = dict(scope["headers"])
                if headers.get(b"authorization") != f"Bearer {LINEAR_KEY}".encode():
                    await JSONResponse({"error": "unauthorized"}, status_code=401)(
                        scope, receive, send
                    )
                    return
            await self.app(scope, receive, send)

    app = Starlette(
        routes=[Mount("/sse-server", app=sse_app), Mount("/", app=http_app)],
        lifespan=lambda _: http_app.router.lifespan_context(http_app),
    )
    port = _free_port()
    config = uvicorn.Config(BearerOnly(app), host="127.0.0.1", port=port, log_level="error")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    while not runner.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    runner.should_exit = True
    thread.join(5)


async def _list_remote_tools(entry: dict[str, Any]) -> list[str]:
    import httpx
    from mcp import ClientSession
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    if entry["type"] == "http":
        async with (
            httpx.AsyncClient(headers=entry["headers"]) as http,
            streamable_http_client(entry["url"], http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return [t.name for t in (await session.list_tools()).tools]
    async with (
        sse_client(entry["url"], headers=entry["headers"]) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return [t.name for t in (await session.list_tools()).tools]


def test_remote_servers_over_http_and_sse_with_the_bearer_header(
    connected: IntegrationService,
    remote_mcp: str,
    monkeypatch: pytest.MonkeyPatch,
    navi_register: Any,
) -> None:
    monkeypatch.setenv("NAVI_LINEAR_MCP_URL", f"{remote_mcp}/mcp")
    config = build_mcp_config(connected)
    assert LINEAR_KEY not in repr(config) and "'linear'" in repr(config)  # logged, leaks nothing
    linear = config.document["linear"]
    assert linear == {
        "type": "http",
        "url": f"{remote_mcp}/mcp",
        "headers": {"Authorization": f"Bearer {LINEAR_KEY}"},
    }
    assert asyncio.run(_list_remote_tools(linear)) == ["list_issues"]

    monkeypatch.setenv("NAVI_LINEAR_MCP_URL", f"{remote_mcp}/sse-server/sse")
    sse = {**build_mcp_config(connected).document["linear"], "type": "sse"}
    assert asyncio.run(_list_remote_tools(sse)) == ["list_issues"]

    # The stand-in refuses a wrong bearer: the header is what lets the agent in.
    with pytest.raises(BaseExceptionGroup) as refused:
        asyncio.run(_list_remote_tools({**linear, "headers": {"Authorization": "Bearer nope"}}))
    assert "401" in repr(refused.value.exceptions)


def test_only_connected_enabled_mcp_enabled_providers(connected: IntegrationService) -> None:
    connected.update_settings("notion", mcp_enabled=False)
    connected.disable("slack", project_id="p1")
    assert set(build_mcp_config(connected).document) == {"github", "linear", "slack"}
    assert set(build_mcp_config(connected, project_id="p1").document) == {"github", "linear"}
    desktop = build_mcp_config(connected, runtime="claude-desktop").document["mcpServers"]
    assert all("type" not in entry for entry in desktop.values())
    bridge = desktop["linear"]
    assert bridge["command"] == "npx" and bridge["args"][:3] == [
        "-y",
        "mcp-remote",
        "https://mcp.linear.app/mcp",
    ]
    assert bridge["env"] == {"MCP_REMOTE_HEADER_0": f"Bearer {LINEAR_KEY}"}
    code = build_mcp_config(connected, runtime="claude-code").document
    assert code["mcpServers"]["linear"]["type"] == "http"


def test_output_file_and_env_references(connected: IntegrationService, navi_home: Path) -> None:
    target = navi_home / "agent" / ".mcp.json"
    out = navi("mcp-config", "--format", "claude-code", "--output", str(target), "--env-refs")
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    for secret in (LINEAR_KEY, SLACK["botToken"], NOTION):
        assert secret not in text + out.stdout + out.stderr
    document = json.loads(text)["mcpServers"]
    assert document["linear"]["headers"] == {"Authorization": "Bearer ${LINEAR_API_KEY}"}
    assert document["slack"]["env"]["SLACK_BOT_TOKEN"] == "${SLACK_BOT_TOKEN}"
    assert 'export LINEAR_API_KEY="$(navi-int token linear --field apiKey)"' in out.stderr
    value = navi("token", "slack", "--field", "teamId").stdout.strip()
    assert value == "T0123ABCD"
    refused = navi("mcp-config", "--format", "claude-desktop", "--env-refs")
    assert refused.returncode == 2 and "does not expand ${VAR}" in refused.stderr


def test_run_passes_credentials_and_the_exit_code(connected: IntegrationService) -> None:
    script = (
        "import os, sys; print(len(os.environ['LINEAR_API_KEY']), os.environ['SLACK_TEAM_ID']);"
        " sys.exit(7)"
    )
    out = navi("run", "--with", "linear,slack", "--", sys.executable, "-c", script)
    assert out.returncode == 7
    assert out.stdout.strip() == f"{len(LINEAR_KEY)} T0123ABCD"
    assert LINEAR_KEY not in out.stderr
    missing = navi("run", "--with", "google", "--", "true")
    assert missing.returncode == 1 and "Run: navi-int connect google" in missing.stderr


def test_skills_follow_the_connection_state(connected: IntegrationService, navi_home: Path) -> None:
    listed = json.loads(navi("skills", "list", "--json").stdout)["skills"]
    names = {s["name"] for s in listed}
    assert {
        "integrations",
        "integration-credentials",
        "linear",
        "slack",
        "notion",
        "github",
    } <= names
    assert "connect-linear" not in names and "connect-google" in names
    # A connection that fails keeps its setup skill beside the usage skill, until it heals.
    connected.record_error("linear", "Linear rejected the API key", kind="auth")
    failing = {s["name"] for s in json.loads(navi("skills", "list", "--json").stdout)["skills"]}
    assert {"linear", "connect-linear"} <= failing
    connected.record_success("linear")
    healed = {s["name"] for s in json.loads(navi("skills", "list", "--json").stdout)["skills"]}
    assert "linear" in healed and "connect-linear" not in healed
    target = navi_home / "skills"
    assert navi("skills", "install", str(target)).returncode == 0
    assert (target / "linear" / "SKILL.md").is_file() and (
        target / "connect-google" / "SKILL.md"
    ).is_file()
    connected.disconnect("linear")
    connected.update_settings("slack", skill_enabled=False)
    (target / "my-own-skill").mkdir()
    assert navi("skills", "install", str(target)).returncode == 0
    installed = {p.name for p in target.iterdir()}
    assert "connect-linear" in installed and "linear" not in installed and "slack" not in installed
    assert "my-own-skill" in installed  # folders we did not install are left alone
