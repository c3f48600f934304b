"""OAuth from the settings page over real HTTP: the server is its own redirect target.

Google's endpoints point at the real OAuth test server (tests/oauth_server); an
httpx client without the session plays the browser's popup, following the
redirects from the consent page back to ``GET /oauth/callback``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from navi_integrations.auth.oauth import PendingSignIn, PendingSignIns

from .cli_helpers import navi
from .oauth_harness import OAuthServer
from .server_harness import Running, running_server
from .test_oauth import CLIENT_ID, CLIENT_SECRET, DRIVE, GMAIL

pytest.importorskip("fastapi")

CLIENT = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}


@pytest.fixture
def server(navi_home: Path, oauth_server: OAuthServer) -> Iterator[Running]:
    with running_server() as running:
        yield running


def popup(url: str) -> httpx.Response:
    """Be the browser's popup: the consent page redirects back to the server's callback.
    No cookies: SameSite=Strict keeps the session off a cross-site redirect."""
    return httpx.get(url, follow_redirects=True, timeout=30)


def begin(client: httpx.Client, **body: object) -> dict[str, object]:
    response = client.post("/api/credentials/google/oauth", json=body)
    assert response.status_code == 200, response.text
    document: dict[str, object] = response.json()
    return document


def test_sign_in_from_the_page_stores_and_the_cli_agrees(
    server: Running, oauth_server: OAuthServer
) -> None:
    page = server.login()
    with contextlib.closing(page):
        csrf = page.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]
        page.headers["X-CSRF-Token"] = csrf
        started = begin(page, **CLIENT, services=["gmail"])
        url = str(started["authorizationUrl"])
        query = parse_qs(urlsplit(url).query)
        assert query["redirect_uri"] == [f"{server.url}/oauth/callback"]
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
        assert len(query["state"][0]) >= 32 and query["access_type"] == ["offline"]
        assert set(query["scope"][0].split()) == {"openid", "email", GMAIL, GMAIL[:-8] + "send"}
        assert CLIENT_SECRET not in json.dumps(started)

        done = popup(url)
        assert done.status_code == 200, done.text
        assert done.url.path == "/oauth/callback"
        assert 'data-ok="yes"' in done.text and 'data-provider="google"' in done.text
        assert "Connected Google as johndoe@example.com." in done.text
        assert "static/oauth-done.js" in done.text
        assert "script-src 'self'" in done.headers["content-security-policy"]
        assert done.headers["referrer-policy"] == "no-referrer"  # the code is in the URL
        for secret in (CLIENT_SECRET, query["state"][0]):
            assert secret not in done.text

        entry = page.get("/api/integrations/google/status").json()
    assert entry["hasCredentials"] is True and entry["account"] == "johndoe@example.com"
    assert entry["services"] == ["gmail"]
    assert entry["status"]["global"]["health"] == "healthy"
    assert oauth_server.control()["authorization_code"] == 1
    listed = json.loads(navi("list", "--json").stdout)
    assert next(e for e in listed["integrations"] if e["provider"] == "google") == entry

    # The redirect is spent: replaying it changes nothing and says why.
    again = popup(str(done.url))
    assert again.status_code == 400 and 'data-ok="no"' in again.text
    assert "unknown or expired" in again.text
    assert oauth_server.control()["authorization_code"] == 1

    # Adding a service reuses the saved client and asks only for the new scopes.
    with server.client() as client:
        more = begin(client, services=["drive"])
        asked = parse_qs(urlsplit(str(more["authorizationUrl"])).query)["scope"][0].split()
        assert set(asked) == {DRIVE, DRIVE.replace("drive.readonly", "drive.file")}
        assert popup(str(more["authorizationUrl"])).status_code == 200
        assert client.get("/api/credentials/google").json()["services"] == ["gmail", "drive"]
        # Everything granted already: nothing to ask, nothing changes.
        same = begin(client, services=["gmail"])
        assert same["authorizationUrl"] is None and same["account"] == "johndoe@example.com"


def test_declined_consent_and_forged_callbacks_store_nothing(
    server: Running, oauth_server: OAuthServer
) -> None:
    with server.client() as client:
        oauth_server.control(deny=1)
        declined = popup(str(begin(client, **CLIENT)["authorizationUrl"]))
        assert declined.status_code == 400 and 'data-ok="no"' in declined.text
        assert "declined in the browser; nothing was saved" in declined.text
        assert client.get("/api/credentials/google").json()["hasCredentials"] is False

        started = begin(client, **CLIENT, projectId="acme")
        state = parse_qs(urlsplit(str(started["authorizationUrl"])).query)["state"][0]
        forged = httpx.get(f"{server.url}/oauth/callback", params={"state": "x" * 43, "code": "c"})
        assert forged.status_code == 400 and "unknown or expired" in forged.text
        # A code the provider never issued: the exchange fails, and the state is spent.
        wrong = httpx.get(f"{server.url}/oauth/callback", params={"state": state, "code": "nope"})
        assert wrong.status_code == 400 and "nothing was saved" in wrong.text
        acme = client.get("/api/credentials/google?projectId=acme").json()
        assert acme["hasCredentials"] is False

        # Input the sign-in cannot use is refused before anything starts.
        linear = client.post("/api/credentials/linear/oauth", json=CLIENT)
        assert linear.status_code == 422 and "does not sign in with OAuth" in linear.text
        unknown = client.post("/api/credentials/google/oauth", json={**CLIENT, "services": ["x"]})
        assert unknown.status_code == 422 and "gmail" in unknown.json()["advice"]["hint"]
        no_client = client.post("/api/credentials/google/oauth", json={})
        assert no_client.status_code == 422 and no_client.json()["problems"]
        # The page's session needs its CSRF token to start one.
    page = server.login()
    with contextlib.closing(page):
        assert page.post("/api/credentials/google/oauth", json=CLIENT).status_code == 403
    # No API access, no sign-in.
    assert httpx.post(f"{server.url}/api/credentials/google/oauth", json=CLIENT).status_code == 401


def test_pending_sign_ins_are_spent_once_and_expire() -> None:
    def pending(state: str) -> PendingSignIn:
        return PendingSignIn("google", "u", state, "r", "c", [], ["s"])

    waiting = PendingSignIns(ttl=60, limit=2)
    for state in ("a", "b", "c"):
        waiting.add(pending(state))
    assert waiting.take("a") is None  # the oldest went when the limit was reached
    assert waiting.take("b") is not None and waiting.take("b") is None
    expired = PendingSignIns(ttl=0.01)
    expired.add(pending("d"))
    time.sleep(0.05)
    assert expired.take("d") is None
    assert "secret" not in repr(PendingSignIn("g", "u", "s", "r", "c", [], [], client_secret="x"))


FORGE = """
from navi_integrations import CredentialField, IntegrationProvider, OAuthConfig, hookimpl

