"""The sign-in's loopback listener against local programs that connect and stall."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from navi_integrations.auth.oauth import _Listener

from .oauth_harness import OAuthServer
from .test_oauth import FIELDS, browse, sign_in

NAVI = [sys.executable, "-m", "navi_integrations.cli"]


def _redirect_port(url: str) -> int:
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    port = urlsplit(redirect).port
    assert port is not None
    return port


def test_stalled_connections_do_not_block_the_sign_in(
    oauth_server: OAuthServer, navi_service: Any
) -> None:
    stalled: list[socket.socket] = []
    browsed: list[float] = []

    def squatters_then_user(url: str) -> None:
        port = _redirect_port(url)
        silent = socket.create_connection(("127.0.0.1", port))  # connects, says nothing
        partial = socket.create_connection(("127.0.0.1", port))
        partial.sendall(b"GET /callback?state=")  # a request that never ends
        stalled.extend([silent, partial])
        time.sleep(0.3)  # both accepted before the browser comes
        browsed.append(time.monotonic())
        browse(url)

    results: list[Any] = []
    # In a thread: a listener stuck on a stalled connection must fail this test, not hang it.
    signing_in = threading.Thread(
        target=lambda: results.append(sign_in(navi_service, ["gmail"], squatters_then_user)),
        daemon=True,
    )
    signing_in.start()
    signing_in.join(60)
    assert results, "the sign-in did not complete"
    elapsed = time.monotonic() - browsed[0]
    assert results[0].account == "johndoe@example.com"
    # Well inside the per-connection timeout: handled beside the stalled ones, not after.
    assert elapsed < _Listener.CONNECTION_TIMEOUT / 2, elapsed
    for sock in stalled:  # and the listener cut them when the sign-in was done
        sock.settimeout(3)
        assert sock.recv(1) == b""
        sock.close()


def test_timeout_ends_connect_on_time_while_a_connection_is_open(
    oauth_server: OAuthServer, navi_service: Any
) -> None:
    process = subprocess.Popen(
        [*NAVI, "connect", "google", "--no-browser", *FIELDS, "--timeout", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = next(line.strip() for line in process.stdout if line.startswith("  http"))
    silent = socket.create_connection(("127.0.0.1", _redirect_port(url)))
    shown = time.monotonic()
    try:
        _, err = process.communicate(timeout=30)
    finally:
        silent.close()
        if process.poll() is None:  # stuck: fail, and leave nothing behind
            process.kill()
            process.communicate()
    waited = time.monotonic() - shown
    assert process.returncode == 1
    assert "no answer from the browser within 2 s; nothing was saved" in err
    assert waited < 2 + 2, waited
    assert navi_service.effective("google").connected is False
