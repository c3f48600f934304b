"""GitHub provider for navi-integrations: signs in through the GitHub CLI (``gh``)."""

from __future__ import annotations

import re

from navi_integrations import (
    ApiConfig,
    CliConfig,
    CredentialField,
    Credentials,
    FieldProblem,
    HealthCheckConfig,
    IntegrationProvider,
    ProviderDefaults,
    SetupGuide,
    SetupStep,
    SkillConfig,
    StdioMcpServer,
    hookimpl,
)

PROVIDER_ID = "github"
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(:\d+)?")

GITHUB = IntegrationProvider(
    id=PROVIDER_ID,
    name="GitHub",
    description="Repositories, issues and pull requests, through the GitHub CLI",
    icon="https://github.com/favicon.ico",
    color="gray",
    auth_type="cli",
    credentials=[
        CredentialField(
            key="host",
            label="GitHub host (for GitHub Enterprise Server)",
            type="text",
            required=False,
            placeholder="github.com",
            help_url="https://cli.github.com/manual/gh_auth_login",
        )
    ],
    cli=CliConfig(
        command="gh",
        auth_command="gh auth login",
        check_command="gh auth status",
        install_hint="Install the GitHub CLI: https://cli.github.com (Debian: apt install gh)",
    ),
    api=ApiConfig(base_url="https://api.github.com", docs_url="https://docs.github.com/rest"),
    # The token comes from `gh auth token` when the config is produced; Navi stores none.
    mcp=StdioMcpServer(
        command="npx",
        args=["-y", "@modelcontextprotocol/server-github"],
        env={"GITHUB_PERSONAL_ACCESS_TOKEN": "{{token}}"},
    ),
    skill=SkillConfig(usage="github", setup="connect-github"),
    setup_skill="connect-github",
    setup_guide=SetupGuide(
        summary="GitHub works through the GitHub CLI: sign in once with gh and Navi uses "
        "that login. Navi stores no GitHub token.",
        steps=[
            SetupStep(
                title="Install the GitHub CLI",
                detail="See https://cli.github.com; on Debian or Ubuntu: apt install gh.",
                url="https://cli.github.com",
            ),
            SetupStep(
                title="Sign in",
                detail="Run 'gh auth login' and follow the prompts (GitHub.com or your "
                "Enterprise host, HTTPS, browser login).",
            ),
            SetupStep(title="Check", detail="Run 'gh auth status', then: navi-int connect github"),
        ],
    ),
    health_check=HealthCheckConfig(command="gh auth status"),
    defaults=ProviderDefaults(enabled_globally=True, mcp_enabled=True, skill_enabled=True),
    env={"GH_TOKEN": "{{token}}", "GITHUB_TOKEN": "{{token}}"},
)


@hookimpl
def describe() -> IntegrationProvider:
    """Declare the GitHub provider."""
    return GITHUB


@hookimpl
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem] | None:
    """The only field is an optional host name; refuse URLs and paths."""
    if provider.id != PROVIDER_ID:
        return None
    if "host" not in credentials or not credentials.reveal("host"):
        return []
    host = credentials.reveal("host")
    if "://" in host or "/" in host:
        return [FieldProblem("host", "give the host name only, e.g. github.example.com")]
    if not _HOSTNAME.fullmatch(host.lower()):
        return [FieldProblem("host", "expected a host name such as github.example.com")]
    return []
