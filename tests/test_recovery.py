"""call_with_recovery against a real local server: retries, waits, reauth, budgets, limits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from navi_integrations import (
    ChangeEvent,
    IntegrationError,
    IntegrationProvider,
    IntegrationService,
    RecoveryPolicy,
    acall_with_recovery,
    call_with_recovery,
    hookimpl,
)
from navi_integrations.models import Credentials
from navi_integrations.testing import LocalHTTPServer, Reply, Request

KEY = "lin_api_" + "Rec0very" * 5
FAST = RecoveryPolicy(base_delay=0.01, max_delay=0.05, budget_seconds=5)


@pytest.fixture
def linear(
    navi_service: IntegrationService,
    local_http_server: LocalHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    navi_service.connect("linear", {"apiKey": KEY})
    monkeypatch.setenv("NAVI_LINEAR_API_URL", local_http_server.url + "/graphql")
    return navi_service, local_http_server


def query(credentials: Credentials) -> Any:
    response = httpx.post(
        os.environ["NAVI_LINEAR_API_URL"],
        headers={"Authorization": credentials.reveal("apiKey")},
        json={"query": "{ issues { nodes { id } } }"},
        timeout=1.0,
    )
    response.raise_for_status()
    return response.json()


def script(*replies: Reply) -> Any:
    """Answer the n-th request with the n-th reply (the last one repeats)."""
    return lambda request: replies[min(request.n, len(replies)) - 1]


OK = Reply(200, json={"data": {"issues": {"nodes": []}}})


def test_transient_failures_are_retried_and_counted(linear: Any) -> None:
    service, server = linear
    server.route("POST", "/graphql", script(Reply(503), Reply(close=True), OK))
    assert call_with_recovery("linear", query, service=service, policy=FAST) == OK.json
    assert len(server.requests) == 3
    record = service.health.get("linear")
    assert (record.status, record.error_total, record.error_count) == ("healthy", 2, 0)


def test_a_call_that_must_not_run_twice_is_retried_only_when_it_surely_did_not_run(
    linear: Any,
) -> None:
    service, server = linear
    once = replace(FAST, retry_uncertain=False)
    server.route("POST", "/graphql", script(Reply(503), OK))  # 503: the request was not taken
    assert call_with_recovery("linear", query, service=service, policy=once) == OK.json
    assert len(server.requests) == 2
    server.requests.clear()
    server.route("POST", "/graphql", Reply(500))  # it may have been carried out: not again
    with pytest.raises(IntegrationError):
        call_with_recovery("linear", query, service=service, policy=once)
    assert len(server.requests) == 1


def test_refused_key_is_not_retried_and_says_how_to_fix(linear: Any) -> None:
    service, server = linear
    server.route("POST", "/graphql", Reply(401, json={"errors": [{"message": "bad key"}]}))
    events: list[ChangeEvent] = []
    service.subscribe(events.append)
    with pytest.raises(IntegrationError) as caught:
        call_with_recovery("linear", query, service=service, policy=FAST)
    error = caught.value
    assert (error.action, error.command) == ("reauth", "navi-int connect linear")
    assert str(error) == "Linear rejected the credentials (401). Run: navi-int connect linear"
    assert len(server.requests) == 1
    assert service.health.get("linear").status == "failed"
    assert [(e.kind, e.before, e.after) for e in events] == [("health", "unknown", "failed")]
    assert KEY not in str(error) and KEY not in str(error.to_document())


def test_retry_after_is_honoured(linear: Any) -> None:
    service, server = linear
    server.route("POST", "/graphql", script(Reply(429, headers={"Retry-After": "1"}), OK))
    start = time.monotonic()
    assert call_with_recovery("linear", query, service=service, policy=FAST) == OK.json
    first, second = server.requests
    assert second.at - first.at >= 0.99
    assert time.monotonic() - start < 3


def test_long_retry_after_answers_wait_at_once_for_every_caller(
    linear: Any, navi_registry: Any
) -> None:
    service, server = linear
    server.route("POST", "/graphql", Reply(429, headers={"Retry-After": "3600"}))
    start = time.monotonic()
    with pytest.raises(IntegrationError) as caught:
        call_with_recovery("linear", query, service=service, policy=FAST)
    assert caught.value.action == "wait" and 3590 <= (caught.value.retry_after or 0) <= 3600
    other = IntegrationService(registry=navi_registry)  # as another process would
    with pytest.raises(IntegrationError) as again:
        call_with_recovery("linear", query, service=other, policy=FAST)
    assert again.value.action == "wait"
    assert len(server.requests) == 1  # the second caller never reached the API
    assert time.monotonic() - start < 2
    assert service.health.get("linear").rate_limited


def test_rate_limit_is_shared_across_processes(linear: Any, tmp_path: Path) -> None:
    _, server = linear
    server.route("POST", "/graphql", script(Reply(429, headers={"Retry-After": "2"}), OK))
    code = (
        "import os, httpx\n"
        "from navi_integrations import call_with_recovery, RecoveryPolicy\n"
        "def q(c):\n"
        "    r = httpx.post(os.environ['NAVI_LINEAR_API_URL'],\n"
        "                   headers={'Authorization': c.reveal('apiKey')})\n"
        "    r.raise_for_status(); return r.json()\n"
        "print(call_with_recovery('linear', q, policy=RecoveryPolicy(base_delay=0.01)))\n"
    )
    first = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    while not server.requests:
        time.sleep(0.01)
    time.sleep(0.3)  # the 429 is recorded; a second process starts
    second = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert first.wait(30) == 0 and second.wait(30) == 0
    limited_at = server.requests[0].at
    later = server.requests[1:]
    assert len(later) == 2
    assert all(r.at >= limited_at + 1.95 for r in later), [r.at - limited_at for r in later]


def test_budget_bounds_a_provider_that_stays_down(linear: Any) -> None:
    service, server = linear
    server.route("POST", "/graphql", Reply(503))
    policy = RecoveryPolicy(base_delay=0.05, max_delay=0.2, budget_seconds=1.0, max_attempts=50)
    start = time.monotonic()
    with pytest.raises(IntegrationError) as caught:
        call_with_recovery("linear", query, service=service, policy=policy)
    assert caught.value.action == "retry_later"
    assert time.monotonic() - start < 1.5
    assert len(server.requests) >= 3
    assert service.health.get("linear").status == "failed"


def test_bugs_in_the_callers_code_propagate_untouched(linear: Any) -> None:
    service, _ = linear
    calls = []

    def buggy(credentials: Credentials) -> None:
        calls.append(1)
        raise ZeroDivisionError("caller bug")

    with pytest.raises(ZeroDivisionError):
        call_with_recovery("linear", buggy, service=service, policy=FAST)
    assert calls == [1]


def test_not_connected_is_a_reauth_error(navi_service: IntegrationService) -> None:
    with pytest.raises(IntegrationError) as caught:
        call_with_recovery("notion", query, service=navi_service)
    assert (caught.value.action, caught.value.command) == ("reauth", "navi-int connect notion")


class OAuthy:
    """A test OAuth provider whose refresh hook mints a new access token."""

    def __init__(self, server: LocalHTTPServer) -> None:
        self.provider = IntegrationProvider.model_validate(
            {
                "id": "oauthy",
                "name": "OAuthy",
                "description": "test",
                "authType": "oauth",
                "credentials": [{"key": "clientId", "label": "Client", "type": "text"}],
                "oauth": {
                    "authUrl": server.url + "/auth",
                    "tokenUrl": server.url + "/token",
                    "scopes": {"read": "Read"},
                },
            }
        )
        self.refreshes = 0

    @hookimpl
    def describe(self) -> IntegrationProvider:
        return self.provider

    @hookimpl
    def refresh(
        self, provider: IntegrationProvider, credentials: Credentials
    ) -> Credentials | None:
        if provider.id != "oauthy":
            return None
        self.refreshes += 1
        return Credentials(
            {**{k: credentials.reveal(k) for k in credentials}, "accessToken": "fresh"}
        )


def test_expired_oauth_token_is_refreshed_once_then_retried(
    navi_service: IntegrationService, navi_register: Any, local_http_server: LocalHTTPServer
) -> None:
    plugin = OAuthy(local_http_server)
    navi_register(plugin, "oauthy")
    navi_service.store_credentials("oauthy", {"clientId": "c", "accessToken": "stale"})
    local_http_server.route(
        "GET",
        "/me",
        lambda r: OK if r.headers.get("authorization") == "Bearer fresh" else Reply(401),
    )

    def me(credentials: Credentials) -> Any:
        response = httpx.get(
            local_http_server.url + "/me",
            headers={"Authorization": f"Bearer {credentials.reveal('accessToken')}"},
        )
        response.raise_for_status()
        return response.json()

    assert call_with_recovery("oauthy", me, service=navi_service, policy=FAST) == OK.json
    assert plugin.refreshes == 1
    assert navi_service.get_token("oauthy").value.get_secret_value() == "fresh"
    local_http_server.route("GET", "/me", Reply(401))  # refused even after a refresh
    with pytest.raises(IntegrationError) as caught:
        call_with_recovery("oauthy", me, service=navi_service, policy=FAST)
    assert caught.value.action == "reauth" and plugin.refreshes == 2


def test_async_calls_recover_too(linear: Any) -> None:
    service, server = linear
    server.route("POST", "/graphql", script(Reply(500), OK))

    async def aquery(credentials: Credentials) -> Any:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                os.environ["NAVI_LINEAR_API_URL"],
                headers={"Authorization": credentials.reveal("apiKey")},
            )
            response.raise_for_status()
            return response.json()

    result = asyncio.run(acall_with_recovery("linear", aquery, service=service, policy=FAST))
    assert result == OK.json and len(server.requests) == 2


def test_concurrent_calls_per_provider_are_limited(linear: Any) -> None:
    service, server = linear
    lock = threading.Lock()
    in_flight = [0, 0]  # current, highest

    def slow(request: Request) -> Reply:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        time.sleep(0.15)
        with lock:
            in_flight[0] -= 1
        return OK

    server.route("POST", "/graphql", slow)
    policy = RecoveryPolicy(max_concurrency=2)
    threads = [
        threading.Thread(
            target=call_with_recovery,
            args=("linear", query),
            kwargs={"service": service, "policy": policy},
        )
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.requests) == 6 and in_flight[1] == 2
