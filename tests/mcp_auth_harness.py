"""The hosted MCP server of tests/mcp_auth_server.py (an SDK server with its own
authorization server), and a test "browser" for `navi-int connect --no-browser --json`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

SERVER = Path(__file__).with_name("mcp_auth_server.py")
NAVI = [sys.executable, "-m", "navi_integrations.cli"]


class Hosted:
    """The running server: its URLs and its test-only controls."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.mcp = f"{base}/mcp"

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.base}/_admin/stats").json())

    def admin(self, action: str, **config: Any) -> None:
        httpx.post(f"{self.base}/_admin/{action}", json=config).raise_for_status()


@pytest.fixture
def hosted() -> Iterator[Hosted]:
    process = subprocess.Popen(
        [sys.executable, str(SERVER)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        base = json.loads(process.stdout.readline())["url"]
        for _ in range(100):
            try:
                httpx.get(f"{base}/_admin/stats").raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield Hosted(base)
    finally:
        process.kill()
        process.wait()


def browse(url: str) -> None:
    """Be the user's browser: open the sign-in page, which redirects back to navi."""
    threading.Thread(target=httpx.get, args=(url,), kwargs={"follow_redirects": True}).start()


def connect_json(*args: str, browser: bool = True) -> tuple[int, list[dict[str, Any]], str]:
    """`navi-int connect ARGS --no-browser --json`, playing the browser for each URL event."""
    process = subprocess.Popen(
        [*NAVI, "connect", *args, "--no-browser", "--json", "--timeout", "30"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    events = []
    for line in process.stdout:
        event = json.loads(line)  # every line is one JSON event
        events.append(event)
        if event["event"] == "url" and browser:
            browse(event["url"])
    err = process.communicate(timeout=60)[1]
    return process.returncode, events, err
