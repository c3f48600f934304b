"""The service's agent-facing workflows: advice, OAuth sign-in, MCP configs, skills, and
recovered calls. Part of ``IntegrationService`` (a mixin, to keep each module to one
concern).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Advice, CredentialsInvalid, NaviError, NotConnected, PluginError
from .scopes import Scope

if TYPE_CHECKING:
    from .agent.mcp import McpConfig
    from .agent.skills import InstallReport, Skill
    from .auth.oauth import SignInResult
    from .documents import ProviderStatus
    from .health.recovery import CallContext
    from .health.tracker import HealthTracker
    from .models import Credentials
    from .plugins.catalog import Catalog
    from .plugins.registry import Registry
    from .results import HealthResult

__all__ = ["AgentAccess"]

#: Credential keys that hold secrets whatever the provider declares (OAuth, CLI tokens).
_RUNTIME_SECRETS = frozenset({"accessToken", "refreshToken", "clientSecret", "token"})


class AgentAccess:
    """Workflows for agents and sign-in; mixed into ``IntegrationService``."""

    if TYPE_CHECKING:

        @property
        def catalog(self) -> Catalog: ...
        @property
        def registry(self) -> Registry: ...
        @property
        def health(self) -> HealthTracker: ...
        def status(
            self, *, project_id: str | None = None, providers: Iterable[str] | None = None
        ) -> list[ProviderStatus]: ...
        def get_credentials(
            self, provider_id: str, *, project_id: str | None = None
        ) -> Credentials: ...
        def credentials_in_scope(
            self,
            provider_id: str,
            scope: Scope,
            *,
            touch: bool = True,
            require_enabled: bool = True,
            fresh: bool = True,
        ) -> tuple[Credentials, Scope]: ...
        def refresh_credentials(
            self, provider_id: str, *, project_id: str | None = None, rejected: str | None = None
        ) -> Credentials: ...
        def store_credentials(
            self, provider_id: str, values: Mapping[str, str], *, project_id: str | None = None
        ) -> None: ...
        def record_success(
            self, provider_id: str, *, project_id: str | None = None, account: str | None = None
        ) -> None: ...

    # -- advice ----------------------------------------------------------------

    def advice_for(
        self,
        provider_id: str,
        result: HealthResult,
        *,
        project_id: str | None = None,
        connecting: bool = False,
    ) -> Advice | None:
        """What fixes a failed check or call (``connecting``: during ``connect`` itself)."""
        if result.ok:
            return None
        return self.classify(provider_id, result, project_id=project_id, connecting=connecting)[1]

    def classify(
        self,
        provider_id: str,
        result: HealthResult,
        *,
        project_id: str | None = None,
        connecting: bool = False,
    ) -> tuple[str, Advice | None]:
        """(recovery action, advice) for a failed check or call."""
        from .health.recovery import classify

        doc = self.catalog.document(provider_id)
        cli = doc.get("cli") or {}
        error = classify(
            provider_id,
            doc["name"],
            doc["authType"],
            result,
            project_id=project_id,
            auth_command=cli.get("authCommand") if doc["authType"] == "cli" else None,
            connecting=connecting,
        )
        return error.action, error.advice

    # -- OAuth sign-in -----------------------------------------------------------

    def oauth_client(
        self, provider_id: str, *, project_id: str | None = None
    ) -> Credentials | None:
        """The credentials already stored in exactly this scope (their OAuth client), if any."""
        scope = Scope.of(project_id)
        try:
            creds, row_scope = self.credentials_in_scope(
                provider_id, scope, touch=False, require_enabled=False, fresh=False
            )
        except NotConnected:
            return None
        return creds if row_scope == scope else None

    def sign_in(
        self,
        provider_id: str,
        *,
        client_id: str,
        client_secret: str = "",
        services: list[str] | None = None,
        project_id: str | None = None,
        timeout: float = 300.0,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> SignInResult:
        """Connect an OAuth provider: the browser sign-in (PKCE), then store everything at once.

        ``fields`` are the provider's other values (e.g. a self-hosted
        instance's ``baseUrl``), used to resolve its OAuth URLs and stored with the tokens.
        Raises :class:`~navi_integrations.errors.OAuthFailed` having stored nothing
        when the sign-in does not complete. Services already granted are not asked again.
        """
        from .auth.oauth import OAuthSignIn

        values = {**(fields or {}), "clientId": client_id, "clientSecret": client_secret}
        problems = self.registry.validate(provider_id, values)
        if problems:
            raise CredentialsInvalid(provider_id, problems)
        provider = self.registry.get(provider_id)
        chosen = (
            list(services) if services else list(provider.oauth.services if provider.oauth else [])
        )
        flow = OAuthSignIn(
            provider,
            existing=self.oauth_client(provider_id, project_id=project_id),
            timeout=timeout,
            open_browser=open_browser,
            show_url=show_url,
        )
        result = flow.run(client_id, client_secret, chosen, fields)
        if result.values is not None:
            stored = {k: result.values.reveal(k) for k in result.values}
            self.store_credentials(provider_id, stored, project_id=project_id)
            self.record_success(provider_id, project_id=project_id, account=result.account)
        return result

    # -- MCP configs ---------------------------------------------------------------

    def mcp_config(
        self,
        *,
        runtime: str = "agent-sdk",
        project_id: str | None = None,
        env_refs: bool = False,
        gateway: bool = False,
    ) -> McpConfig:
        """The MCP servers of every connected, enabled, MCP-enabled provider, for ``runtime``.

        With ``gateway`` the config has one server instead, ``navi-integrations``,
        which runs ``navi-int gateway`` (for the scope) in front of them all:
        no secret is in it, whatever the providers.

        A provider whose server cannot be built (its credentials cannot be read,
        its plugin fails) is left out and listed in ``skipped`` with the reason;
        the others are still emitted. With ``env_refs`` secrets become ``${VAR}``
        references (the plugin's ``mcp_config`` hook still runs, on the real
        non-secret values), and ``env`` says how to set each variable.
        """
        from .agent.mcp import McpConfig, McpSkipped, check_format, render

        check_format(runtime, env_refs=env_refs and not gateway)
        if gateway:
            return McpConfig(render({"navi-integrations": _gateway_server(project_id)}, runtime))
        servers: dict[str, Any] = {}
        env: dict[str, str] = {}
        skipped: list[McpSkipped] = []
        for item in self.status(project_id=project_id):
            state = item.effective
            doc = self.catalog.document(item.provider)
            if not (state.connected and state.enabled and state.mcp_enabled and doc.get("mcp")):
                continue
            try:
                credentials = self.get_credentials(item.provider, project_id=project_id)
                if env_refs:
                    credentials = self._referenced(doc, credentials, project_id, env)
                server = self.registry.mcp_config(item.provider, credentials)
            except NaviError as exc:
                advice = str(exc.advice) if exc.advice is not None and str(exc.advice) else None
                reason = f"{exc.origin}: {exc.message}" if isinstance(exc, PluginError) else None
                skipped.append(McpSkipped(item.provider, reason or exc.message, advice))
                continue
            if server is not None:
                servers[item.provider] = server
        return McpConfig(render(servers, runtime), env, skipped)

    @staticmethod
    def _referenced(
        doc: Mapping[str, Any],
        credentials: Credentials,
        project_id: str | None,
        env: dict[str, str],
    ) -> Credentials:
        """The credentials with each secret replaced by a ``${VAR}`` reference."""
        import re
        import shlex

        from .models import Credentials

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

    # -- skills --------------------------------------------------------------------

    def skills(self, *, project_id: str | None = None) -> list[Skill]:
        """The skills to offer agents in the scope: the framework's, then per provider whose
        skills are on, its setup skill until connected and its usage skill after."""
        from .agent.skills import select_skills, skills_dir

        offers: list[tuple[str, str | None, str | None]] = []
        for item in self.status(project_id=project_id):
            state = item.effective
            if not (state.enabled and state.skill_enabled):
                continue
            names = self.catalog.document(item.provider).get("skill") or {}
            role = "usage" if state.connected else "setup"
            name = names.get(role)
            folder = None
            if name:
                module = self.registry.plugin_module(item.provider)
                base = skills_dir(module) if module else None
                folder = str(base / name) if base is not None else None
            offers.append((item.provider, role, folder))
        return select_skills(offers)

    def install_skills(
        self, directory: str | Path, *, project_id: str | None = None
    ) -> InstallReport:
        """Copy exactly the skills enabled in the scope into ``directory``: only folders the
        installer made are replaced or removed; clashes are reported (see ``install``)."""
        from .agent.skills import install

        return install(self.skills(project_id=project_id), Path(directory))

    # -- recovered calls -----------------------------------------------------------

    def recovery_context(self, provider_id: str, *, project_id: str | None = None) -> CallContext:
        """What ``call_with_recovery`` needs for one provider and scope."""
        from .health.recovery import CallContext

        scope = Scope.of(project_id)
        doc = self.catalog.document(provider_id)
        cli = doc.get("cli") or {}
        auth_type = str(doc["authType"])
        return CallContext(
            provider_id,
            str(doc["name"]),
            auth_type,
            cli.get("authCommand") if auth_type == "cli" else None,
            scope,
            self.health,
            lambda: self.credentials_in_scope(provider_id, scope),
            lambda rejected: self.refresh_credentials(
                provider_id, project_id=project_id, rejected=rejected
            ),
        )


def _gateway_server(project_id: str | None) -> Any:
    """The stdio server that runs the gateway: ``navi-int`` by its full path when it can be
    found (agent runtimes often start with a bare PATH), and the data dir when one is set;
    never the master key or a database URL, which may hold a password."""
    import os
    import shutil
    import sys

    from .models import StdioMcpServer

    args = ["gateway"] + (["--project", project_id] if project_id else [])
    env = {name: os.environ[name] for name in ("NAVI_INTEGRATIONS_HOME",) if os.environ.get(name)}
    beside = Path(sys.executable).with_name("navi-int")  # this environment's, when not on PATH
    command = shutil.which("navi-int") or (str(beside) if beside.exists() else "navi-int")
    return StdioMcpServer(command=command, args=args, env=env)
