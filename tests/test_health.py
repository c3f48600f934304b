"""Every provider's health check against a local server speaking its API, with every fault."""

from __future__ import annotations

import email.utils
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from navi_integrations import HealthResult, IntegrationService
from navi_integrations.testing import LocalHTTPServer, Reply

from .provider_apis import ACME_TOML, Api, apis, serve

PROVIDERS = ["linear", "notion", "slack", "google", "acme"]


@pytest.fixture
def env(
    navi_home: Path, local_http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Any:
    (navi_home / "providers").mkdir()
    (navi_home / "providers" / "acme.toml").write_text(ACME_TOML)
    return IntegrationService(), local_http_server, apis(local_http_server.url), monkeypatch


def _check(service: IntegrationService, api: Api, timeout: float = 5.0) -> HealthResult:
    return service.check_values(api.provider, api.credentials, timeout=timeout)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_good_and_refused_credentials(env: Any, provider: str) -> None:
    service, server, all_apis, monkeypatch = env
    api = all_apis[provider]
    serve(server, api, monkeypatch)
    result = _check(service, api)
    assert result.ok, result
    if api.account:
        assert result.account == api.account and result.message == f"Connected as {api.account}"
    wrong = {k: (v[:-3] + "xyz" if k != "teamId" else v) for k, v in api.credentials.items()}
    refused = service.check_values(provider, wrong, timeout=5)
    assert (refused.ok, refused.kind) == (False, "auth"), refused
    for value in wrong.values():
        assert value not in refused.message


FAULTS = {
    "forbidden": (Reply(403, json={"message": "forbidden"}), "forbidden"),
    "rate limited (seconds)": (Reply(429, headers={"Retry-After": "7"}), "rate_limited"),
    "server error": (Reply(500, body="oops"), "unavailable"),
    "unavailable": (Reply(503, headers={"Retry-After": "2"}), "unavailable"),
    "malformed JSON": (Reply(200, body="<html>not json</html>"), "bad_response"),
    "reset": (Reply(close=True), "unreachable"),
    "slow": (Reply(200, json={}, delay=0.8), "timeout"),
}


# A declared endpoint (the TOML provider) is judged by its status only, not its body.
CASES = [(p, f) for p in PROVIDERS for f in FAULTS if (p, f) != ("acme", "malformed JSON")]


@pytest.mark.parametrize(("provider", "fault"), CASES)
def test_faults_are_classified(env: Any, provider: str, fault: str) -> None:
    service, server, all_apis, monkeypatch = env
    api = all_apis[provider]
    serve(server, api, monkeypatch)
    reply, kind = FAULTS[fault]
    server.route(api.method, api.path, reply)
    result = _check(service, api, timeout=0.3)
    assert (result.ok, result.kind) == (False, kind), result
    if fault.startswith("rate limited"):
        assert result.retry_after == 7


def test_retry_after_as_an_http_date(env: Any) -> None:
    service, server, all_apis, monkeypatch = env
    api = all_apis["notion"]
    serve(server, api, monkeypatch)
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.route(api.method, api.path, Reply(429, headers={"Retry-After": when}))
    result = _check(service, api)
    assert result.kind == "rate_limited" and 25 <= (result.retry_after or 0) <= 31


def test_connection_refused(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    service, _, all_apis, _ = env
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("NAVI_LINEAR_API_URL", f"http://127.0.0.1:{port}/graphql")
    result = _check(service, all_apis["linear"])
    assert (result.kind, result.message) == (
        "unreachable",
        "cannot reach Linear (connection failed)",
    )


def test_google_without_a_token_is_not_signed_in(env: Any) -> None:
    service, _, all_apis, _ = env
    creds = {k: v for k, v in all_apis["google"].credentials.items() if k != "accessToken"}
    result = service.check_values("google", creds)
    assert result.kind == "auth" and "not signed in" in result.message


def test_slack_token_of_another_team(env: Any) -> None:
    service, server, all_apis, monkeypatch = env
    api = all_apis["slack"]
    serve(server, api, monkeypatch)
    result = service.check_values("slack", {**api.credentials, "teamId": "T9999999"})
    assert result.kind == "auth" and "belongs to team T0123ABCD, not T9999999" in result.message
