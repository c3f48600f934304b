"""Notion providers for navi-integrations.

``notion``: an internal integration secret, the REST API and Notion's npm MCP
server. ``notion-mcp``: Notion's hosted MCP server, signed in with OAuth
through MCP authorization (it acts as the user, with the user's access).
"""

from __future__ import annotations

import re
from typing import Any

from navi_integrations import (
    ApiAuth,
    ApiConfig,
    CredentialField,
    Credentials,
    FieldProblem,
    HealthCheckConfig,
    HealthResult,
    IntegrationProvider,
    SetupGuide,
    SetupStep,
    SkillConfig,
    StdioMcpServer,
    hookimpl,
    hosted_mcp_provider,
)

PROVIDER_ID = "notion"
#: Notion requires a dated API version header on every request.
NOTION_VERSION = "2022-06-28"

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)

NOTION = IntegrationProvider(
    id=PROVIDER_ID,
    name="Notion",
    description="Docs, wikis and databases",
    icon="icon.svg",
    color="neutral",
    auth_type="api_key",
    credentials=[
        CredentialField(
            key="token",
            label="Internal integration secret",
            placeholder="ntn_...",
            help_url="https://www.notion.so/profile/integrations",
            pattern=r"(ntn_|secret_)[A-Za-z0-9]{30,64}",
            pattern_hint="an internal integration secret: 'ntn_' (or, for older "
            "integrations, 'secret_') followed by letters and digits",
        )
    ],
    api=ApiConfig(
        base_url="https://api.notion.com/v1",
        urls={"users_me": "https://api.notion.com/v1/users/me"},
        auth=ApiAuth(template="Bearer {{token}}"),
        docs_url="https://developers.notion.com/reference/intro",
    ),
    mcp=StdioMcpServer(
        command="npx",
        args=["-y", "@notionhq/notion-mcp-server"],
        env={"NOTION_TOKEN": "{{token}}"},
    ),
    skill=SkillConfig(usage="notion", setup="connect-notion"),
    setup_skill="connect-notion",
    setup_guide=SetupGuide(
        summary="Create an internal integration in Notion, then share pages with it: "
        "the integration sees nothing until a page is shared.",
        steps=[
            SetupStep(
                title="Create an internal integration",
                detail="In Notion's integrations page choose 'New integration', pick the "
                "workspace, type 'Internal', and name it (e.g. 'Navi').",
                url="https://www.notion.so/profile/integrations",
            ),
            SetupStep(
                title="Choose its capabilities",
                detail="Read content, and Update/Insert content if agents should write.",
            ),
            SetupStep(
                title="Copy the Internal Integration Secret",
                detail="Under 'Configuration', reveal and copy the secret (starts with 'ntn_').",
            ),
            SetupStep(
                title="Share pages with the integration",
                detail="Critical: open each top-level page or database the agent should use, "
                "choose '•••' > 'Connections' > add your integration. Child pages follow.",
            ),
            SetupStep(title="Paste the secret here", detail="navi-int connect notion"),
        ],
    ),
    health_check=HealthCheckConfig(endpoint="users_me"),
    env={"NOTION_TOKEN": "{{token}}"},
)


NOTION_MCP = hosted_mcp_provider(
    "notion-mcp",
    "Notion (OAuth)",
    "https://mcp.notion.com/mcp",
    description="Notion's hosted MCP server, signed in with OAuth as you: no integration "
    "to create or pages to share with it",
    docs_url="https://developers.notion.com/docs/mcp",
    icon="icon.svg",
    color="neutral",
    # The usage skill is shared; connect-notion (the API key provider's) tells both ways.
    skill=SkillConfig(usage="notion"),
)


@hookimpl
def describe() -> list[IntegrationProvider]:
    """Declare Notion with an integration secret, and Notion's hosted MCP server with OAuth."""
    return [NOTION, NOTION_MCP]


@hookimpl
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem] | None:
    """Catch a pasted integration id or bearer prefix instead of the secret."""
    if provider.id != PROVIDER_ID:  # the hosted MCP provider: the framework checks it
        return None
    token = credentials.reveal("token")
    if token.lower().startswith("bearer "):
        return [FieldProblem("token", "paste the secret alone, without the 'Bearer ' prefix")]
    if _UUID.fullmatch(token):
        return [
            FieldProblem(
                "token",
                "that looks like the integration's ID; copy the Internal Integration Secret "
                "(starts with 'ntn_') from its Configuration tab",
            )
        ]
    return []


def _judge_me(body: dict[str, Any]) -> HealthResult:
    name = body.get("name") or body["id"]
    workspace = (body.get("bot") or {}).get("workspace_name")
    return HealthResult.healthy(f"{name} in {workspace}" if workspace else str(name))


@hookimpl
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult | None:
    """Ask Notion's users/me who the integration is ("Connected as Navi in Acme")."""
    if provider.id != PROVIDER_ID:
        return None
    from navi_integrations import http_check

    return http_check(
        provider,
        credentials,
        timeout,
        url=provider.url("users_me", credentials),
        headers={"Notion-Version": NOTION_VERSION},
        parse=_judge_me,
    )
