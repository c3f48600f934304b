"""Notion plugin: contract conformance and credential validation."""

from __future__ import annotations

import pytest
from navi_integrations import Credentials, HealthResult, Registry
from navi_integrations.testing import LocalHTTPServer, Reply, Request, check_provider

TOKEN = "ntn_" + "a1B2c3D4e5" * 4 + "xyz"


def test_conformance(navi_registry: Registry) -> None:
    check_provider(
        navi_registry,
        "notion",
        valid={"token": TOKEN},
        invalid=[{"token": "ntn_short"}, {"token": "0f8fad5b-d9cb-469f-a165-70867728950e"}],
    )
    assert navi_registry.icon("notion") is not None  # icon.svg ships and passes the checks


def test_legacy_secret_prefix_is_accepted(navi_registry: Registry) -> None:
    assert navi_registry.validate("notion", {"token": "secret_" + "Q" * 43}) == []


def test_pasted_integration_id_is_explained(navi_registry: Registry) -> None:
    [problem] = navi_registry.validate("notion", {"token": "0f8fad5bd9cb469fa16570867728950e"})
    assert "looks like the integration's ID" in problem.message


def test_share_pages_step_is_in_the_guide(navi_registry: Registry) -> None:
    steps = [s.title for s in navi_registry.get("notion").setup_guide.steps]
    assert "Share pages with the integration" in steps


def test_health_check_reads_users_me(
    navi_registry: Registry,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    def me(request: Request) -> Reply:
        if request.headers.get("notion-version") != "2022-06-28":
            return Reply(400, json={"object": "error", "code": "missing_version"})
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, json={"object": "error", "status": 401, "code": "unauthorized"})
        return Reply(
            200,
            json={
                "object": "user",
                "id": "b",
                "name": "Navi",
                "type": "bot",
                "bot": {"workspace_name": "Acme"},
            },
        )

    local_http_server.route("GET", "/v1/users/me", me)
    monkeypatch.setenv("NAVI_NOTION_USERS_ME_URL", local_http_server.url + "/v1/users/me")
    notion = navi_registry.get("notion")

    def check(token: str) -> HealthResult:
        creds = Credentials({"token": token})
        result = navi_registry.health_check(notion.id, creds, 5)
        assert result is not None  # the plugin always answers for its provider
        return result

    assert check(TOKEN).message == "Connected as Navi in Acme"
    assert check(TOKEN + "x").kind == "auth"


def test_the_hosted_mcp_server_is_offered_with_oauth(navi_registry: Registry) -> None:
    hosted = navi_registry.get("notion-mcp")
    assert hosted.mcp_authorization and hosted.mcp is not None
    assert hosted.mcp.transport == "http" and hosted.mcp.url == "https://mcp.notion.com/mcp"
    # The plugin's own hooks leave it to the framework: nothing to validate, a client id alone.
    assert navi_registry.validate("notion-mcp", {}) == []
    assert navi_registry.validate("notion-mcp", {"clientId": "navi-team"}) == []
    assert navi_registry.icon("notion-mcp") is not None
