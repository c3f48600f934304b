"""The GitHub health check with the real gh binary against a local GitHub Enterprise stand-in.

gh talks HTTPS to ``https://<host>/api/v3/`` for an Enterprise host, so the
stand-in listens on 127.0.0.1:443 with a self-signed certificate that gh
trusts through SSL_CERT_FILE. Binding port 443 needs root (CI runs as root).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from navi_integrations import Advice, Credentials, HealthResult, Registry
from navi_integrations.testing import LocalHTTPServer, Reply, Request, self_signed

HOST = "127.0.0.1"


def _require(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHTTPServer]:
    _require(shutil.which("gh") is not None, "gh is not installed (apt install gh)")
    _require(os.geteuid() == 0, "the GitHub stand-in must listen on port 443 (root)")
    cert, context = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv("GH_CONFIG_DIR", str(tmp_path / "gh-config"))
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in (
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
        "GH_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    with LocalHTTPServer(port=443, ssl_context=context) as server:

        def user(request: Request) -> Reply:
            if request.headers.get("authorization") == "token gho_good":
                return Reply(200, json={"login": "octocat", "id": 1})
            return Reply(401, json={"message": "Bad credentials"})

        server.route("GET", "/api/v3/user", user)
        yield server


def _check(registry: Registry) -> HealthResult:
    result = registry.health_check("github", Credentials({"host": HOST}), 10)
    assert result is not None  # the plugin always answers for its provider
    return result


def test_healthy_login(
    github: LocalHTTPServer, navi_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_ENTERPRISE_TOKEN", "gho_good")
    result = _check(navi_registry)
    assert (result.ok, result.message) == (True, "Connected as octocat")


def test_not_logged_in(github: LocalHTTPServer, navi_registry: Registry) -> None:
    result = _check(navi_registry)
    assert result.kind == "not_logged_in"
    assert result.message == "gh is not logged in to 127.0.0.1"
    assert result.advice == Advice("login", "gh auth login --hostname 127.0.0.1")
    assert github.requests == []


def test_token_rejected(
    github: LocalHTTPServer, navi_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_ENTERPRISE_TOKEN", "gho_revoked")
    result = _check(navi_registry)
    assert (result.kind, result.http_status) == ("auth", 401)
    assert "gho_revoked" not in result.message


def test_cannot_reach_github(
    github: LocalHTTPServer, navi_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_ENTERPRISE_TOKEN", "gho_good")
    github.stop()  # gh auth status would now call the token invalid
    result = _check(navi_registry)
    assert (result.kind, result.message) == ("unreachable", "cannot reach GitHub (127.0.0.1)")


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(503, json={"message": "Service Unavailable"}), "unavailable"),
        (Reply(403, json={"message": "API rate limit exceeded for user ID 1."}), "rate_limited"),
        (Reply(403, json={"message": "Resource not accessible by integration"}), "forbidden"),
    ],
)
def test_other_failures(
    github: LocalHTTPServer,
    navi_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    reply: Reply,
    kind: str,
) -> None:
    monkeypatch.setenv("GH_ENTERPRISE_TOKEN", "gho_good")
    github.route("GET", "/api/v3/user", reply)
    assert _check(navi_registry).kind == kind
