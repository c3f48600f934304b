"""Linear providers for navi-integrations.

``linear``: a personal API key, the GraphQL API and Linear's hosted MCP server
with the key as a bearer token. ``linear-mcp``: the same hosted MCP server
signed in with OAuth through MCP authorization (no key to copy; navi
registers itself, refreshes the grant and keeps it alive).
"""

from __future__ import annotations

from typing import Any

from navi_integrations import (
    ApiAuth,
    ApiConfig,
    CredentialField,
    Credentials,
    FieldProblem,
    HealthCheckConfig,
    HealthResult,
    HttpMcpServer,
    IntegrationProvider,
    SetupGuide,
    SetupStep,
    SkillConfig,
    hookimpl,
    hosted_mcp_provider,
)

PROVIDER_ID = "linear"
MCP_URL = "https://mcp.linear.app/mcp"

LINEAR = IntegrationProvider(
    id=PROVIDER_ID,
    name="Linear",
    description="Issue tracking and project management",
    icon="icon.svg",
    color="indigo",
    auth_type="api_key",
    credentials=[
        CredentialField(
            key="apiKey",
            label="Personal API key",
            placeholder="lin_api_...",
            help_url="https://linear.app/settings/account/security",
            pattern=r"lin_api_[A-Za-z0-9]{32,64}",
            pattern_hint="a personal API key: 'lin_api_' followed by about 40 letters and digits",
        )
    ],
    # Personal API keys go in the Authorization header as they are (no "Bearer").
    api=ApiConfig(
        base_url="https://api.linear.app/graphql",
        auth=ApiAuth(template="{{apiKey}}"),
        docs_url="https://linear.app/developers/graphql",
    ),
    # Linear's hosted MCP server takes the API key as a bearer token.
    mcp=HttpMcpServer(
        transport="http",
        url=MCP_URL,
        headers={"Authorization": "Bearer {{apiKey}}"},
    ),
    skill=SkillConfig(usage="linear", setup="connect-linear"),
    setup_skill="connect-linear",
    setup_guide=SetupGuide(
        summary="Connect Linear with a personal API key; it acts as you, with your access.",
        steps=[
            SetupStep(
                title="Open Linear's security settings",
                detail="Settings > Account > Security & access.",
                url="https://linear.app/settings/account/security",
            ),
            SetupStep(
                title="Create a personal API key",
                detail="Under 'Personal API keys', choose 'New API key', name it (e.g. 'Navi') "
                "and pick the teams and permissions it may use.",
            ),
            SetupStep(
                title="Copy the key",
                detail="It starts with 'lin_api_' and is shown only once.",
            ),
            SetupStep(title="Paste it here", detail="navi-int connect linear"),
        ],
    ),
    health_check=HealthCheckConfig(endpoint="api", method="POST"),
    env={"LINEAR_API_KEY": "{{apiKey}}"},
)


LINEAR_MCP = hosted_mcp_provider(
    "linear-mcp",
    "Linear (OAuth)",
    MCP_URL,
    description="Linear's hosted MCP server, signed in with OAuth instead of an API key",
    docs_url="https://linear.app/docs/mcp",
    icon="icon.svg",
    color="indigo",
    # The usage skill is shared; connect-linear (the API key provider's) tells both ways.
    skill=SkillConfig(usage="linear"),
)


@hookimpl
def describe() -> list[IntegrationProvider]:
    """Declare Linear with an API key, and Linear's hosted MCP server with OAuth."""
    return [LINEAR, LINEAR_MCP]


@hookimpl
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem] | None:
    """Catch the usual mix-ups: a bearer prefix, an OAuth token instead of an API key."""
    if provider.id != PROVIDER_ID:  # the hosted MCP provider: the framework checks it
        return None
    key = credentials.reveal("apiKey")
    if key.lower().startswith("bearer "):
        return [FieldProblem("apiKey", "paste the key alone, without the 'Bearer ' prefix")]
    if key.startswith("lin_oauth_"):
        return [
            FieldProblem(
                "apiKey",
                "that is an OAuth access token; create a personal API key ('lin_api_…') instead",
            )
        ]
    return []


_VIEWER_QUERY = "query NaviHealth { viewer { id name email } }"


def _judge_viewer(body: dict[str, Any]) -> HealthResult:
    errors = body.get("errors") or []
    if errors:
        codes = {str((e.get("extensions") or {}).get("code", "")).upper() for e in errors}
        if "AUTHENTICATION_ERROR" in codes:
            return HealthResult.failed("auth", "Linear rejected the API key", http_status=400)
        if "RATELIMITED" in codes:
            return HealthResult.failed("rate_limited", "Linear is rate limiting requests")
        return HealthResult.failed("bad_response", "Linear answered the health query with an error")
    viewer = body["data"]["viewer"]
    return HealthResult.healthy(str(viewer["email"] or viewer["name"]))


@hookimpl
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult | None:
    """Ask Linear's GraphQL API who the key belongs to ("Connected as <email>")."""
    if provider.id != PROVIDER_ID:
        return None
    from navi_integrations import http_check

    return http_check(
        provider,
        credentials,
        timeout,
        method="POST",
        url=provider.url("api", credentials),
        json={"query": _VIEWER_QUERY},
        parse=_judge_viewer,
        parse_statuses=(400,),
    )
