"""The sections of a provider description (PRD F1), and the base every model shares.

A provider (:class:`~navi_integrations.models.IntegrationProvider`) is made
of these: its setup guide, OAuth endpoints and scopes, MCP server, CLI, HTTP
API, skills, health check and defaults. Each is a plain frozen value; the
rules that tie them to the provider's credential fields (placeholders, URL
templates) are checked by the provider in :mod:`navi_integrations.models`,
which re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "DISCOVERED_FIELDS",
    "ApiAuth",
    "ApiConfig",
    "CliConfig",
    "DocumentModel",
    "HealthCheckConfig",
    "HttpMcpServer",
    "McpServer",
    "OAuthConfig",
    "ProviderDefaults",
    "SetupGuide",
    "SetupStep",
    "SkillConfig",
    "SseMcpServer",
    "StdioMcpServer",
]


class DocumentModel(BaseModel):
    """Base of every model here: the PRD's camelCase keys (either spelling accepted on input),
    unknown keys refused, frozen (a provider description is a value)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


class SetupStep(DocumentModel):
    """One step of a setup guide."""

    title: str
    detail: str = ""
    url: str | None = None


class SetupGuide(DocumentModel):
    """Instructions shown to a user before connecting."""

    summary: str = ""
    steps: list[SetupStep] = Field(default_factory=list)


#: The endpoints an MCP-authorization provider discovers when it connects, stored with its
#: grant and named by its OAuth URLs (``{{authorizationEndpoint}}``, ``{{tokenEndpoint}}``).
DISCOVERED_FIELDS = frozenset({"authorizationEndpoint", "tokenEndpoint"})


class OAuthConfig(DocumentModel):
    """OAuth 2.0 endpoints and scopes of a provider.

    ``scopes`` maps each scope to a description the user is shown;
    ``service_scopes`` says which scopes each service (``services``) needs, and
    ``base_scopes`` are always requested (e.g. ``openid email``).

    ``discovery="mcp"``: the provider is a hosted MCP server that authorizes
    clients as the MCP specification says (protected resource metadata,
    authorization server metadata, client registration). Its endpoints are
    not declared but discovered when it connects and stored with the grant:
    ``authUrl`` and ``tokenUrl`` default to ``{{authorizationEndpoint}}`` and
    ``{{tokenEndpoint}}``, and ``scopes`` may stay empty (the server says
    which it wants). See :func:`navi_integrations.hosted_mcp.hosted_mcp_provider`.
    """

    auth_url: str = ""
    token_url: str = ""
    scopes: dict[str, str] = Field(default_factory=dict)
    discovery: Literal["none", "mcp"] = Field(
        default="none",
        description="'mcp': endpoints and client registration are discovered from the MCP "
        "server (MCP authorization); 'none': the URLs given here are used.",
    )
    services: list[str] = Field(default_factory=list)
    service_scopes: dict[str, list[str]] = Field(default_factory=dict)
    base_scopes: list[str] = Field(default_factory=list)
    pkce: bool = True
    #: Extra authorization-request parameters (e.g. Google's ``access_type=offline``).
    auth_params: dict[str, str] = Field(default_factory=dict)
    refresh_token_idle_days: int | None = Field(
        default=None,
        ge=1,
        description="Days after which the provider revokes a refresh token nobody used; "
        "`navi-int refresh --due` exercises it before then.",
    )

    @model_validator(mode="before")
    @classmethod
    def _discovered_urls(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("discovery") != "mcp":
            return data
        filled = dict(data)
        for snake, camel, template in (
            ("auth_url", "authUrl", "{{authorizationEndpoint}}"),
            ("token_url", "tokenUrl", "{{tokenEndpoint}}"),
        ):
            if not filled.get(snake) and not filled.get(camel):
                filled.pop(snake, None)
                filled[camel] = template
        return filled

    @model_validator(mode="after")
    def _services_consistent(self) -> OAuthConfig:
        if self.discovery == "none" and not (self.auth_url and self.token_url):
            raise ValueError("an oauth section needs authUrl and tokenUrl (or discovery 'mcp')")
        for service in self.services:
            if service not in self.service_scopes:
                raise ValueError(f"service '{service}' has no entry in serviceScopes")
        for service, scopes in self.service_scopes.items():
            if service not in self.services:
                raise ValueError(f"serviceScopes names unknown service '{service}'")
            for scope in scopes:
                if scope not in self.scopes:
                    raise ValueError(f"scope '{scope}' of service '{service}' is not in scopes")
        for scope in self.base_scopes:
            if scope not in self.scopes:
                raise ValueError(f"base scope '{scope}' is not in scopes")
        return self


class StdioMcpServer(DocumentModel):
    """An MCP server the agent runtime launches as a subprocess."""

    transport: Literal["stdio"] = "stdio"
    command: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)


class SseMcpServer(DocumentModel):
    """A remote MCP server reached over Server-Sent Events."""

    transport: Literal["sse"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)


class HttpMcpServer(DocumentModel):
    """A remote MCP server reached over streamable HTTP."""

    transport: Literal["http"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)


def _mcp_transport(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("transport", "stdio"))
    return str(getattr(value, "transport", "stdio"))


#: An MCP server config; ``transport`` defaults to ``stdio`` when absent.
McpServer = Annotated[
    Annotated[StdioMcpServer, Tag("stdio")]
    | Annotated[SseMcpServer, Tag("sse")]
    | Annotated[HttpMcpServer, Tag("http")],
    Discriminator(
        _mcp_transport,
        custom_error_type="invalid_transport",
        custom_error_message="mcp transport must be 'stdio', 'sse' or 'http'",
    ),
]


class CliConfig(DocumentModel):
    """An external CLI the provider authenticates through (e.g. ``gh``)."""

    command: str
    auth_command: str
    check_command: str | None = None
    install_hint: str | None = None


class ApiAuth(DocumentModel):
    """How a credential is sent on API requests: in a header (templated) or a query parameter."""

    header: str | None = "Authorization"
    template: str = "Bearer {{apiKey}}"
    query: str | None = None

    @model_validator(mode="after")
    def _one_place(self) -> ApiAuth:
        if (self.header is None) == (self.query is None):
            raise ValueError("set exactly one of 'header' and 'query'")
        return self


class ApiConfig(DocumentModel):
    """The provider's HTTP API: base URL, named endpoint URLs and how to authenticate."""

    base_url: str
    urls: dict[str, str] = Field(default_factory=dict)
    auth: ApiAuth | None = None
    docs_url: str | None = None


class SkillConfig(DocumentModel):
    """Agent Skills associated with a provider (PRD F2)."""

    usage: str | None = None
    setup: str | None = None


class HealthCheckConfig(DocumentModel):
    """How the provider's health is checked: an HTTP endpoint, or a CLI command."""

    endpoint: str | None = None
    method: Literal["GET", "POST"] = "GET"
    command: str | None = None
    expected_status: int = 200
    timeout_seconds: float = 10.0


class ProviderDefaults(DocumentModel):
    """What applies when the user has set nothing for a provider."""

    enabled_globally: bool = True
    mcp_enabled: bool = True
    skill_enabled: bool = True
