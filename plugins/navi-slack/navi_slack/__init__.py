"""Slack provider for navi-integrations: bot token and team id, Web API, npm MCP server."""

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
    IntegrationProvider,
    SetupGuide,
    SetupStep,
    SkillConfig,
    StdioMcpServer,
    hookimpl,
)

PROVIDER_ID = "slack"

#: Bot token scopes the Slack MCP server's tools need.
REQUIRED_SCOPES = (
    "channels:history",
    "channels:read",
    "chat:write",
    "reactions:write",
    "users:read",
    "users.profile:read",
)

# Other Slack token kinds users paste by mistake, and what to say.
_WRONG_TOKENS = {
    "xoxp-": "that is a user token; use the Bot User OAuth Token, which starts with 'xoxb-'",
    "xapp-": "that is an app-level token; use the Bot User OAuth Token ('xoxb-…') "
    "from 'OAuth & Permissions'",
    "xoxe": "that is a refresh token; use the Bot User OAuth Token ('xoxb-…')",
}

SLACK = IntegrationProvider(
    id=PROVIDER_ID,
    name="Slack",
    description="Team messaging: read channels, post messages, react",
    icon="icon.svg",
    color="purple",
    auth_type="api_key",
    credentials=[
        CredentialField(
            key="botToken",
            label="Bot User OAuth Token",
            placeholder="xoxb-...",
            help_url="https://api.slack.com/apps",
            pattern=r"xoxb-[0-9]+-[0-9]+-[A-Za-z0-9]+",
            pattern_hint="a bot token: 'xoxb-', two groups of digits and a string of "
            "letters and digits, separated by '-'",
        ),
        CredentialField(
            key="teamId",
            label="Team (workspace) ID",
            type="text",
            placeholder="T01234567",
            help_url="https://slack.com/help/articles/221769328",
            pattern=r"T[A-Z0-9]{6,}",
            pattern_hint="'T' followed by uppercase letters and digits, e.g. T01234567",
        ),
    ],
    api=ApiConfig(
        base_url="https://slack.com/api",
        urls={"auth_test": "https://slack.com/api/auth.test"},
        auth=ApiAuth(template="Bearer {{botToken}}"),
        docs_url="https://api.slack.com/methods",
    ),
    mcp=StdioMcpServer(
        command="npx",
        args=["-y", "@modelcontextprotocol/server-slack"],
        env={"SLACK_BOT_TOKEN": "{{botToken}}", "SLACK_TEAM_ID": "{{teamId}}"},
    ),
    skill=SkillConfig(usage="slack", setup="connect-slack"),
    setup_skill="connect-slack",
    setup_guide=SetupGuide(
        summary="Create a Slack app with a bot user, install it to your workspace, and "
        "invite the bot to the channels it should see.",
        steps=[
            SetupStep(
                title="Create a Slack app",
                detail="'Create New App' > 'From scratch', name it (e.g. 'Navi') and pick "
                "the workspace.",
                url="https://api.slack.com/apps",
            ),
            SetupStep(
                title="Add bot token scopes",
                detail="'OAuth & Permissions' > 'Bot Token Scopes': "
                + ", ".join(REQUIRED_SCOPES)
                + ".",
            ),
            SetupStep(
                title="Install to the workspace",
                detail="'Install to Workspace', approve, then copy the 'Bot User OAuth Token' "
                "(starts with 'xoxb-').",
            ),
            SetupStep(
                title="Find the team ID",
                detail="It starts with 'T': open Slack in a browser, the URL is "
                "app.slack.com/client/T…/…",
            ),
            SetupStep(
                title="Invite the bot to channels",
                detail="In each channel: /invite @Navi. The bot reads only channels it is in.",
            ),
            SetupStep(title="Paste the token and team ID here", detail="navi-int connect slack"),
        ],
    ),
    health_check=HealthCheckConfig(endpoint="auth_test", method="POST"),
    env={"SLACK_BOT_TOKEN": "{{botToken}}", "SLACK_TEAM_ID": "{{teamId}}"},
)


@hookimpl
def describe() -> IntegrationProvider:
    """Declare the Slack provider."""
    return SLACK


@hookimpl
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem]:
    """Tell which other Slack token was pasted, and catch a lowercase team id."""
    problems: list[FieldProblem] = []
    token = credentials.reveal("botToken")
    for prefix, message in _WRONG_TOKENS.items():
        if token.startswith(prefix):
            problems.append(FieldProblem("botToken", message))
    team = credentials.reveal("teamId")
    if team != team.upper() and team.upper().startswith("T"):
        problems.append(FieldProblem("teamId", "team IDs are uppercase, e.g. T01234567"))
    elif team.startswith(("C", "U", "W", "B")):
        problems.append(
            FieldProblem("teamId", "that is a channel or user ID; the team ID starts with 'T'")
        )
    return problems


_AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


def _judge_auth_test(team_id: str) -> Any:
    def judge(body: dict[str, Any]) -> HealthResult:
        if not body.get("ok"):
            error = str(body.get("error", "unknown_error"))
            if error in _AUTH_ERRORS:
                return HealthResult.failed("auth", f"Slack rejected the bot token ({error})")
            if error == "ratelimited":
                return HealthResult.failed("rate_limited", "Slack is rate limiting requests")
            return HealthResult.failed("bad_response", f"Slack answered auth.test with {error}")
        if body.get("team_id") != team_id:
            return HealthResult.failed(
                "auth", f"the bot token belongs to team {body.get('team_id')}, not {team_id}"
            )
        return HealthResult.healthy(f"{body['user']} in {body['team']}")

    return judge


@hookimpl
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult:
    """Call Slack's auth.test ("Connected as navi in Acme"); Slack reports errors in a 200."""
    from navi_integrations import http_check

    return http_check(
        provider,
        credentials,
        timeout,
        method="POST",
        url=provider.url("auth_test", credentials),
        parse=_judge_auth_test(credentials.reveal("teamId")),
    )
