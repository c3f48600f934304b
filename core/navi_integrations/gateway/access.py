"""Who may call the gateway over HTTP: this machine's processes that hold the API token.

The gateway calls every provider with the user's stored credentials, so its
streamable HTTP transport is closed to anything else. :class:`AccessCheck`
answers every request before the MCP transport sees it:

- ``Host`` must be a loopback name with the port the request came in on, else
  403 (a web page that rebinds its DNS name to 127.0.0.1 sends its own name);
- an ``Origin`` header, when there is one, must be a loopback origin, else 403
  (the MCP spec's streamable HTTP transport: servers MUST validate it; a
  browser page elsewhere is never a client of the gateway);
- ``Authorization: Bearer <token>`` must carry the HTTP API's token (the one
  ``navi-int api-token`` prints, kept 0600 in ``<data dir>/api-token``),
  compared in constant time, else 401 with ``WWW-Authenticate: Bearer``.

A refused request does nothing else: no session, no upstream started, no
tool call audited. The rules and the token are the HTTP API's
(:mod:`navi_integrations.loopback`), so one token opens both.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import urlsplit

from ..loopback import LOOPBACK_NAMES, api_token, host_allowed, same_secret

__all__ = ["AccessCheck", "origin_allowed"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: What a 401 tells the client to do (never the token, nor where a stranger could find it).
_HOW = "send Authorization: Bearer $(navi-int api-token)"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _port_of(host: str, scheme: str) -> int | None:
    """The port a ``Host`` header names (the scheme's default when it names none)."""
    text = host.strip()
    if text.startswith("["):  # [::1]:3002
        _, bracket, tail = text.partition("]")
        if not bracket:
            return None
    else:
        tail = text
    if tail.count(":") == 1:
        digits = tail.split(":", 1)[1]
        return int(digits) if digits.isascii() and digits.isdigit() else None
    return _DEFAULT_PORTS.get(scheme, 80) if ":" not in tail else None


def origin_allowed(origin: str | None) -> bool:
    """Whether an ``Origin`` header is absent (not a browser) or a page on this machine.

    Any port: local tools such as the MCP Inspector serve their page from their own.
    """
    if origin is None:
        return True
    try:
        parts = urlsplit(origin.strip())
        hostname = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and hostname in LOOPBACK_NAMES


class AccessCheck:
    """ASGI middleware: the Host, Origin and bearer-token checks of the module docstring.

    ``token`` is the secret every request must present (default: the HTTP API's,
    read from the data dir, created there on first use). The port a ``Host``
    must name is the one the server received the request on (the ASGI
    ``server`` address), so a gateway on port 0 needs no configuration.
    """

    def __init__(self, app: App, token: str | None = None) -> None:
        if token is None:
            token = api_token()
        if not token:
            raise ValueError("the gateway needs a non-empty token")
        self.app = app
        self._token = token

    def __repr__(self) -> str:  # never the token
        return f"AccessCheck({self.app!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":  # the gateway serves none: refuse the handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        if kind != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        host = origin = authorization = None
        for name, value in scope.get("headers") or ():
            if name == b"host" and host is None:
                host = value.decode("latin-1")
            elif name == b"origin" and origin is None:
                origin = value.decode("latin-1")
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
        if not self._host_ok(host, scope):
            await _refuse(
                send,
                403,
                "Forbidden: this gateway only answers to 127.0.0.1 or localhost "
                "at its own port (use the URL `navi-int gateway` printed)",
            )
            return
        if not origin_allowed(origin):
            await _refuse(
                send,
                403,
                "Forbidden: requests from web pages are refused (Origin is not this machine)",
            )
            return
        if authorization is None:
            await _refuse(send, 401, f"Unauthorized: the gateway needs a bearer token: {_HOW}")
            return
        kind_, _, given = authorization.partition(" ")
        if kind_.lower() != "bearer" or not same_secret(given.strip(), self._token):
            await _refuse(
                send,
                401,
                f"Unauthorized: the bearer token is not this gateway's: {_HOW}",
                invalid=True,
            )
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _host_ok(host: str | None, scope: Scope) -> bool:
        if host is None or not host_allowed(host, LOOPBACK_NAMES):
            return False
        server = scope.get("server")
        if not server or server[1] is None:  # a Unix socket: no port to compare
            return True
        return _port_of(host, str(scope.get("scheme", "http"))) == int(server[1])


async def _refuse(send: Send, status: int, message: str, *, invalid: bool = False) -> None:
    """A JSON-RPC error document, as the MCP transport answers its own HTTP errors."""
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": message}}
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:  # RFC 6750: the scheme, and why a presented token failed
        challenge = 'Bearer realm="navi-integrations"'
        headers.append(
            (
                b"www-authenticate",
                (challenge + (', error="invalid_token"' if invalid else "")).encode(),
            )
        )
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def streamable_http_app(
    server: Any, running: Callable[[], AbstractAsyncContextManager[Any]], token: str | None
) -> Any:
    """The gateway's MCP ``server`` over streamable HTTP at ``/mcp``, behind :class:`AccessCheck`
    (``running()``: the gateway's lifetime, entered for the app's)."""
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    # Host and Origin are checked by AccessCheck, in front (with the port, and names
    # compared as names: LOCALHOST is localhost); the SDK's own copy would be a second
    # rule that disagrees at the edges. It still checks each POST's Content-Type.
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    manager = StreamableHTTPSessionManager(app=server, security_settings=security, stateless=False)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        async with running(), manager.run():
            yield

    # /mcp answered where it is, not redirected to /mcp/: one HTTP request per message.
    routes = [Route("/mcp", _Endpoint(manager)), Mount("/mcp", app=manager.handle_request)]
    return AccessCheck(Starlette(routes=routes, lifespan=lifespan), token)


class _Endpoint:
    """The MCP transport as a plain ASGI app, so that a ``Route`` hands it the raw request."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.manager.handle_request(scope, receive, send)
