"""Accounts through the HTTP API: ?account= on the token route, POST …/use, DELETE with an
account; the status document lists them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from navi_integrations.server import create_app

WORK = "lin_api_" + "W0rk" * 10
HOME = "lin_api_" + "H0me" * 10


def test_accounts_through_the_api(navi_service: Any, navi_home: Path) -> None:
    navi_service.connect("linear", {"apiKey": WORK}, account="work")
    navi_service.connect("linear", {"apiKey": HOME}, account="home")
    from navi_integrations.server import api_token

    with TestClient(create_app(navi_service), base_url="http://127.0.0.1") as client:
        headers = {"Authorization": f"Bearer {api_token()}"}
        got = client.get("/api/credentials/linear/token", headers=headers)
        assert got.status_code == 200 and got.json()["value"] == WORK
        got = client.get("/api/credentials/linear/token?account=home", headers=headers)
        assert got.json()["value"] == HOME
        missing = client.get("/api/credentials/linear/token?account=nope", headers=headers)
        assert missing.status_code in (404, 409, 422) and "no account 'nope'" in missing.text
        bad = client.get("/api/credentials/linear/token?account=no%20pe", headers=headers)
        assert bad.status_code == 422

        bound = client.post(
            "/api/credentials/linear/use",
            json={"account": "home", "projectId": "acme"},
            headers=headers,
        )
        assert bound.status_code == 200, bound.text
        assert bound.json()["accountInUse"] == "home"
        got = client.get("/api/credentials/linear/token?projectId=acme", headers=headers)
        assert got.json()["value"] == HOME
        status = client.get("/api/integrations/status?projectId=acme", headers=headers).json()
        linear = next(i for i in status["integrations"] if i["provider"] == "linear")
        assert [a["name"] for a in linear["accounts"]] == ["work", "home"]
        assert WORK not in str(status) and HOME not in str(status)

        gone = client.delete("/api/credentials/linear?account=work", headers=headers)
        assert gone.json() == {
            "provider": "linear",
            "projectId": None,
            "account": "work",
            "deleted": True,
        }
        got = client.get("/api/credentials/linear/token", headers=headers)
        assert got.json()["value"] == HOME  # the next one is the default
