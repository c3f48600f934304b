"""Self-hosted instances, field defaults, optional fields, and plugin advice (issue 12, 1/2/4).

The provider under test is the plugin guide's worked example
(docs/examples/navi_sentry.py), installed as a real distribution where a
subprocess must see it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from navi_integrations import (
    ApiConfig,
    CredentialField,
    Credentials,
    HealthResult,
    IntegrationProvider,
    IntegrationService,
    MissingValue,
    OAuthConfig,
    Registry,
    SseMcpServer,
    StdioMcpServer,
    http_check,
)
from navi_integrations.testing import LocalHTTPServer, Reply, write_distribution
from pydantic import SecretStr, ValidationError

from .cli_helpers import navi

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "navi_sentry.py"
TOKEN = "sntryu_" + "a1b2c3d4" * 8


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("navi_sentry_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sentry() -> ModuleType:
    return _example()


def _sentry_root(server: LocalHTTPServer) -> None:
    server.route(
        "GET",
        "/api/0/",
        Reply(200, json={"user": {"email": "ada@acme.dev", "username": "ada"}}),
    )


# -- URL resolution ---------------------------------------------------------------


def test_every_url_follows_override_then_field_value_then_default(
    sentry: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider: IntegrationProvider = sentry.SENTRY
    monkeypatch.delenv("NAVI_SENTRY_API_URL", raising=False)
    # the one-argument call of the old API keeps working: the default applies
    assert provider.url("api") == "https://sentry.io/api/0"
    assert provider.endpoints() == {"api": "https://sentry.io/api/0"}
    own = Credentials({"authToken": TOKEN, "baseUrl": "https://sentry.acme.dev"})
    assert provider.url("api", own) == "https://sentry.acme.dev/api/0"
    assert provider.endpoints(own) == {"api": "https://sentry.acme.dev/api/0"}
    # an empty stored value is no value: the default applies
    assert provider.url("api", Credentials({"baseUrl": ""})) == "https://sentry.io/api/0"
    monkeypatch.setenv("NAVI_SENTRY_API_URL", "http://127.0.0.1:9/api/0")
    assert provider.url("api", own) == "http://127.0.0.1:9/api/0"
    with pytest.raises(KeyError):
        provider.url("nonexistent", own)


def test_oauth_urls_of_a_self_hosted_instance() -> None:
    gitlab = IntegrationProvider(
        id="gitlab",
        name="GitLab",
        description="Self-hostable forge",
        auth_type="oauth",
        credentials=[
            CredentialField(key="clientId", label="Client id", type="text"),
            CredentialField(key="clientSecret", label="Client secret"),
            CredentialField(
                key="baseUrl", label="GitLab URL", type="url", default="https://gitlab.com"
            ),
        ],
        oauth=OAuthConfig(
            auth_url="{{baseUrl}}/oauth/authorize",
            token_url="{{baseUrl}}/oauth/token",
            scopes={"api": "Full API access"},
        ),
        api=ApiConfig(base_url="{{baseUrl}}/api/v4"),
    )
    own = Credentials({"baseUrl": "https://git.acme.dev"})
    assert gitlab.endpoints(own) == {
        "api": "https://git.acme.dev/api/v4",
        "auth": "https://git.acme.dev/oauth/authorize",
        "token": "https://git.acme.dev/oauth/token",
    }
    assert gitlab.url("token") == "https://gitlab.com/oauth/token"


def _provider(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": "acme",
        "name": "Acme",
        "description": "d",
        "authType": "api_key",
        "credentials": [
            {"key": "apiKey", "label": "API key"},
            {"key": "host", "label": "Host", "type": "url", "required": False},
        ],
        "api": {"baseUrl": "https://api.acme.dev"},
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"api": {"baseUrl": "{{host}}/v1"}},
            "api.baseUrl can never be filled when field 'host' is empty",
        ),
        (
            {"api": {"baseUrl": "https://a.dev", "urls": {"me": "https://a.dev/{{apiKey}}"}}},
            "api.urls.me uses the secret field 'apiKey' in a URL",
        ),
        ({"api": {"baseUrl": "{{hots}}/v1"}}, "unknown placeholder(s) {{hots}}"),
        (
            {"mcp": {"transport": "http", "url": "{{host}}/mcp"}},
            "mcp.url can never be filled when field 'host' is empty",
        ),
        (
            {"healthCheck": {"endpoint": "{{host}}/me"}},
            "healthCheck.endpoint can never be filled when field 'host' is empty",
        ),
        (
            {"credentials": [{"key": "apiKey", "label": "K", "default": "x"}]},
            "field 'apiKey' is a secret (type password): it has no default",
        ),
        (
            {
                "credentials": [
                    {"key": "apiKey", "label": "K"},
                    {"key": "host", "label": "H", "type": "url", "default": "x", "required": True},
                ]
            },
            "field 'host' has a default, so it cannot be required",
        ),
        (
            {
                "credentials": [
                    {"key": "apiKey", "label": "K"},
                    {
                        "key": "host",
                        "label": "H",
                        "type": "url",
                        "default": "ftp://x",
                        "pattern": "https://.+",
                    },
                ]
            },
            "the default of field 'host' fails its own checks: H is malformed",
        ),
    ],
)
def test_templates_that_can_never_be_filled_are_refused_at_load(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        IntegrationProvider.model_validate(_provider(**changes))
    assert message in str(refused.value)


def test_a_default_makes_a_field_optional_and_serialises_in_camel_case() -> None:
    spec = CredentialField(key="baseUrl", label="URL", type="url", default="https://sentry.io")
    assert spec.required is False
    provider = IntegrationProvider.model_validate(
        _provider(credentials=[{"key": "apiKey", "label": "K"}, spec.model_dump(by_alias=True)])
    )
    assert provider.to_document()["credentials"][1] == {
        "key": "baseUrl",
        "label": "URL",
        "type": "url",
        "required": False,
        "default": "https://sentry.io",
    }


# -- filling templates -----------------------------------------------------------------


def test_fill_uses_values_then_defaults_and_omits_empty_optional_fields() -> None:
    creds = Credentials({"apiKey": "k", "host": ""})
    assert creds.fill("{{apiKey}}@{{host}}", defaults={"host": "h"}) == "k@h"
    with pytest.raises(MissingValue) as missing:
        creds.fill("{{host}}")
    assert missing.value.field == "host" and isinstance(missing.value, KeyError)
    assert creds.fill_or_omit("--host={{host}}", optional={"host"}) is None
    with pytest.raises(MissingValue):
        creds.fill_or_omit("{{team}}", optional={"host"})


def test_optional_fields_are_left_out_of_mcp_and_auth(navi_service: IntegrationService) -> None:
    provider = IntegrationProvider.model_validate(
        _provider(
            credentials=[
                {"key": "apiKey", "label": "K"},
                {"key": "team", "label": "Team", "type": "text", "required": False},
                {"key": "region", "label": "Region", "type": "text", "default": "eu"},
            ],
            mcp={
                "command": "acme-mcp",
                "args": ["--key={{apiKey}}", "--team={{team}}", "--region={{region}}"],
                "env": {"ACME_TEAM": "{{team}}", "ACME_REGION": "{{region}}"},
            },
            api={"baseUrl": "https://a.dev", "auth": {"header": "X-Team", "template": "{{team}}"}},
        )
    )
    from navi_integrations import fill_mcp_server
    from navi_integrations.health.checks import auth_parts

    creds = Credentials({"apiKey": "k"})
    server = fill_mcp_server(provider, creds)
    assert isinstance(server, StdioMcpServer)
    assert server.args == ["--key=k", "--region=eu"]
    assert server.env == {"ACME_REGION": "eu"}
    assert auth_parts(provider, creds) == ({}, {})
    with_team = Credentials({"apiKey": "k", "team": "core"})
    assert auth_parts(provider, with_team) == ({"X-Team": "core"}, {})
    remote = IntegrationProvider.model_validate(
        _provider(
            credentials=[
                {"key": "apiKey", "label": "K"},
                {"key": "team", "label": "Team", "type": "text", "required": False},
            ],
            mcp={
                "transport": "sse",
                "url": "https://m.dev/sse",
                "headers": {"Authorization": "Bearer {{apiKey}}", "X-Team": "{{team}}"},
            },
        )
    )
    filled = fill_mcp_server(remote, creds)
    assert isinstance(filled, SseMcpServer)
    assert filled.headers == {"Authorization": "Bearer k"}


# -- through the service and the CLI -------------------------------------------------


def test_health_check_goes_to_the_connection_s_own_instance(
    sentry: ModuleType,
    navi_service: IntegrationService,
    navi_register: object,
    local_http_server: LocalHTTPServer,
) -> None:
    _sentry_root(local_http_server)
    navi_register(sentry)  # type: ignore[operator]
    result = navi_service.connect(
        "sentry", {"authToken": TOKEN, "baseUrl": local_http_server.url}, test=True
    )
    assert result.saved and result.check is not None and result.check.ok, result
    assert result.check.account == "ada@acme.dev"
    (request,) = local_http_server.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_the_plugin_judges_the_whole_response_and_gives_its_own_advice(
    sentry: ModuleType,
    navi_service: IntegrationService,
    navi_register: object,
    local_http_server: LocalHTTPServer,
) -> None:
    local_http_server.route(
        "GET",
        "/api/0/",
        Reply(200, body="<html>It works!</html>", headers={"Content-Type": "text/html"}),
    )
    navi_register(sentry)  # type: ignore[operator]
    result = navi_service.connect(
        "sentry", {"authToken": TOKEN, "baseUrl": local_http_server.url}, test=True
    )
    assert not result.saved and result.check is not None
    assert result.check.kind == "bad_response"
    assert result.check.message == (
        f"the URL {local_http_server.url} does not answer like a Sentry server"
    )
    assert result.check.advice is not None and "check baseUrl" in result.check.advice
    assert TOKEN not in repr(result)


def test_http_check_judge_sees_status_headers_and_body_and_may_defer(
    local_http_server: LocalHTTPServer,
) -> None:
    provider = IntegrationProvider.model_validate(
        _provider(api={"baseUrl": local_http_server.url, "auth": {"template": "Bearer {{apiKey}}"}})
    )
    local_http_server.route(
        "GET", "/me", Reply(404, json={"detail": "nope"}, headers={"X-Served-By": "nginx"})
    )
    local_http_server.route("GET", "/busy", Reply(503))
    seen: list[tuple[int, str, object]] = []

    def judge(response: object) -> HealthResult | None:
        import httpx

        assert isinstance(response, httpx.Response)
        seen.append(
            (
                response.status_code,
                response.headers.get("X-Served-By", ""),
                response.json() if response.status_code == 404 else None,
            )
        )
        if response.status_code == 404:
            return HealthResult.failed("bad_response", "not Acme", advice="check host")
        return None

    creds = Credentials({"apiKey": "k"})
    mine = http_check(provider, creds, 5, url=local_http_server.url + "/me", judge=judge)
    assert (mine.kind, mine.advice) == ("bad_response", "check host")
    generic = http_check(provider, creds, 5, url=local_http_server.url + "/busy", judge=judge)
    assert generic.kind == "unavailable"
    assert seen == [(404, "nginx", {"detail": "nope"}), (503, "", None)]


@pytest.fixture
def installed_sentry(
    tmp_path: Path, navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> IntegrationService:
    """The example installed as a distribution, seen by this process and by subprocesses."""
    site = tmp_path / "site"
    write_distribution(
        site, "navi-sentry", {"sentry": "navi_sentry"}, {"navi_sentry": EXAMPLE.read_text()}
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), *sys.path]))
    monkeypatch.delenv("NAVI_SENTRY_API_URL", raising=False)
    return IntegrationService(registry=Registry().load())


def test_run_fills_defaults_and_leaves_out_empty_optional_variables(
    installed_sentry: IntegrationService,
) -> None:
    installed_sentry.connect("sentry", {"authToken": TOKEN})
    show = (
        "import json, os; "
        "print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('SENTRY_')}))"
    )
    ran = navi("run", "--with", "sentry", sys.executable, "-c", show)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"SENTRY_AUTH_TOKEN": TOKEN, "SENTRY_URL": "https://sentry.io"}
    installed_sentry.connect(
        "sentry", {"authToken": TOKEN, "baseUrl": "https://sentry.acme.dev", "org": "acme"}
    )
    ran = navi("run", "--with", "sentry", sys.executable, "-c", show)
    assert json.loads(ran.stdout) == {
        "SENTRY_AUTH_TOKEN": TOKEN,
        "SENTRY_URL": "https://sentry.acme.dev",
        "SENTRY_ORG": "acme",
    }


def test_mcp_config_keeps_the_plugin_s_host_with_and_without_env_refs(
    installed_sentry: IntegrationService,
) -> None:
    installed_sentry.connect("sentry", {"authToken": TOKEN, "baseUrl": "https://sentry.acme.dev"})
    plain = navi("mcp-config", "--format", "claude-code")
    assert plain.returncode == 0, plain.stderr
    env = json.loads(plain.stdout)["mcpServers"]["sentry"]["env"]
    assert env == {"SENTRY_ACCESS_TOKEN": TOKEN, "SENTRY_HOST": "sentry.acme.dev"}
    refs = navi("mcp-config", "--format", "claude-code", "--env-refs")
    assert refs.returncode == 0, refs.stderr
    env = json.loads(refs.stdout)["mcpServers"]["sentry"]["env"]
    assert env == {"SENTRY_ACCESS_TOKEN": "${SENTRY_AUTH_TOKEN}", "SENTRY_HOST": "sentry.acme.dev"}
    assert TOKEN not in refs.stdout + refs.stderr
    assert 'export SENTRY_AUTH_TOKEN="$(navi-int token sentry --field authToken)"' in refs.stderr


def test_secret_values_never_reach_a_credentials_repr() -> None:
    creds = Credentials({"authToken": SecretStr(TOKEN)})
    assert TOKEN not in repr(creds)


def test_a_required_value_missing_from_an_old_connection_is_explained(
    navi_service: IntegrationService, navi_register: object
) -> None:
    # the plugin declared "site" after the connection was made: the connection lacks it
    provider = IntegrationProvider.model_validate(
        _provider(
            credentials=[
                {"key": "apiKey", "label": "K"},
                {"key": "site", "label": "Site", "type": "text"},
            ],
            mcp={"command": "acme-mcp", "args": ["--site={{site}}"]},
        )
    )
    navi_register(provider)  # type: ignore[operator]
    navi_service.store_credentials("acme", {"apiKey": "k" * 20})
    config = navi_service.mcp_config()
    assert "acme" not in config.servers
    (skipped,) = [s for s in config.skipped if s.provider == "acme"]
    assert skipped.reason == "Acme has no 'site' value"
    assert skipped.advice == "Run: navi-int connect acme"


def test_oauth_refresh_goes_to_the_connection_s_own_token_url(
    local_http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from navi_integrations.auth.oauth import refresh

    monkeypatch.delenv("NAVI_GITLAB_TOKEN_URL", raising=False)
    local_http_server.route(
        "POST",
        "/oauth/token",
        Reply(200, json={"access_token": "new-access", "token_type": "bearer", "expires_in": 60}),
    )
    gitlab = IntegrationProvider(
        id="gitlab",
        name="GitLab",
        description="Self-hostable forge",
        auth_type="oauth",
        credentials=[
            CredentialField(key="clientId", label="Client id", type="text"),
            CredentialField(key="clientSecret", label="Client secret"),
            CredentialField(
                key="baseUrl", label="GitLab URL", type="url", default="https://gitlab.com"
            ),
        ],
        oauth=OAuthConfig(
            auth_url="{{baseUrl}}/oauth/authorize",
            token_url="{{baseUrl}}/oauth/token",
            scopes={"api": "Full API access"},
        ),
    )
    stored = Credentials(
        {
            "clientId": "cid",
            "clientSecret": "secret",
            "baseUrl": local_http_server.url,
            "accessToken": "old",
            "refreshToken": "refresh-1",
            "scope": "api",
        }
    )
    renewed = refresh(gitlab, stored, timeout=5)
    assert renewed.reveal("accessToken") == "new-access"
    assert renewed.reveal("baseUrl") == local_http_server.url  # kept for the next refresh
    (request,) = local_http_server.requests
    assert b"refresh_token=refresh-1" in request.body


def test_oauth_sign_in_uses_and_stores_the_self_hosted_url(
    navi_service: IntegrationService,
    navi_register: object,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    from urllib.parse import urlencode

    import httpx
    from navi_integrations.testing import Request

    for name in ("AUTH", "TOKEN"):
        monkeypatch.delenv(f"NAVI_FORGE_{name}_URL", raising=False)

    def authorize(request: Request) -> Reply:
        back = request.query["redirect_uri"][0]
        state = request.query["state"][0]
        location = back + "?" + urlencode({"code": "the-code", "state": state})
        return Reply(302, headers={"Location": location})

    local_http_server.route("GET", "/oauth/authorize", authorize)
    local_http_server.route(
        "POST",
        "/oauth/token",
        Reply(200, json={"access_token": "tok", "token_type": "bearer", "refresh_token": "r"}),
    )
    forge = IntegrationProvider(
        id="forge",
        name="Forge",
        description="Self-hostable forge",
        auth_type="oauth",
        credentials=[
            CredentialField(key="clientId", label="Client id", type="text"),
            CredentialField(key="clientSecret", label="Client secret", required=False),
            CredentialField(key="baseUrl", label="URL", type="url", default="https://forge.dev"),
        ],
        oauth=OAuthConfig(
            auth_url="{{baseUrl}}/oauth/authorize",
            token_url="{{baseUrl}}/oauth/token",
            scopes={"api": "Full API access"},
            base_scopes=["api"],
        ),
        setup_guide={"steps": [{"title": "Create an application"}]},
    )
    navi_register(forge)  # type: ignore[operator]

    def browser(url: str) -> bool:
        threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True}).start()
        return True

    result = navi_service.sign_in(
        "forge",
        client_id="cid",
        client_secret="cs",
        open_browser=browser,
        timeout=20,
        fields={"baseUrl": local_http_server.url},
    )
    assert result.values is not None
    assert [r.path for r in local_http_server.requests] == ["/oauth/authorize", "/oauth/token"]
    stored = navi_service.get_credentials("forge")
    assert stored.reveal("baseUrl") == local_http_server.url
    assert stored.reveal("accessToken") == "tok"
