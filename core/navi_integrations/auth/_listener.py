"""The one-shot loopback listener the CLI's sign-in waits on for the authorization redirect."""

from __future__ import annotations

import contextlib
import html
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Listener"]


class Listener:
    """A one-shot HTTP listener on 127.0.0.1 for the authorization redirect.

    Any local program can connect to the port. Each connection gets its own
    thread and a read timeout, so one that sends nothing, or a request byte by
    byte, never holds up the browser's redirect; on exit the connections still
    open are cut, so leaving (on success or on ``--timeout``) never waits for them.
    """

    #: Seconds a connection may stay silent before it is dropped.
    CONNECTION_TIMEOUT = 10.0

    def __init__(self, expected_state: str = "", *, port: int = 0, required: bool = False) -> None:
        self.expected_state = expected_state  # set before __enter__ when not known yet
        self.result: dict[str, str] | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            timeout = owner.CONNECTION_TIMEOUT  # applied to the socket by StreamRequestHandler

            def setup(self) -> None:
                with owner._lock:
                    owner._open.add(self.request)
                super().setup()

            def finish(self) -> None:
                with owner._lock:
                    owner._open.discard(self.request)
                super().finish()

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/callback":
                    self._page(404, "Not found.")
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if not owner.expected_state or query.get("state") != owner.expected_state:
                    # Not the sign-in we started: refuse it, keep waiting for ours.
                    self._page(400, "This sign-in link is not the one navi-int is waiting for.")
                    return
                with owner._lock:
                    if owner.result is None:  # the first answer counts
                        owner.result = query
                # Answer the browser before waking the flow: leaving cuts open connections.
                try:
                    if "error" in query:
                        self._page(200, "Access was not granted. You can close this tab.")
                    else:
                        self._page(
                            200, "Signed in. You can close this tab and return to the terminal."
                        )
                finally:
                    owner.done.set()

            def _page(self, status: int, text: str) -> None:
                body = f"<!doctype html><title>navi-int</title><p>{html.escape(text)}</p>".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False  # closing never waits for a stalled connection

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a dropped or timed-out connection is not the user's problem

        try:  # the port asked for (a client registered with its redirect URI), else any
            self.server = Server(("127.0.0.1", port), Handler)
        except OSError as exc:
            if not port:
                raise
            if required:  # a client registered with this redirect URI only: say so
                from ..errors import OAuthFailed

                raise OAuthFailed(
                    f"port {port} on 127.0.0.1 is in use ({exc.strerror}): the sign-in needs it "
                    f"for the redirect URI http://127.0.0.1:{port}/callback. Free it, or set "
                    "NAVI_INTEGRATIONS_OAUTH_REDIRECT_PORT to your client's registered port"
                ) from None
            self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        """The URL the provider sends the browser back to."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    def arm(self, state: str) -> None:
        """Wait (again) for the redirect of the sign-in with this ``state``: a flow that
        asks twice (a scope step-up) gets each answer in turn."""
        with self._lock:
            self.expected_state = state
            self.result = None
            self.done.clear()

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def close(self) -> None:
        """Release the port of a listener that was never entered."""
        self.server.server_close()

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            still_open = list(self._open)
        for connection in still_open:  # wake their threads: they end at once
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
