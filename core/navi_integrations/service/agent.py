"""Agent access: MCP configs, the Agent Skills to offer, and the context of a recovered
call (``call_with_recovery``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (
    NaviError,
    PluginError,
)
from ..scopes import Scope

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..agent.claude_plugin import ClaudePlugin
    from ..agent.mcp import McpConfig
    from ..agent.skills import InstallReport, Skill
    from ..documents import ProviderDocument
    from ..health.recovery import CallContext
    from ..models import Credentials
    from ._parts import Parts
    from .credentials import CredentialReads
    from .switches import Switches

__all__ = ["AgentAccess"]

#: Credential keys that hold secrets whatever the provider declares (OAuth, CLI tokens).
_RUNTIME_SECRETS = frozenset(
    {"accessToken", "refreshToken", "clientSecret", "oauthClient", "token"}
)


class AgentAccess:
    """What agents get: MCP servers, skills, recovered calls."""

    def __init__(self, parts: Parts, credentials: CredentialReads, switches: Switches) -> None:
        self._parts = parts
        self._credentials = credentials
        self._switches = switches

    def mcp_config(
        self,
        *,
        runtime: str = "agent-sdk",
        project_id: str | None = None,
        env_refs: bool = False,
        gateway: bool = False,
        headers_helper: bool = False,
        accounts: Mapping[str, str] | None = None,
    ) -> McpConfig:
        """The MCP servers of every connected, enabled, MCP-enabled provider, for ``runtime``.

        Each provider's credentials are those of the account the scope uses (the
        project's binding, else the default), or of ``accounts[provider]``.

        With ``gateway`` the config has one server instead, ``navi-integrations``,
        which runs ``navi-int gateway`` (for the scope) in front of them all:
        no secret is in it, whatever the providers.

        A provider whose server cannot be built (its credentials cannot be read,
        its plugin fails) is left out and listed in ``skipped`` with the reason;
        the others are still emitted. With ``env_refs`` secrets become ``${VAR}``
        references (the plugin's ``mcp_config`` hook still runs, on the real
        non-secret values), and ``env`` says how to set each variable.

        With ``headers_helper`` (Claude Code only) a remote server's entry holds no
        headers but a ``headersHelper`` command, ``navi-int token NAME --headers``,
        which Claude Code runs at each connect: the token is fresh (refreshed,
        single flight) instead of frozen in the file.
        """
        from ..agent.mcp import McpConfig, McpSkipped, check_format, headers_helpers, render

        check_format(runtime, env_refs=env_refs and not gateway, headers_helper=headers_helper)
        if gateway:
            return McpConfig(render({"navi-integrations": _gateway_server(project_id)}, runtime))
        servers: dict[str, Any] = {}
        env: dict[str, str] = {}
        skipped: list[McpSkipped] = []
        for item in self._switches.status(project_id=project_id):
            state = item.effective
            doc = self._parts.catalog.document(item.provider)
            if not (state.connected and state.enabled and state.mcp_enabled and doc.get("mcp")):
                continue
            try:
                credentials = self._credentials.get_credentials(
                    item.provider,
                    project_id=project_id,
                    account=(accounts or {}).get(item.provider),
                )
                if env_refs:
                    credentials = self._referenced(doc, credentials, project_id, env)
                server = self._parts.registry.mcp_config(item.provider, credentials)
            except NaviError as exc:
                advice = str(exc.advice) if exc.advice is not None and str(exc.advice) else None
                reason = f"{exc.origin}: {exc.message}" if isinstance(exc, PluginError) else None
                skipped.append(McpSkipped(item.provider, reason or exc.message, advice))
                continue
            if server is not None:
                servers[item.provider] = server
        document = render(servers, runtime)
        if headers_helper:
            headers_helpers(document, servers, project_id)
        return McpConfig(document, env, skipped)

    @staticmethod
    def _referenced(
        doc: ProviderDocument,
        credentials: Credentials,
        project_id: str | None,
        env: dict[str, str],
    ) -> Credentials:
        """The credentials with each secret replaced by a ``${VAR}`` reference."""
        import re
        import shlex

        from ..models import Credentials

        secret = {f["key"] for f in doc.get("credentials", []) if f.get("type") == "password"}
        by_template = {template: var for var, template in (doc.get("env") or {}).items()}
        values: dict[str, str] = {}
        for key in credentials:
            if key not in secret and key not in _RUNTIME_SECRETS:
                values[key] = credentials.reveal(key)
                continue
            var = by_template.get("{{" + key + "}}") or re.sub(
                r"[^A-Z0-9]+", "_", f"{doc['id']}_{key}".upper()
            )
            command = ["navi-int", "token", str(doc["id"])]
            if project_id:
                command += ["--project", project_id]
            command += ["--field", key]
            env[var] = shlex.join(command)
            values[key] = "${" + var + "}"
        return Credentials(values)

    def skills(self, *, project_id: str | None = None) -> list[Skill]:
        """The skills to offer agents in the scope: the framework's, then per provider whose
        skills are on, its setup skill until connected, its usage skill after, and its setup
        skill again beside the usage skill while the connection fails (a revoked key, a grant
        to authorize again: the usage skill points to it)."""
        from ..agent.skills import select_skills, skills_dir

        offers: list[tuple[str, str | None, str | None]] = []
        for item in self._switches.status(project_id=project_id):
            state = item.effective
            if not (state.enabled and state.skill_enabled):
                continue
            names = self._parts.catalog.document(item.provider).get("skill", {})
            roles = ["usage"] if state.connected else ["setup"]
            if state.connected and item.health == "failed":
                roles.append("setup")
            module = self._parts.registry.plugin_module(item.provider)
            base = skills_dir(module) if module else None
            for role in roles:
                name = names.get("usage") if role == "usage" else names.get("setup")
                folder = str(base / str(name)) if name and base is not None else None
                offers.append((item.provider, role, folder))
        return select_skills(offers)

    def install_skills(
        self, directory: str | Path, *, project_id: str | None = None
    ) -> InstallReport:
        """Copy exactly the skills enabled in the scope into ``directory``: only folders the
        installer made are replaced or removed; clashes are reported (see ``install``)."""
        from ..agent.skills import install

        return install(self.skills(project_id=project_id), Path(directory))

    def claude_plugin(
        self,
        directory: str | Path,
        *,
        project_id: str | None = None,
        name: str | None = None,
        marketplace: str | None = None,
        owner: str | None = None,
        headers_helper: bool = False,
        command: str = "navi-int",
    ) -> ClaudePlugin:
        """Write a Claude Code plugin of the scope's integrations into ``directory``, with a
        ``marketplace.json`` listing it (see :mod:`navi_integrations.agent.claude_plugin`).

        ``.mcp.json`` runs the gateway for the scope, or with ``headers_helper`` holds each
        connected provider's server: remote ones with a ``headersHelper``, a stdio one's
        secrets as ``${VAR}`` references (``env`` says how to set each). No secret is
        written. ``name`` defaults to ``navi-integrations`` (``navi-<project>`` in a
        project), ``marketplace`` to ``<name>-marketplace``, ``owner`` to the user name.
        """
        import getpass
        import re

        from .._version import __version__
        from ..agent.claude_plugin import ClaudePlugin, write_plugin
        from ..agent.mcp import headers_helper_command, render

        if name is None:  # a project id may hold . _ : @ / +, which a plugin name may not
            slug = re.sub(r"[^a-z0-9]+", "-", (project_id or "").lower()).strip("-")
            name = f"navi-{slug}" if slug else "navi-integrations"
        marketplace = marketplace or f"{name}-marketplace"
        try:
            owner = owner or getpass.getuser()
        except (KeyError, OSError):  # no user name (a container without /etc/passwd entry)
            owner = "navi-integrations"
        where = f"project {project_id}" if project_id else "every project"
        if not headers_helper:
            config = None
            gateway = {"navi-integrations": _gateway_server(project_id, command=command)}
            servers: dict[str, Any] = render(gateway, "claude-code")["mcpServers"]
            description = f"The integrations navi-integrations connects, for {where}, through "
            description += "its MCP gateway"
        else:
            # ${VAR} references for stdio servers' secrets; a remote server's headers are
            # replaced by its helper, so its references go unused (and unlisted below).
            config = self.mcp_config(runtime="claude-code", project_id=project_id, env_refs=True)
            servers = dict(config.document["mcpServers"])
            for provider, entry in servers.items():
                if entry.get("type") in ("http", "sse") and entry.pop("headers", None):
                    entry["headersHelper"] = headers_helper_command(
                        provider, project_id, command=command
                    )
            description = f"The integrations navi-integrations connects, for {where}"
        text = json.dumps(servers)
        env = {
            var: run
            for var, run in (config.env if config else {}).items()
            if re.search(r"\$\{" + re.escape(var) + r"\}", text)
        }
        version, report = write_plugin(
            Path(directory),
            name=name,
            marketplace=marketplace,
            description=description,
            owner=owner,
            framework_version=__version__,
            servers=servers,
            skills=self.skills(project_id=project_id),
        )
        return ClaudePlugin(
            Path(directory),
            name,
            marketplace,
            version,
            sorted(servers),
            report,
            env,
            list(config.skipped) if config else [],
        )

    def recovery_context(self, provider_id: str, *, project_id: str | None = None) -> CallContext:
        """What ``call_with_recovery`` needs for one provider and scope."""
        from ..health.recovery import CallContext

        scope = Scope.of(project_id)
        doc = self._parts.catalog.document(provider_id)
        cli = doc.get("cli")
        auth_type = doc["authType"]
        return CallContext(
            provider_id,
            doc["name"],
            auth_type,
            cli.get("authCommand") if cli is not None and auth_type == "cli" else None,
            scope,
            self._parts.health,
            lambda: self._credentials.credentials_in_scope(provider_id, scope),
            lambda rejected: self._credentials.refresh_credentials(
                provider_id, project_id=project_id, rejected=rejected
            ),
        )


def _gateway_server(project_id: str | None, *, command: str | None = None) -> Any:
    """The stdio server that runs the gateway: ``navi-int`` by its full path when it can be
    found (agent runtimes often start with a bare PATH), and the data dir when one is set;
    never the master key or a database URL, which may hold a password. With ``command``
    (a shared plugin) exactly that command, and no data dir."""
    import os
    import shutil
    import sys

    from ..models import StdioMcpServer

    args = ["gateway"] + (["--project", project_id] if project_id else [])
    if command is not None:
        return StdioMcpServer(command=command, args=args)
    env = {name: os.environ[name] for name in ("NAVI_INTEGRATIONS_HOME",) if os.environ.get(name)}
    beside = Path(sys.executable).with_name("navi-int")  # this environment's, when not on PATH
    command = shutil.which("navi-int") or (str(beside) if beside.exists() else "navi-int")
    return StdioMcpServer(command=command, args=args, env=env)
