"""Providers that are hosted MCP servers authorizing through MCP authorization.

One builder for every such provider, so that a plugin (Linear's and
Notion's hosted servers), a user's ``navi-int mcp add`` and a TOML file all
describe one the same way::

    from navi_integrations import hosted_mcp_provider

    @hookimpl
    def describe():
        return hosted_mcp_provider(
            "acme-mcp", "Acme (hosted MCP)", "https://mcp.acme.example/mcp",
            description="Acme's own MCP server",
        )

The provider's ``authType`` is ``oauth`` with ``oauth.discovery = "mcp"``:
``navi-int connect`` finds the authorization server from the MCP server's
``401``, registers a client (or uses the one given as ``clientId``) and signs
in through the browser; the access token is sent as ``Authorization: Bearer``
and refreshed like any OAuth token. ``NAVI_<ID>_MCP_URL`` overrides the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from .models import (
    CredentialField,
    HttpMcpServer,
    IntegrationProvider,
    OAuthConfig,
    ProviderDefaults,
    SetupGuide,
    SetupStep,
    SkillConfig,
    SseMcpServer,
)

__all__ = ["hosted_mcp_provider"]


def hosted_mcp_provider(
    id: str,
    name: str,
    url: str,
    *,
    description: str = "",
    transport: Literal["http", "sse"] = "http",
    client_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    credentials: list[CredentialField] | None = None,
    docs_url: str | None = None,
    icon: str = "",
    color: str = "gray",
    skill: SkillConfig | None = None,
    setup_skill: str | None = None,
    defaults: ProviderDefaults | None = None,
    provider_class: type[IntegrationProvider] = IntegrationProvider,
) -> IntegrationProvider:
    """A provider for the MCP server at ``url`` that authorizes with MCP authorization.

    ``client_id``: a client registered beforehand with the server's
    authorization server (the default of the optional ``clientId`` field;
    without one, a client is registered when connecting). ``headers``: more
    headers to send, as templates naming ``credentials`` (never values).
    """
    server_headers = {"Authorization": "Bearer {{accessToken}}", **(headers or {})}
    server: HttpMcpServer | SseMcpServer
    if transport == "sse":
        server = SseMcpServer(transport="sse", url=url, headers=server_headers)
    else:
        server = HttpMcpServer(transport="http", url=url, headers=server_headers)
    fields = [
        CredentialField(
            key="clientId",
            label="OAuth client id (optional: one is registered for you)",
            type="text",
            required=False,
            default=client_id or None,
        ),
        CredentialField(
            key="clientSecret",
            label="OAuth client secret (only for a confidential pre-registered client)",
            required=False,
        ),
        *(credentials or []),
    ]
    steps = [
        SetupStep(
            title="Sign in when your browser opens",
            detail=f"navi-int connect {id} finds {name}'s authorization server, registers "
            "navi-integrations with it and opens the sign-in page; approve access there.",
            url=docs_url,
        )
    ]
    return provider_class(
        id=id,
        name=name,
        description=description or f"{name}'s hosted MCP server",
        icon=icon,
        color=color,
        auth_type="oauth",
        credentials=fields,
        oauth=OAuthConfig(discovery="mcp"),
        mcp=server,
        skill=skill,
        setup_skill=setup_skill,
        setup_guide=SetupGuide(
            summary=f"{name} is reached through its hosted MCP server at {url}, which "
            "authorizes with OAuth (MCP authorization): no API key to copy.",
            steps=steps,
        ),
        defaults=defaults or ProviderDefaults(mcp_enabled=True),
    )
