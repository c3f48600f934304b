"""A Sentry provider for navi-integrations: sentry.io or a self-hosted instance.

The worked example of docs/plugin-guide.md (tests/test_plugin_kit_guide.py
installs it as a distribution and runs it end to end). It shows:

* a base-URL field with a default (``baseUrl``), used in every URL of the provider;
* an optional field left out of ``navi-int run``'s environment when empty (``org``);
* a health check that reads the whole response and gives its own advice;
* an ``mcp_config`` hook that adds a value computed from the base URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from navi_integrations import (
    ApiAuth,
    ApiConfig,
    CredentialField,
    Credentials,
    FieldProblem,
    HealthCheckConfig,
    HealthResult,
    IntegrationProvider,
    McpServer,
    SetupGuide,
    SetupStep,
    StdioMcpServer,
    hookimpl,
)

if TYPE_CHECKING:
    import httpx

SENTRY = IntegrationProvider(
    id="sentry",
    name="Sentry",
    description="Errors and performance monitoring",
    auth_type="api_key",
    credentials=[
        CredentialField(
            key="authToken",
            label="User auth token",
            type="password",
            help_url="https://sentry.io/settings/account/api/auth-tokens/",
            pattern=r"sntry[us]_[A-Za-z0-9_=+/.-]{20,}",
            pattern_hint="a user or organization auth token: 'sntryu_…' or 'sntrys_…'",
        ),
        # The field that makes self-hosted instances work: every URL below names it,
        # so a connection's value (or the default) decides where requests go.
        CredentialField(
            key="baseUrl",
            label="Sentry URL",
            type="url",
            default="https://sentry.io",
            pattern=r"https?://[^/\s]+(/[^\s]*)?",
            pattern_hint="the address of your Sentry, e.g. https://sentry.example.com",
        ),
        # Optional, no default: SENTRY_ORG is only set when the user gave one.
        CredentialField(key="org", label="Organization slug", type="text", required=False),
    ],
    api=ApiConfig(
        base_url="{{baseUrl}}/api/0",
        auth=ApiAuth(header="Authorization", template="Bearer {{authToken}}"),
        docs_url="https://docs.sentry.io/api/",
    ),
    health_check=HealthCheckConfig(endpoint="/"),
    mcp=StdioMcpServer(
        command="npx",
        args=["-y", "@sentry/mcp-server@latest"],
        env={"SENTRY_ACCESS_TOKEN": "{{authToken}}"},
    ),
    env={
        "SENTRY_AUTH_TOKEN": "{{authToken}}",
        "SENTRY_URL": "{{baseUrl}}",
        "SENTRY_ORG": "{{org}}",
    },
    setup_guide=SetupGuide(
        summary="Connect Sentry (sentry.io or self-hosted) with a user auth token.",
        steps=[
            SetupStep(
                title="Create a user auth token",
                detail="User settings > Personal Tokens, scopes project:read and event:read.",
                url="https://sentry.io/settings/account/api/auth-tokens/",
            ),
            SetupStep(
                title="Connect",
                detail="navi-int connect sentry (add baseUrl for a self-hosted Sentry)",
            ),
        ],
    ),
)


@hookimpl
def describe() -> IntegrationProvider:
    """Declare the Sentry provider."""
    return SENTRY


@hookimpl
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem]:
    """Catch a pasted DSN: it looks like a URL with a key in it but is not an API token."""
    if "baseUrl" in credentials and "@" in credentials.reveal("baseUrl"):
        return [FieldProblem("baseUrl", "that is a DSN; give the address of your Sentry")]
    return []


def _judge(response: httpx.Response) -> HealthResult | None:
    """Sentry's API root answers JSON with the token's user; anything else is not Sentry."""
    where = f"{response.url.scheme}://{response.url.netloc.decode()}"
    if not response.headers.get("content-type", "").startswith("application/json"):
        return HealthResult.failed(
            "bad_response",
            f"the URL {where} does not answer like a Sentry server",
            http_status=response.status_code,
            advice="check baseUrl: navi-int connect sentry --field baseUrl=https://…",
        )
    if response.status_code != 200:
        return None  # 401, 429, 5xx: the generic judgement words them well
    user = response.json().get("user")
    if not user:  # the API root answers even without a valid token, with no user
        return HealthResult.failed("auth", "Sentry did not accept the auth token")
    return HealthResult.healthy(str(user.get("email") or user["username"]))


@hookimpl
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult:
    """Ask the API root who the token belongs to ("Connected as <email>")."""
    from navi_integrations import http_check

    return http_check(
        provider, credentials, timeout, url=provider.url("api", credentials) + "/", judge=_judge
    )


@hookimpl
def mcp_config(provider: IntegrationProvider, credentials: Credentials) -> McpServer | None:
    """The declared server, plus ``SENTRY_HOST`` when the connection is a self-hosted one."""
    from navi_integrations import fill_mcp_server

    server = fill_mcp_server(provider, credentials)
    host = urlsplit(provider.url("api", credentials)).netloc
    if isinstance(server, StdioMcpServer) and host != "sentry.io":
        server = server.model_copy(update={"env": {**server.env, "SENTRY_HOST": host}})
    return server
