"""Starts the real OAuth 2.0 server of tests/oauth_server (oauth2-mock-server on Node)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).with_name("oauth_server")


@dataclass
class OAuthServer:
    """The running server: its URL, and the test plumbing of server.mjs."""

    url: str
    process: subprocess.Popen[str]

    def control(self, **change: Any) -> dict[str, Any]:
        """Queue faults (``faults=["invalid_grant", 500]``), set ``delayMs`` or ``deny``.

        Returns how many token requests of each grant type (and 5xx) arrived.
        """
        response = httpx.post(f"{self.url}/__control", json=change, timeout=10)
        response.raise_for_status()
        counts: dict[str, Any] = response.json()["counts"]
        return counts

    def env(self, provider: str = "GOOGLE") -> dict[str, str]:
        """URL overrides pointing a provider's OAuth endpoints at this server."""
        return {
            f"NAVI_{provider}_AUTH_URL": f"{self.url}/authorize",
            f"NAVI_{provider}_TOKEN_URL": f"{self.url}/token",
            f"NAVI_{provider}_USERINFO_URL": f"{self.url}/userinfo",
        }


@pytest.fixture(scope="session")
def oauth_server_process() -> Iterator[OAuthServer]:
    node = shutil.which("node")
    ready = (HERE / "node_modules" / "oauth2-mock-server").is_dir()
    if node is None or not ready:
        reason = "the OAuth test server needs Node.js and `npm ci` in tests/oauth_server"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    process = subprocess.Popen(
        [node, str(HERE / "server.mjs")], stdout=subprocess.PIPE, text=True, cwd=HERE
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        yield OAuthServer(json.loads(line)["url"], process)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def oauth_server(oauth_server_process: OAuthServer, monkeypatch: pytest.MonkeyPatch) -> OAuthServer:
    """The server, reset, with Google's endpoints pointed at it for this test."""
    oauth_server_process.control(reset=True)
    for name, value in oauth_server_process.env().items():
        monkeypatch.setenv(name, value)
    return oauth_server_process
