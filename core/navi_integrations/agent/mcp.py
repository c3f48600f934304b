"""MCP server configs for agent runtimes (PRD F5), built from the effective scope.

Only providers that are connected, enabled and MCP-enabled in the scope are
included; each server comes from the ``mcp_config`` hook (the default fills
the provider's declared ``mcp`` with its credentials). Three runtimes:

``agent-sdk``
    the Claude Agent SDK ``mcp_servers`` mapping: ``{name: {"type": "stdio",
    "command", "args", "env"} | {"type": "sse"|"http", "url", "headers"}}``.
``claude-code``
    a ``.mcp.json``: ``{"mcpServers": {...}}`` with the same entries.
``claude-desktop``
    ``claude_desktop_config.json``: ``{"mcpServers": {name: {"command", "args",
    "env"}}}``, stdio only; a remote server is reached through the
    ``mcp-remote`` stdio bridge.

With ``env_refs`` every secret becomes a ``${VAR}`` reference and
:attr:`McpConfig.env` says how to set each variable (``navi-int token``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..errors import NaviError

if TYPE_CHECKING:
    from ..models import Credentials, IntegrationProvider, McpServer
    from ..service import IntegrationService

__all__ = ["FORMATS", "McpConfig", "build_mcp_config", "fill_mcp_server"]

Format = Literal["agent-sdk", "claude-code", "claude-desktop"]
FORMATS: tuple[str, ...] = ("agent-sdk", "claude-code", "claude-desktop")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")


def fill_mcp_server(provider: IntegrationProvider, credentials: Credentials) -> McpServer | None:
    """The provider's declared MCP server with every ``{{field}}`` filled from the credentials.

    A remote server's URL can be overridden with ``NAVI_<PROVIDER>_MCP_URL``.
    """
    server = provider.mcp
    if server is None:
        return None
    if server.transport == "stdio":
        return server.model_copy(
            update={
                "args": [credentials.fill(a) for a in server.args],
                "env": {k: credentials.fill(v) for k, v in server.env.items()},
            }
        )
    from ..models import env_url_name

    url = os.environ.get(env_url_name(provider.id, "mcp")) or server.url
    return server.model_copy(
        update={
            "url": credentials.fill(url),
            "headers": {k: credentials.fill(v) for k, v in server.headers.items()},
        }
    )


@dataclass
class McpConfig:
    """A rendered config: the document to write, and (with env refs) the variables to set."""

    document: dict[str, Any]
    #: Variable name -> shell command printing its value (``navi-int token ...``).
    env: dict[str, str] = field(default_factory=dict)


def _refs(provider: IntegrationProvider, project_id: str | None, env: dict[str, str]) -> Any:
    """A credentials stand-in whose fill() writes ${VAR} references and records the vars."""
    by_template = {template: name for name, template in provider.env.items()}
    scope = f" --project {project_id}" if project_id else ""

    class _Refs:
        def fill(self, template: str) -> str:
            def ref(match: re.Match[str]) -> str:
                key = match.group(1)
                var = by_template.get("{{" + key + "}}") or re.sub(
                    r"[^A-Z0-9]+", "_", f"{provider.id}_{key}".upper()
                )
                env[var] = f"navi-int token {provider.id}{scope} --field {key}"
                return "${" + var + "}"

            return _PLACEHOLDER.sub(ref, template)

    return _Refs()


def _entry(server: McpServer, runtime: str) -> dict[str, Any]:
    if server.transport == "stdio":
        entry: dict[str, Any] = {"command": server.command, "args": list(server.args)}
        if server.env:
            entry["env"] = dict(server.env)
        if runtime != "claude-desktop":
            entry = {"type": "stdio", **entry}
        return entry
    if runtime == "claude-desktop":  # stdio only: bridge with mcp-remote
        args = ["-y", "mcp-remote", server.url]
        args += ["--transport", "http-only" if server.transport == "http" else "sse-only"]
        env = {}
        for n, (name, value) in enumerate(server.headers.items()):
            var = f"MCP_REMOTE_HEADER_{n}"
            args += ["--header", f"{name}:${{{var}}}"]  # no spaces in args: value via env
            env[var] = value
        bridged: dict[str, Any] = {"command": "npx", "args": args}
        if env:
            bridged["env"] = env
        return bridged
    entry = {"type": server.transport, "url": server.url}
    if server.headers:
        entry["headers"] = dict(server.headers)
    return entry


def build_mcp_config(
    service: IntegrationService,
    *,
    runtime: str = "agent-sdk",
    project_id: str | None = None,
    env_refs: bool = False,
) -> McpConfig:
    """The MCP servers of every connected, enabled, MCP-enabled provider, for ``runtime``."""
    if runtime not in FORMATS:
        raise NaviError(f"unknown format '{runtime}'; use one of {', '.join(FORMATS)}")
    if env_refs and runtime == "claude-desktop":
        raise NaviError(
            "Claude Desktop does not expand ${VAR} references: write its config with "
            "--output (the file is created with mode 0600) instead of --env-refs"
        )
    servers: dict[str, Any] = {}
    env: dict[str, str] = {}
    for item in service.status(project_id=project_id):
        state = item.effective
        doc = service.catalog.document(item.provider)
        if not (state.connected and state.enabled and state.mcp_enabled and doc.get("mcp")):
            continue
        provider = service.registry.get(item.provider)
        if env_refs:
            server = fill_mcp_server(provider, _refs(provider, project_id, env))
        else:
            credentials = service.get_credentials(item.provider, project_id=project_id)
            server = service.registry.call_provider_hook(
                "mcp_config", provider, credentials=credentials
            )
        if server is not None:
            servers[item.provider] = _entry(server, runtime)
    document = servers if runtime == "agent-sdk" else {"mcpServers": servers}
    return McpConfig(document, env)
