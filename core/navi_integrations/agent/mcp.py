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
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..errors import InvalidInput

if TYPE_CHECKING:
    from ..models import Credentials, IntegrationProvider, McpServer

__all__ = [
    "FORMATS",
    "McpConfig",
    "McpSkipped",
    "check_format",
    "env_ref_server",
    "fill_mcp_server",
    "render",
]

Format = Literal["agent-sdk", "claude-code", "claude-desktop"]
FORMATS: tuple[str, ...] = ("agent-sdk", "claude-code", "claude-desktop")
#: A variable name a shell accepts in ``export NAME=...`` and ``${NAME}``.
_SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def fill_mcp_server(provider: IntegrationProvider, credentials: Credentials) -> McpServer | None:
    """The provider's declared MCP server with every ``{{field}}`` filled from the credentials.

    A field with no value takes its declared default; an argument, env entry
    or header naming an optional field with neither is left out. A remote
    server's URL follows ``NAVI_<PROVIDER>_MCP_URL``, else the filled template.
    Raises :class:`~navi_integrations.errors.CredentialsError` when a required value is missing,
    or when an MCP authorization grant is bound (RFC 8707) to another URL than the server's
    (the URL was changed since the sign-in): a token never goes where it was not issued for.
    """
    server = provider.mcp
    if server is None:
        return None

    def fill(template: str) -> str | None:
        return provider.fill(template, credentials)

    def kept(values: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in ((k, fill(t)) for k, t in values.items()) if v is not None}

    if server.transport == "stdio":
        args = [filled for filled in map(fill, server.args) if filled is not None]
        return server.model_copy(update={"args": args, "env": kept(server.env)})
    from ..placeholders import env_url_name, same_resource

    url = os.environ.get(env_url_name(provider.id, "mcp")) or fill(server.url)
    assert url is not None  # refused at load time: a URL names no optional-without-default
    if provider.mcp_authorization and "accessToken" in credentials and "resource" in credentials:
        granted = credentials.reveal("resource")
        if not same_resource(granted, url):  # a token is only ever sent where it was issued
            from ..errors import Advice, CredentialsError

            raise CredentialsError(
                provider.id,
                f"{provider.name}'s sign-in was granted for {granted}, not for {url}: "
                "its token is not sent there",
                advice=Advice("connect", f"navi-int connect {provider.id}"),
            )
    return server.model_copy(update={"url": url, "headers": kept(server.headers)})


@dataclass(frozen=True)
class McpSkipped:
    """A provider left out of a config, and why (e.g. GitHub while ``gh`` is not logged in)."""

    provider: str
    reason: str
    advice: str | None = None


@dataclass
class McpConfig:
    """A rendered config: the document to write, (with env refs) the variables to set, and
    the providers that had to be left out."""

    document: dict[str, Any]
    #: Variable name -> shell command printing its value (``navi-int token ...``),
    #: each argument shell-quoted.
    env: dict[str, str] = field(default_factory=dict)
    skipped: list[McpSkipped] = field(default_factory=list)

    @property
    def servers(self) -> dict[str, Any]:
        """The server entries by name, whatever the runtime's document shape."""
        inner = self.document.get("mcpServers", self.document)
        return inner if isinstance(inner, dict) else {}

    def __repr__(self) -> str:
        # The document holds credentials (headers, env values): a logged result leaks none.
        skipped = [s.provider for s in self.skipped]
        return f"McpConfig(servers={sorted(self.servers)!r}, skipped={skipped!r})"


def _refs(provider: IntegrationProvider, project_id: str | None) -> dict[str, tuple[str, str]]:
    """For each placeholder name: the ``${VAR}`` reference and the command printing its value.

    Each command is shell-quoted (a project id is any text): it is printed for
    users to ``eval`` or source, inside ``"$(...)"``.
    """
    by_template = {
        template: name for name, template in provider.env.items() if _SHELL_NAME.match(name)
    }
    scope = ["--project", project_id] if project_id else []
    refs: dict[str, tuple[str, str]] = {}
    for key in sorted(provider.template_fields()):
        var = by_template.get("{{" + key + "}}") or re.sub(
            r"[^A-Z0-9]+", "_", f"{provider.id}_{key}".upper()
        )
        command = ["navi-int", "token", provider.id, *scope, "--field", key]
        refs[key] = ("${" + var + "}", shlex.join(command))
    return refs


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


def check_format(runtime: str, *, env_refs: bool = False, headers_helper: bool = False) -> None:
    """Refuse an unknown runtime, and env references or headers helpers where the runtime
    cannot use them."""
    if runtime not in FORMATS:
        raise InvalidInput(f"unknown format '{runtime}'", hint=f"use one of {', '.join(FORMATS)}")
    if headers_helper and runtime != "claude-code":
        raise InvalidInput(
            "headers helpers are a Claude Code feature",
            hint="use --format claude-code, or --gateway for the other runtimes",
        )
    if headers_helper and env_refs:
        raise InvalidInput(
            "--headers-helper and --env-refs are two answers to one question",
            hint="give one of them",
        )
    if env_refs and runtime == "claude-desktop":
        raise InvalidInput(
            "Claude Desktop does not expand ${VAR} references",
            hint="write its config with --output (the file is created with mode 0600) instead "
            "of --env-refs",
        )


def env_ref_server(
    provider: IntegrationProvider, project_id: str | None, env: dict[str, str]
) -> McpServer | None:
    """The provider's declared server with ``${VAR}`` references instead of every value.

    ``env`` receives, for each variable the server uses, the command that prints its value.
    """
    from ..models import Credentials

    refs = _refs(provider, project_id)
    server = fill_mcp_server(provider, Credentials({k: ref for k, (ref, _) in refs.items()}))
    if server is not None:
        used = server.model_dump_json()
        env.update({ref[2:-1]: command for ref, command in refs.values() if ref in used})
    return server


def render(servers: dict[str, McpServer], runtime: str) -> dict[str, Any]:
    """The config document ``runtime`` reads, for these servers (by provider id)."""
    entries = {name: _entry(server, runtime) for name, server in servers.items()}
    return entries if runtime == "agent-sdk" else {"mcpServers": entries}


def headers_helper_command(
    provider_id: str, project_id: str | None, *, command: str | None = None
) -> str:
    """The shell command printing a provider's MCP headers as JSON (``navi-int token NAME
    --headers``): by its full path when it can be found, with the data dir when one is set
    (agent runtimes often start with a bare PATH and environment). With ``command`` (a
    shared Claude Code plugin: each teammate has their own install and data dir) exactly
    that command, and no data dir."""
    import shutil
    import sys
    from pathlib import Path

    prefix = ""
    if command is None:
        beside = Path(sys.executable).with_name("navi-int")
        command = shutil.which("navi-int") or (str(beside) if beside.exists() else "navi-int")
        home = os.environ.get("NAVI_INTEGRATIONS_HOME")
        prefix = f"NAVI_INTEGRATIONS_HOME={shlex.quote(home)} " if home else ""
    args = [command, "token", provider_id, "--headers"]
    if project_id:
        args[3:3] = ["--project", project_id]
    return prefix + shlex.join(args)


def headers_helpers(
    document: dict[str, Any], servers: dict[str, McpServer], project_id: str | None
) -> None:
    """Replace each remote server's headers in a Claude Code document by a
    ``headersHelper`` command that prints them fresh."""
    entries = document.get("mcpServers", document)
    for name, server in servers.items():
        if server.transport == "stdio" or not server.headers:
            continue
        entry = entries[name]
        entry.pop("headers", None)
        entry["headersHelper"] = headers_helper_command(name, project_id)
