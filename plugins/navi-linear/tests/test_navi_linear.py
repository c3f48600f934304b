"""Linear plugin: contract conformance and credential validation."""

from __future__ import annotations

import pytest
from navi_integrations import Credentials, HealthResult, Registry
from navi_integrations.testing import LocalHTTPServer, Reply, Request, check_provider

KEY = "lin_api_" + "Ab3" * 13 + "x"


def test_conformance(navi_registry: Registry) -> None:
    check_provider(
        navi_registry,
        "linear",
        valid={"apiKey": KEY},
        invalid=[{"apiKey": "lin_api_short"}, {"apiKey": "Bearer " + KEY}, {}],
    )
    assert navi_registry.icon("linear") is not None  # icon.svg ships and passes the checks


def test_validate_explains_common_mistakes(navi_registry: Registry) -> None:
    def problem(value: str) -> str:
        [found] = navi_registry.validate("linear", {"apiKey": value})
        return found.message

    assert problem("Bearer " + KEY) == "paste the key alone, without the 'Bearer ' prefix"
    assert "OAuth access token" in problem("lin_oauth_" + "a" * 40)
    assert "expected a personal API key: 'lin_api_'" in problem("sk-" + "a" * 40)
    assert problem("") == "Personal API key is required"


def test_api_url_is_overridable(navi_registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    linear = navi_registry.get("linear")
    assert linear.url("api") == "https://api.linear.app/graphql"
    monkeypatch.setenv("NAVI_LINEAR_API_URL", "http://127.0.0.1:8080/graphql")
    assert linear.url("api") == "http://127.0.0.1:8080/graphql"


def test_health_check_asks_graphql_for_the_viewer(
    navi_registry: Registry,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    def graphql(request: Request) -> Reply:
        assert "viewer" in request.json()["query"]
        if request.headers.get("authorization") != KEY:  # personal keys: no "Bearer"
            return Reply(
                400,
                json={
                    "errors": [
                        {
                            "message": "Authentication required",
                            "extensions": {"code": "AUTHENTICATION_ERROR"},
                        }
                    ]
                },
            )
        return Reply(
            200, json={"data": {"viewer": {"id": "1", "name": "Ada", "email": "ada@x.io"}}}
        )

    local_http_server.route("POST", "/graphql", graphql)
    monkeypatch.setenv("NAVI_LINEAR_API_URL", local_http_server.url + "/graphql")
    linear = navi_registry.get("linear")

    def check(key: str) -> HealthResult:
        creds = Credentials({"apiKey": key})
        result = navi_registry.health_check(linear.id, creds, 5)
        assert result is not None  # the plugin always answers for its provider
        return result

    assert check(KEY).message == "Connected as ada@x.io"
    assert check(KEY[:-1] + "Q").kind == "auth"


def test_the_hosted_mcp_server_is_offered_with_oauth(navi_registry: Registry) -> None:
    hosted = navi_registry.get("linear-mcp")
    assert hosted.mcp_authorization and hosted.mcp is not None
    assert hosted.mcp.transport == "http" and hosted.mcp.url == "https://mcp.linear.app/mcp"
    # The plugin's own hooks leave it to the framework: nothing to validate, a client id alone.
    assert navi_registry.validate("linear-mcp", {}) == []
    assert navi_registry.validate("linear-mcp", {"clientId": "navi-team"}) == []
    assert navi_registry.icon("linear-mcp") is not None
