"""The pytest plugin plugin authors get: fixtures and conformance check, run as they would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from navi_integrations.testing import LocalHTTPServer, Reply


def test_fixtures_in_a_third_party_test_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        from navi_integrations import IntegrationProvider

        PROVIDER = IntegrationProvider(
            id="acme", name="Acme", description="d", auth_type="api_key",
            credentials=[{"key": "apiKey", "label": "Key", "pattern": "a+"}],
        )

        def test_register_for_one_test(navi_home, navi_registry, navi_register):
            assert os.environ["NAVI_INTEGRATIONS_HOME"] == str(navi_home)
            navi_register(PROVIDER)
            assert navi_registry.get("acme") is PROVIDER

        def test_not_registered_any_more(navi_registry):
            assert "acme" not in {p.id for p in navi_registry.providers()}

        def test_conformance_reports_broken_contracts(navi_registry, navi_register):
            from navi_integrations.testing import check_provider
            navi_register(PROVIDER)
            check_provider(
                navi_registry, "acme", valid={"apiKey": "aaa"}, invalid=[{"apiKey": "b"}]
            )
        """
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*provider 'acme' breaks the contract:*",
            "*field 'apiKey' has a pattern but no patternHint for users*",
        ]
    )


def test_local_http_server_scripts_replies_and_records_requests() -> None:
    with LocalHTTPServer() as server:
        server.route("POST", "/graphql", Reply(200, json={"data": {"viewer": {"id": "1"}}}))
        server.route(
            "GET",
            "/flaky",
            lambda request: (
                Reply(503, headers={"Retry-After": "1"})
                if request.n == 1
                else Reply(200, body="ok")
            ),
        )
        server.route("GET", "/reset", Reply(close=True))
        assert server.url.startswith("http://127.0.0.1:")

        request = urllib.request.Request(
            server.url + "/graphql?x=1",
            data=json.dumps({"query": "{ viewer { id } }"}).encode(),
            headers={"Authorization": "k", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response) == {"data": {"viewer": {"id": "1"}}}
        with pytest.raises(urllib.error.HTTPError) as first:
            urllib.request.urlopen(server.url + "/flaky", timeout=5)
        assert first.value.code == 503 and first.value.headers["Retry-After"] == "1"
        with urllib.request.urlopen(server.url + "/flaky", timeout=5) as second:
            assert second.read() == b"ok"
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(server.url + "/reset", timeout=5)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.url + "/nowhere", timeout=5)
        assert missing.value.code == 404

    graphql = server.requests[0]
    assert (graphql.method, graphql.path, graphql.query) == ("POST", "/graphql", {"x": ["1"]})
    assert graphql.headers["authorization"] == "k"
    assert graphql.json() == {"query": "{ viewer { id } }"}
    assert [r.n for r in server.requests if r.path == "/flaky"] == [1, 2]
