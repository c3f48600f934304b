"""OAuth 2.0 against a real authorization server on 127.0.0.1: sign-in, refresh, revocation."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from navi_integrations import (
    GrantRevoked,
    IntegrationProvider,
    IntegrationService,
    OAuthFailed,
    Scope,
    SignInResult,
    hookimpl,
)

from .oauth_harness import OAuthServer

CLIENT_ID = "123456789012-navitest.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-" + "T3stS3cr3tF0rOAuthFl0w12"
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def browse(url: str) -> None:
    """Be the user's browser: follow the sign-in redirects back to the listener."""
    threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True}).start()


def connect(*args: str, browser: bool = True, timeout: float = 60) -> tuple[int, str, str, str]:
    """Run `navi-int connect google --no-browser ...` as the user would; play the browser.

    Returns the exit code, stdout, stderr and the sign-in URL it printed.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "navi_integrations.cli", "connect", "google", "--no-browser", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = ""
    out = []
    for line in process.stdout:
        out.append(line)
        if line.startswith("  http"):
            url = line.strip()
            if browser:
                browse(url)
            break
    rest, err = process.communicate(timeout=timeout)
    return process.returncode, "".join(out) + rest, err, url


FIELDS = ("--field", f"clientId={CLIENT_ID}", "--field", f"clientSecret={CLIENT_SECRET}")


def stored(service: IntegrationService, provider: str = "google") -> dict[str, str]:
    creds, _ = service.credentials_in_scope(
        provider, Scope.user(), touch=False, require_enabled=False, fresh=False
    )
    return {k: creds.reveal(k) for k in creds}


def sign_in(
    service: IntegrationService, services: list[str], open_browser: Any = browse
) -> SignInResult:
    return service.sign_in(
        "google",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        services=services,
        open_browser=open_browser,
        timeout=30,
    )


def test_full_sign_in_with_pkce_and_state(oauth_server: OAuthServer, navi_service: Any) -> None:
    rc, out, err, url = connect(*FIELDS, "--service", "gmail")
    assert rc == 0, err
    assert "Connected Google as johndoe@example.com (user scope). Services: gmail." in out
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["access_type"] == ["offline"] and query["redirect_uri"][0].startswith(
        "http://127.0.0.1:"
    )
    assert set(query["scope"][0].split()) == {
        "openid",
        "email",
        GMAIL,
        GMAIL.replace("readonly", "send"),
    }
    values = stored(navi_service)
    assert values["clientId"] == CLIENT_ID and values["account"] == "johndoe@example.com"
    assert values["accessToken"] and values["refreshToken"]
    assert int(values["expiresAt"]) > time.time() * 1000 + 3000 * 1000
    assert GMAIL in values["scope"].split()
    assert oauth_server.control()["authorization_code"] == 1
    assert CLIENT_SECRET not in out + err


def test_adding_a_service_asks_only_for_the_new_scopes(
    oauth_server: OAuthServer, navi_service: Any
) -> None:
    assert connect(*FIELDS, "--service", "gmail")[0] == 0
    rc, out, err, url = connect("--service", "drive")  # the saved OAuth client is reused
    assert rc == 0, err
    assert "Using the OAuth client already saved" in out
    asked = set(parse_qs(urlsplit(url).query)["scope"][0].split())
    assert asked == {DRIVE, DRIVE.replace("drive.readonly", "drive.file")}
    assert {GMAIL, DRIVE} <= set(stored(navi_service)["scope"].split())
    assert "Services: gmail, drive." in out


def test_denied_consent_and_timeout_store_nothing(
    oauth_server: OAuthServer, navi_service: Any
) -> None:
    oauth_server.control(deny=1)
    rc, _, err, _ = connect(*FIELDS)
    assert rc == 1 and "access to Google was declined in the browser; nothing was saved" in err
    rc, _, err, _ = connect(*FIELDS, "--timeout", "1", browser=False)
    assert rc == 1 and "no answer from the browser within 1 s; nothing was saved" in err
    assert navi_service.effective("google").connected is False


def test_wrong_or_missing_state_is_refused(oauth_server: OAuthServer, navi_service: Any) -> None:
    answers: list[int] = []

    def attacker_then_user(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        answers.append(
            httpx.get(redirect, params={"code": "stolen", "state": "forged"}).status_code
        )
        answers.append(httpx.get(redirect, params={"code": "stolen"}).status_code)
        browse(url)

    result = sign_in(navi_service, ["sheets"], open_browser=attacker_then_user)
    assert answers == [400, 400]
    assert result.account == "johndoe@example.com" and result.services == ["sheets"]


def test_token_endpoint_errors(oauth_server: OAuthServer, navi_service: Any) -> None:
    oauth_server.control(faults=[503])  # a 5xx is retried
    assert sign_in(navi_service, ["gmail"]).account == "johndoe@example.com"
    assert oauth_server.control() == {"http_503": 1, "authorization_code": 1}
    navi_service.disconnect("google")
    oauth_server.control(faults=["invalid_grant"])  # a refusal is not
    with pytest.raises(
        OAuthFailed, match=r"token endpoint refused the code \(invalid_grant\); nothing"
    ):
        sign_in(navi_service, ["gmail"])
    assert not navi_service.effective("google").connected


def _expire(service: IntegrationService, seconds_left: float = -10) -> dict[str, str]:
    values = stored(service)
    values["expiresAt"] = str(int((time.time() + seconds_left) * 1000))
    service.store_credentials("google", values)
    return values


def test_refresh_ahead_of_expiry_keeps_the_rotated_token(
    oauth_server: OAuthServer, navi_service: Any
) -> None:
    sign_in(navi_service, ["gmail"])
    old = _expire(navi_service, seconds_left=120)  # inside the 300 s margin
    time.sleep(1.1)  # the server's JWTs carry a one-second "iat": make the new one differ
    token = navi_service.get_token("google")
    new = stored(navi_service)
    assert token.value.get_secret_value() == new["accessToken"] != old["accessToken"]
    assert new["refreshToken"] != old["refreshToken"]  # rotated, and kept
    assert token.expires_at == int(new["expiresAt"]) > time.time() * 1000 + 3000 * 1000
    assert oauth_server.control()["refresh_token"] == 1
    navi_service.get_token("google")
    assert oauth_server.control()["refresh_token"] == 1  # fresh now: no more refreshes


def test_slow_and_failing_token_endpoint_during_refresh(
    oauth_server: OAuthServer, navi_service: Any
) -> None:
    sign_in(navi_service, ["gmail"])
    _expire(navi_service)
    oauth_server.control(delayMs=1200, faults=[500])
    assert navi_service.get_token("google").value.get_secret_value()
    counts = oauth_server.control(delayMs=0)
    assert (counts["http_500"], counts["refresh_token"]) == (1, 1)


def test_revoked_grant_asks_to_reconnect(oauth_server: OAuthServer, navi_service: Any) -> None:
    sign_in(navi_service, ["gmail"])
    _expire(navi_service)
    oauth_server.control(faults=["invalid_grant"])
    with pytest.raises(GrantRevoked, match="Run: navi-int connect google"):
        navi_service.get_token("google")
    assert navi_service.health.get("google").status == "failed"
    oauth_server.control(faults=["invalid_grant"])
    out = subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "token", "google"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == (
        "Error: Google refused to renew access (invalid_grant): the sign-in was revoked or "
        "expired. Run: navi-int connect google"
    )


def test_single_flight_refresh_across_threads_and_processes(
    oauth_server: OAuthServer, navi_service: Any, navi_home: Path
) -> None:
    sign_in(navi_service, ["gmail"])
    code = (
        "import sys, time\n"
        "from navi_integrations import IntegrationService\n"
        "s = IntegrationService(); s.catalog; s.registry\n"
        "start = float(sys.argv[1])\n"
        "time.sleep(max(0, start - time.time()))\n"
        "print(s.get_token('google').value.get_secret_value())\n"
    )
    # Two rounds: the second once processes of the first have closed their connections
    # (a lost SQLite lock showed only then).
    for _ in range(2):
        time.sleep(1.1)  # a new "iat": the refreshed token differs from the last one
        _expire(navi_service)
        before = oauth_server.control(delayMs=300).get("refresh_token", 0)
        start = time.time() + 2.0
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", code, repr(start)], stdout=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        service = IntegrationService(registry=navi_service.registry)
        _ = service.catalog  # loaded before the race starts
        tokens: list[str] = []

        def ask(
            service: IntegrationService = service, tokens: list[str] = tokens, start: float = start
        ) -> None:
            time.sleep(max(0, start - time.time()))
            tokens.append(service.get_token("google").value.get_secret_value())

        threads = [threading.Thread(target=ask) for _ in range(100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tokens += [p.communicate(timeout=60)[0].strip() for p in processes]
        assert all(p.returncode == 0 for p in processes)
        assert oauth_server.control(delayMs=0)["refresh_token"] - before == 1
        assert len(tokens) == 104 and set(tokens) == {stored(navi_service)["accessToken"]}


class ExampleOAuth:
    """A second OAuth provider from a plugin, pointed at the same server: no core change."""

    def __init__(self, url: str) -> None:
        self.provider = IntegrationProvider.model_validate(
            {
                "id": "example-oauth",
                "name": "Example",
                "description": "an OAuth test provider",
                "authType": "oauth",
                "credentials": [
                    {"key": "clientId", "label": "Client ID", "type": "text"},
                    {"key": "clientSecret", "label": "Client secret"},
                ],
                "oauth": {
                    "authUrl": f"{url}/authorize",
                    "tokenUrl": f"{url}/token",
                    "scopes": {"read": "Read", "write": "Write"},
                    "services": ["files"],
                    "serviceScopes": {"files": ["read", "write"]},
                },
                "api": {"baseUrl": url, "urls": {"userinfo": f"{url}/userinfo"}},
                "setupGuide": {"steps": [{"title": "Register an app"}]},
            }
        )

    @hookimpl
    def describe(self) -> IntegrationProvider:
        return self.provider


def test_a_second_oauth_provider_needs_no_core_change(
    oauth_server: OAuthServer, navi_service: Any, navi_register: Any
) -> None:
    navi_register(ExampleOAuth(oauth_server.url), "example-oauth")
    result = navi_service.sign_in(
        "example-oauth",
        client_id="example-client",
        client_secret="example-secret",
        services=["files"],
        open_browser=browse,
        timeout=30,
    )
    assert (result.account, result.services) == ("johndoe@example.com", ["files"])
    expired = stored(navi_service, "example-oauth") | {"expiresAt": "1"}
    navi_service.store_credentials("example-oauth", expired)
    assert navi_service.get_token("example-oauth").type == "oauth"
    assert oauth_server.control()["refresh_token"] == 1
