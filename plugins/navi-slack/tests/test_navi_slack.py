"""Slack plugin: contract conformance and credential validation."""

from __future__ import annotations

import pytest
from navi_integrations import Credentials, HealthResult, Registry
from navi_integrations.testing import LocalHTTPServer, Reply, Request, check_provider

BOT = "xoxb-1234567890-9876543210-AbCdEfGhIjKlMnOpQrStUvWx"


def test_conformance(navi_registry: Registry) -> None:
    check_provider(
        navi_registry,
        "slack",
        valid={"botToken": BOT, "teamId": "T01234567"},
        invalid=[
            {"botToken": "xoxp-1234-5678-abcdef", "teamId": "T01234567"},
            {"botToken": BOT, "teamId": "C01234567"},
            {"botToken": BOT},
        ],
    )
    assert navi_registry.icon("slack") is not None  # icon.svg ships and passes the checks


def test_other_token_kinds_are_named(navi_registry: Registry) -> None:
    def problems(token: str, team: str = "T01234567") -> list[str]:
        return [
            p.message for p in navi_registry.validate("slack", {"botToken": token, "teamId": team})
        ]

    assert problems("xoxp-1-2-abc") == [
        "that is a user token; use the Bot User OAuth Token, which starts with 'xoxb-'"
    ]
    assert "app-level token" in problems("xapp-1-A1-2-abc")[0]
    assert problems(BOT, "t01234567") == ["team IDs are uppercase, e.g. T01234567"]


def test_required_scopes_are_in_the_setup_guide(navi_registry: Registry) -> None:
    details = " ".join(s.detail for s in navi_registry.get("slack").setup_guide.steps)
    for scope in ("channels:history", "chat:write", "users:read"):
        assert scope in details


def test_health_check_calls_auth_test(
    navi_registry: Registry,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    def auth_test(request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {BOT}":
            return Reply(200, json={"ok": False, "error": "invalid_auth"})  # Slack errors are 200s
        return Reply(200, json={"ok": True, "team": "Acme", "user": "navi", "team_id": "T01234567"})

    local_http_server.route("POST", "/api/auth.test", auth_test)
    monkeypatch.setenv("NAVI_SLACK_AUTH_TEST_URL", local_http_server.url + "/api/auth.test")
    slack = navi_registry.get("slack")

    def check(token: str) -> HealthResult:
        creds = Credentials({"botToken": token, "teamId": "T01234567"})
        result = navi_registry.health_check(slack.id, creds, 5)
        assert result is not None  # the plugin always answers for its provider
        return result

    assert check(BOT).message == "Connected as navi in Acme"
    refused = check(BOT + "x")
    assert (refused.kind, refused.message) == (
        "auth",
        "Slack rejected the bot token (invalid_auth)",
    )