@hookimpl
def describe():
    return IntegrationProvider(
        id="forge", name="Forge", description="A self-hosted forge", auth_type="oauth",
        credentials=[
            CredentialField(key="clientId", label="Client id", type="text"),
            CredentialField(key="clientSecret", label="Client secret"),
            CredentialField(key="baseUrl", label="Forge URL", type="url",
                            default="https://forge.example"),
        ],
        oauth=OAuthConfig(auth_url="{{baseUrl}}/authorize", token_url="{{baseUrl}}/token",
                          scopes={"api": "API access"}),
    )
"""


def test_the_page_signs_in_to_a_self_hosted_instance_given_its_fields(
    navi_home: Path, oauth_server: OAuthServer, install_plugin: Any
) -> None:
    install_plugin("navi-forge", FORGE)
    with running_server() as server, contextlib.closing(server.login()) as page:
        csrf = page.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]
        page.headers["X-CSRF-Token"] = csrf
        secret = "forge-" + "S3cr3t" * 4
        body = {"clientId": "forge-client", "clientSecret": secret}
        refused = page.post(
            "/api/credentials/forge/oauth", json={**body, "fields": {"clientSecret": "x"}}
        )
        assert refused.status_code == 422 and "baseUrl" in refused.json()["advice"]["hint"]
        unknown = page.post("/api/credentials/forge/oauth", json={**body, "fields": {"site": "x"}})
        assert unknown.status_code == 422
        started = page.post(
            "/api/credentials/forge/oauth", json={**body, "fields": {"baseUrl": oauth_server.url}}
        ).json()
        assert str(started["authorizationUrl"]).startswith(f"{oauth_server.url}/authorize?")
        assert popup(str(started["authorizationUrl"])).status_code == 200
        entry = page.get("/api/integrations/forge/status").json()
    assert entry["hasCredentials"] is True
    from navi_integrations import IntegrationService

    stored = IntegrationService().get_credentials("forge")
    assert stored.reveal("baseUrl") == oauth_server.url
