"""A real HTTP server on 127.0.0.1 for tests: scripted routes, a log of requests.

::

    with LocalHTTPServer() as server:
        server.route("POST", "/graphql", Reply(200, json={"data": {...}}))
        server.route("GET", "/slow", Reply(200, delay=2.0))
        server.route("GET", "/flaky", lambda request: Reply(503) if request.n == 1 else Reply(200))
        provider_url = server.url + "/graphql"

``LocalHTTPServer(ssl_context=...)`` serves HTTPS (see
:func:`navi_integrations.testing.tls.self_signed`).

A route answers with a :class:`Reply` or a callable taking the
:class:`Request` and returning one. ``Reply(close=True)`` drops the
connection without answering (a connection reset for the client).
Unrouted paths get 404. Every request is recorded in ``server.requests``.
"""

from __future__ import annotations

import json as jsonlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["LocalHTTPServer", "Reply", "Request"]


@dataclass(frozen=True)
class Request:
    """One request the server received. ``n`` counts requests to the same route, from 1."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    n: int
    at: float = 0.0  # time.time() when it arrived

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    """What a route answers: status, JSON or raw body, headers, an optional delay or a reset."""

    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    close: bool = False


Responder = Reply | Callable[[Request], Reply]


class LocalHTTPServer:
    """Threaded HTTP server on 127.0.0.1 with a random free port; use as a context manager."""

    def __init__(self, *, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        self._routes: dict[tuple[str, str], Responder] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._scheme = "http"
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"{self._scheme}://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, responder: Responder) -> None:
        """Answer ``method path`` (path without query string) with ``responder``."""
        with self._lock:
            self._routes[(method.upper(), path)] = responder

    def start(self) -> LocalHTTPServer:
        """Start serving in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        key = (method, parts.path)
        with self._lock:
            responder = self._routes.get(key)
            self._counts[key] = self._counts.get(key, 0) + 1
            request = Request(
                method,
                parts.path,
                parse_qs(parts.query),
                headers,
                body,
                self._counts[key],
                time.time(),
            )
            self.requests.append(request)
        if responder is None:
            return Reply(404, json={"error": f"no route for {method} {parts.path}"})
        return responder(request) if callable(responder) else responder

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one segment: no Nagle/delayed-ACK stall on keep-alive.
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = owner._dispatch(self.command, self.path, headers, body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.close:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if reply.json is not None:
                    payload = jsonlib.dumps(reply.json).encode()
                    content_type = "application/json"
                else:
                    raw = reply.body or b""
                    payload = raw.encode() if isinstance(raw, str) else raw
                    content_type = "text/plain; charset=utf-8"
                self.send_response(reply.status)
                sent = {k.lower() for k in reply.headers}
                if "content-type" not in sent:
                    self.send_header("Content-Type", content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler
