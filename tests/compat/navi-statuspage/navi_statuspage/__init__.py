"""Statuspage provider for navi-integrations (written against the 0.1 API, kept as it was)."""

from navi_integrations import (
    ApiAuth,
    ApiConfig,
    CredentialField,
    FieldProblem,
    HealthResult,
    IntegrationProvider,
    SetupGuide,
    SetupStep,
    SkillConfig,
    StdioMcpServer,
    hookimpl,
)

PROVIDER_ID = "statuspage"

STATUSPAGE = IntegrationProvider(
    id=PROVIDER_ID,
    name="Statuspage",
    description="Incident communication by Atlassian",
    icon="",
    color="blue",
    auth_type="api_key",
    credentials=[
        CredentialField(
            key="apiKey",
            label="API key",
            type="password",
            pattern=r"[a-f0-9]{32}",
            pattern_hint="a 32-character hexadecimal API key",
        ),
        CredentialField(key="pageId", label="Page ID", type="text", required=True),
    ],
    api=ApiConfig(
        base_url="https://api.statuspage.io/v1",
        auth=ApiAuth(header="Authorization", template="OAuth {{apiKey}}"),
    ),
    mcp=StdioMcpServer(
        command="statuspage-mcp",
        args=["--page", "{{pageId}}"],
        env={"STATUSPAGE_API_KEY": "{{apiKey}}"},
    ),
    setup_guide=SetupGuide(
        summary="Create an API key in Statuspage and copy your page ID.",
        steps=[
            SetupStep(
                title="Create an API key",
                detail="Your avatar > API info > Create key",
                url="https://manage.statuspage.io/login",
            ),
            SetupStep(title="Copy the page ID", detail="It is shown on the same API info page"),
        ],
    ),
    skill=SkillConfig(usage="statuspage", setup="connect-statuspage"),
    setup_skill="connect-statuspage",
    env={"STATUSPAGE_API_KEY": "{{apiKey}}", "STATUSPAGE_PAGE_ID": "{{pageId}}"},
)


@hookimpl
def describe():
    return STATUSPAGE


@hookimpl
def validate(provider, credentials):
    if provider.id != PROVIDER_ID:
        return None
    if "apiKey" in credentials and credentials.reveal("apiKey").startswith("OAuth "):
        return [FieldProblem("apiKey", "paste the key alone, without 'OAuth '")]
    return []


@hookimpl
def health_check(provider, credentials, timeout):
    if provider.id != PROVIDER_ID:
        return None
    from navi_integrations.checks import http_check  # 0.1's module path

    page = credentials.reveal("pageId")
    return http_check(
        provider,
        credentials,
        timeout,
        url=provider.url("api") + f"/pages/{page}",
        parse=lambda body: HealthResult.healthy(body["name"]),
    )


@hookimpl
def mcp_config(provider, credentials):
    if provider.id != PROVIDER_ID:
        return None
    server = provider.mcp
    return server.model_copy(
        update={
            "args": [credentials.fill(a) for a in server.args],
            "env": {k: credentials.fill(v) for k, v in server.env.items()},
        }
    )
