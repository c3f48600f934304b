"""Local stand-ins for the providers' APIs: their real paths, auth schemes and response shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from navi_integrations.testing import LocalHTTPServer, Reply, Request

LINEAR_KEY = "lin_api_" + "Hea1th" * 7
NOTION_TOKEN = "ntn_" + "Hea1thN0t10n" * 4
SLACK_TOKEN = "xoxb-42-4242-Hea1thSlackT0ken"
GOOGLE_TOKEN = "ya29.Hea1thG00gleAccessT0ken"
ACME_KEY = "acme_1234abcd"

ACME_TOML = """\
id = "acme"
name = "Acme CRM"
base_url = "https://api.acme.example/v1"

[[fields]]
key = "apiKey"
label = "API key"
pattern = "acme_[a-z0-9]{8}"
pattern_hint = "acme_ and 8 letters or digits"

[auth]
header = "X-Api-Key"

[health]
path = "/me"
"""


@dataclass(frozen=True)
class Api:
    """One provider's health endpoint as served locally."""

    provider: str
    method: str
    path: str
    credentials: dict[str, str]
    account: str
    env: dict[str, str]

    def authorized(self, request: Request) -> bool:
        headers = request.headers
        return {
            "linear": headers.get("authorization") == LINEAR_KEY,
            "notion": headers.get("authorization") == f"Bearer {NOTION_TOKEN}"
            and headers.get("notion-version") == "2022-06-28",
            "slack": headers.get("authorization") == f"Bearer {SLACK_TOKEN}",
            "google": headers.get("authorization") == f"Bearer {GOOGLE_TOKEN}",
            "acme": headers.get("x-api-key") == ACME_KEY,
        }[self.provider]

    def good(self) -> Reply:
        return Reply(200, json=GOOD[self.provider])

    def refused(self) -> Reply:
        return REFUSED[self.provider]


GOOD: dict[str, Any] = {
    "linear": {"data": {"viewer": {"id": "u1", "name": "Ada", "email": "ada@example.com"}}},
    "notion": {
        "object": "user",
        "id": "b1",
        "name": "Navi",
        "type": "bot",
        "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Acme"},
    },
    "slack": {
        "ok": True,
        "url": "https://acme.slack.com/",
        "team": "Acme",
        "user": "navi",
        "team_id": "T0123ABCD",
        "user_id": "U1",
        "bot_id": "B1",
    },
    "google": {"sub": "1", "email": "ada@gmail.com", "email_verified": True},
    "acme": {"id": 7},
}

REFUSED: dict[str, Reply] = {
    "linear": Reply(
        400,
        json={
            "errors": [
                {
                    "message": "Authentication required, not authenticated",
                    "extensions": {"type": "authentication error", "code": "AUTHENTICATION_ERROR"},
                }
            ]
        },
    ),
    "notion": Reply(
        401,
        json={
            "object": "error",
            "status": 401,
            "code": "unauthorized",
            "message": "API token is invalid.",
        },
    ),
    "slack": Reply(200, json={"ok": False, "error": "invalid_auth"}),
    "google": Reply(401, json={"error": "invalid_token"}),
    "acme": Reply(401, json={"error": "bad key"}),
}


def apis(base: str) -> dict[str, Api]:
    return {
        "linear": Api(
            "linear",
            "POST",
            "/graphql",
            {"apiKey": LINEAR_KEY},
            "ada@example.com",
            {"NAVI_LINEAR_API_URL": base + "/graphql"},
        ),
        "notion": Api(
            "notion",
            "GET",
            "/v1/users/me",
            {"token": NOTION_TOKEN},
            "Navi in Acme",
            {"NAVI_NOTION_USERS_ME_URL": base + "/v1/users/me"},
        ),
        "slack": Api(
            "slack",
            "POST",
            "/api/auth.test",
            {"botToken": SLACK_TOKEN, "teamId": "T0123ABCD"},
            "navi in Acme",
            {"NAVI_SLACK_AUTH_TEST_URL": base + "/api/auth.test"},
        ),
        "google": Api(
            "google",
            "GET",
            "/userinfo",
            {
                "clientId": "1-a.apps.googleusercontent.com",
                "clientSecret": "GOCSPX-" + "s" * 28,
                "accessToken": GOOGLE_TOKEN,
            },
            "ada@gmail.com",
            {"NAVI_GOOGLE_USERINFO_URL": base + "/userinfo"},
        ),
        "acme": Api(
            "acme",
            "GET",
            "/acme/me",
            {"apiKey": ACME_KEY},
            "",
            {"NAVI_ACME_API_URL": base + "/acme"},
        ),
    }


def serve(server: LocalHTTPServer, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Route the provider's health endpoint: real answers for good and bad credentials."""
    for name, value in api.env.items():
        monkeypatch.setenv(name, value)
    server.route(
        api.method,
        api.path,
        lambda request: api.good() if api.authorized(request) else api.refused(),
    )
