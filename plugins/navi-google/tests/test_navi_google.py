"""Google plugin: contract conformance, OAuth description and credential validation."""

from __future__ import annotations

import pytest
from navi_integrations import Credentials, HealthResult, Registry
from navi_integrations.testing import LocalHTTPServer, Reply, Request, check_provider

CLIENT_ID = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"
SECRET = "GOCSPX-" + "Zz9_" * 7


def test_conformance(navi_registry: Registry) -> None:
    check_provider(
        navi_registry,
        "google",
        valid={"clientId": CLIENT_ID, "clientSecret": SECRET},
        invalid=[
            {"clientId": "my-client", "clientSecret": SECRET},
            {"clientId": SECRET, "clientSecret": CLIENT_ID},
            {"clientId": CLIENT_ID},
        ],
    )
    assert navi_registry.icon("google") is not None  # icon.svg ships and passes the checks


def test_every_service_has_described_scopes_and_no_mcp(navi_registry: Registry) -> None:
    google = navi_registry.get("google")
    assert google.oauth is not None
    assert google.oauth.services == ["gmail", "sheets", "drive", "calendar"]
    for scopes in google.oauth.service_scopes.values():
        assert all(google.oauth.scopes[s] for s in scopes)
    assert google.mcp is None and google.defaults.mcp_enabled is False


def test_swapped_and_json_values_are_explained(navi_registry: Registry) -> None:
    swapped = navi_registry.validate("google", {"clientId": SECRET, "clientSecret": CLIENT_ID})
    assert [p.message for p in swapped] == [
        "client ID and secret look swapped",
        "that is the client ID; the secret starts with 'GOCSPX-'",
    ]
    pasted = navi_registry.validate(
        "google", {"clientId": '{"installed": {"client_id": "x"}}', "clientSecret": SECRET}
    )
    assert "not the downloaded JSON file" in pasted[0].message


def test_oauth_endpoints_are_overridable(
    navi_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    google = navi_registry.get("google")
    monkeypatch.setenv("NAVI_GOOGLE_TOKEN_URL", "http://127.0.0.1:9000/token")
    monkeypatch.setenv("NAVI_GOOGLE_USERINFO_URL", "http://127.0.0.1:9000/userinfo")
    assert google.url("token") == "http://127.0.0.1:9000/token"
    assert google.url("userinfo") == "http://127.0.0.1:9000/userinfo"
    assert google.url("auth") == "https://accounts.google.com/o/oauth2/v2/auth"


def test_health_check_asks_userinfo(
    navi_registry: Registry,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    def userinfo(request: Request) -> Reply:
        if request.headers.get("authorization") != "Bearer ya29.good":
            return Reply(401, json={"error": "invalid_token"})
        return Reply(200, json={"sub": "1", "email": "ada@gmail.com"})

    local_http_server.route("GET", "/userinfo", userinfo)
    monkeypatch.setenv("NAVI_GOOGLE_USERINFO_URL", local_http_server.url + "/userinfo")
    google = navi_registry.get("google")

    def check(token: str) -> HealthResult:
        creds = Credentials({"clientId": CLIENT_ID, "clientSecret": SECRET, "accessToken": token})
        result = navi_registry.health_check(google.id, creds, 5)
        assert result is not None  # the plugin always answers for its provider
        return result

    assert check("ya29.good").message == "Connected as ada@gmail.com"
    assert check("ya29.expired").kind == "auth"
