"""Slack plugin: contract conformance and credential validation."""

from __future__ import annotations

from navi_integrations import Registry
from navi_integrations.testing import check_provider

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
