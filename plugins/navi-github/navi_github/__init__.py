"""GitHub provider for navi-integrations: signs in through the GitHub CLI (``gh``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

from navi_integrations import (
    Advice,
    ApiConfig,
    CliConfig,
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

PROVIDER_ID = "github"
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(:\d+)?")

GITHUB = IntegrationProvider(
    id=PROVIDER_ID,
    name="GitHub",
    description="Repositories, issues and pull requests, through the GitHub CLI",
    icon="icon.svg",
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
    env={"GH_TOKEN": "{{token}}", "GITHUB_TOKEN": "{{token}}"},
)


@hookimpl
def describe() -> IntegrationProvider:
    """Declare the GitHub provider."""
    return GITHUB


@hookimpl
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem]:
    """The only field is an optional host name; refuse URLs and paths."""
    if "host" not in credentials or not credentials.reveal("host"):
        return []
    host = credentials.reveal("host")
    if "://" in host or "/" in host:
        return [FieldProblem("host", "give the host name only, e.g. github.example.com")]
    if not _HOSTNAME.fullmatch(host.lower()):
        return [FieldProblem("host", "expected a host name such as github.example.com")]
    return []


# What gh prints when the network, not the token, is the problem.
_UNREACHABLE = (
    "dial tcp",
    "connection refused",
    "no such host",
    "i/o timeout",
    "tls handshake timeout",
    "context deadline exceeded",
    "network is unreachable",
    "connection reset",
    "eof",
)


def _gh(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    gh = shutil.which("gh")
    assert gh is not None
    return subprocess.run(
        [gh, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _host(credentials: Credentials) -> str:
    return credentials.reveal("host") if "host" in credentials else "github.com"


@hookimpl
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult:
    """Check gh's login for the host by calling the API through gh itself.

    ``gh auth status`` reports a network failure as an invalid token, so
    the check asks ``gh auth token`` (is there a login?) and then ``gh api
    user`` (does GitHub accept it?), and reads gh's error to tell "token
    rejected" from "cannot reach GitHub".
    """
    if shutil.which("gh") is None:
        hint = provider.cli.install_hint if provider.cli else ""
        return HealthResult.failed("not_installed", f"the GitHub CLI (gh) is not installed. {hint}")
    host = _host(credentials)
    start = time.monotonic()
    try:
        token = _gh(["auth", "token", "--hostname", host], timeout)
        if token.returncode != 0:
            return HealthResult.failed(
                "not_logged_in",
                f"gh is not logged in to {host}",
                advice=Advice("login", f"gh auth login --hostname {host}"),
            )
        left = max(0.1, timeout - (time.monotonic() - start))
        api = _gh(["api", "--hostname", host, "user"], left)
    except subprocess.TimeoutExpired:
        return HealthResult.failed("timeout", f"GitHub ({host}) did not answer in time")
    if api.returncode == 0:
        try:
            return HealthResult.healthy(str(json.loads(api.stdout)["login"]))
        except (ValueError, KeyError, TypeError):
            return HealthResult.failed("bad_response", f"GitHub ({host}) sent a malformed response")
    error = api.stderr.strip().lower()
    status = re.search(r"\(http (\d{3})\)", error)
    code = int(status.group(1)) if status else None
    if code == 401 or "bad credentials" in error:
        return HealthResult.failed(
            "auth",
            f"GitHub ({host}) rejected gh's token (401)",
            http_status=401,
            advice=Advice("login", f"gh auth login --hostname {host}"),
        )
    if code == 429 or (code == 403 and "rate limit" in error):
        return HealthResult.failed(
            "rate_limited", f"GitHub ({host}) is rate limiting requests", http_status=code
        )
    if code == 403:
        return HealthResult.failed(
            "forbidden", f"GitHub ({host}) refused access (403)", http_status=403
        )
    if code is not None and code >= 500:
        return HealthResult.failed(
            "unavailable", f"GitHub ({host}) is unavailable ({code})", http_status=code
        )
    if any(marker in error for marker in _UNREACHABLE):
        return HealthResult.failed("unreachable", f"cannot reach GitHub ({host})")
    first = error.splitlines()[0] if error else "no output"
    return HealthResult.failed("bad_response", f"gh api failed for {host}: {first}")


@hookimpl
def runtime_credentials(provider: IntegrationProvider, credentials: Credentials) -> Credentials:
    """Add gh's token for the host (``token``): Navi stores none for GitHub."""
    from navi_integrations import NaviError

    host = _host(credentials)
    if shutil.which("gh") is None:
        raise NaviError("the GitHub CLI (gh) is not installed: https://cli.github.com")
    try:
        out = _gh(["auth", "token", "--hostname", host], 15)
    except subprocess.TimeoutExpired:
        raise NaviError(f"gh did not answer for {host}") from None
    if out.returncode != 0 or not out.stdout.strip():
        raise NaviError(
            f"gh is not logged in to {host}",
            advice=Advice("login", f"gh auth login --hostname {host}"),
        )
    values = {key: credentials.reveal(key) for key in credentials}
    values["token"] = out.stdout.strip()
    return Credentials(values)
