"""A hosted MCP server behind its own OAuth authorization server, on loopback, for the tests.

Built with the official SDK (``FastMCP`` with an in-memory
``OAuthAuthorizationServerProvider``), so everything a hosted server does
is real: ``401`` with ``WWW-Authenticate``, protected resource metadata
(RFC 9728), authorization server metadata (RFC 8414, here also promising
``iss`` on the redirect, RFC 9207), dynamic client registration (RFC 7591),
PKCE S256, tokens bound to their ``resource`` (RFC 8707), refresh-token
rotation (each refresh token works once) and revocation (RFC 7009).

The "user" approves every sign-in at once: the authorization endpoint
redirects straight back with a code, so a test's "browser" is an HTTP GET
that follows redirects. Run as a script it prints one JSON line
(``{"url": ...}``) and serves until killed; ``/_admin/*`` (unprotected, test
only) reads counters and changes behaviour:

* ``GET /_admin/stats``: registrations, authorizations, refreshes (and refused ones), revocations;
* ``POST /_admin/expire``: every access token expires now;
* ``POST /_admin/revoke``: every grant is revoked (refresh answers ``invalid_grant``);
* ``POST /_admin/config`` ``{"access_ttl": s, "refresh_delay": s, "require": [scopes],
  "iss": "good"|"wrong"|"none", "deny": bool}``; ``require``: scopes a ``tools/list`` needs
  beyond the first grant's (answered ``403 insufficient_scope``: a step-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import sys
import time
from typing import Any

import uvicorn
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.fastmcp import FastMCP
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class Approving:
    """An authorization server whose user approves everything (state kept in memory)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.stats = {
            "registrations": 0,
            "authorizations": 0,
            "refreshes": 0,
            "refused_refreshes": 0,
            "revocations": 0,
        }
        self.config: dict[str, Any] = {
            "access_ttl": 3600,
            "refresh_delay": 0.0,
            "require": [],
            "iss": "good",
            "deny": False,
        }

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.stats["registrations"] += 1
        self.clients[client_info.client_id or ""] = client_info

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        self.stats["authorizations"] += 1
        iss = {"good": self.issuer, "wrong": "http://127.0.0.1:1", "none": None}[self.config["iss"]]
        if self.config["deny"]:
            return construct_redirect_uri(
                str(params.redirect_uri), error="access_denied", state=params.state, iss=iss
            )
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or ["tools"],
            expires_at=time.time() + 300,
            client_id=client.client_id or "",
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        return construct_redirect_uri(
            str(params.redirect_uri), code=code, state=params.state, iss=iss
        )

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        found = self.codes.get(authorization_code)
        return found if found is not None and found.client_id == client.client_id else None

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> Any:
        from mcp.shared.auth import OAuthToken

        access = "at_" + secrets.token_urlsafe(24)
        refresh = "rt_" + secrets.token_urlsafe(24)
        ttl = int(self.config["access_ttl"])
        self.access[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=int(time.time()) + ttl,
            resource=resource,
        )
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource
        )
        return OAuthToken(
            access_token=access,
            expires_in=ttl,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> Any:
        del self.codes[authorization_code.code]  # a code works once
        return self._issue(
            client.client_id or "", authorization_code.scopes, authorization_code.resource
        )

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        found = self.refresh.get(refresh_token)
        if found is None or found.client_id != client.client_id:
            self.stats["refused_refreshes"] += 1
            return None
        return found

    async def exchange_refresh_token(
        self,
        client: OAuthClientInformationFull,
        refresh_token: RefreshToken,
        scopes: list[str],
    ) -> Any:
        if self.config["refresh_delay"]:
            await asyncio.sleep(float(self.config["refresh_delay"]))
        if self.refresh.pop(refresh_token.token, None) is None:  # rotated meanwhile
            self.stats["refused_refreshes"] += 1
            raise TokenError("invalid_grant", "refresh token already used")
        self.stats["refreshes"] += 1
        return self._issue(
            client.client_id or "", scopes or refresh_token.scopes, refresh_token.resource
        )

    async def load_access_token(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return None
        return found

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        self.stats["revocations"] += 1
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


def build(port: int) -> tuple[Any, Approving]:
    base = f"http://127.0.0.1:{port}"
    provider = Approving(base + "/")
    mcp = FastMCP(
        "hosted-test",
        auth_server_provider=provider,
        auth=AuthSettings(
            issuer_url=base,  # type: ignore[arg-type]
            resource_server_url=base + "/mcp",  # type: ignore[arg-type]
            client_registration_options=ClientRegistrationOptions(
                enabled=True, valid_scopes=["tools", "write"], default_scopes=["tools"]
            ),
            revocation_options=RevocationOptions(enabled=True),
            required_scopes=["tools"],
            validate_token_resource=True,
        ),
        host="127.0.0.1",
        port=port,
    )

    @mcp.tool()
    def echo(text: str) -> str:
        """Say it back."""
        return text

    @mcp.tool()
    def whoami() -> str:
        """Which client the token belongs to."""
        return "hosted"

    @mcp.custom_route("/_admin/stats", methods=["GET"])
    async def stats(request: Request) -> Response:
        return JSONResponse(provider.stats)

    @mcp.custom_route("/_admin/expire", methods=["POST"])
    async def expire(request: Request) -> Response:
        for token in list(provider.access.values()):
            provider.access[token.token] = token.model_copy(update={"expires_at": 0})
        return JSONResponse({"ok": True})

    @mcp.custom_route("/_admin/revoke", methods=["POST"])
    async def revoke(request: Request) -> Response:
        provider.access.clear()
        provider.refresh.clear()
        return JSONResponse({"ok": True})

    @mcp.custom_route("/_admin/config", methods=["POST"])
    async def config(request: Request) -> Response:
        provider.config.update(await request.json())
        return JSONResponse(provider.config)

    return _Wrapped(mcp.streamable_http_app(), provider), provider


class _Wrapped:
    """The SDK's app, plus the two things it does not do: promise ``iss`` in the
    authorization server metadata, and demand more scopes (a step-up) when configured."""

    def __init__(self, app: Any, provider: Approving) -> None:
        self.app = app
        self.provider = provider

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/.well-known/oauth-authorization-server":
            await self._metadata(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"].startswith("/mcp"):
            body = b""
            more = True
            incoming = receive
            while more:
                message = await incoming()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            replayed = False

            async def replay() -> dict[str, Any]:
                nonlocal replayed
                if replayed:
                    return await incoming()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            receive = replay
            missing = self._missing_scopes(scope, body)
            if missing:
                wanted = " ".join(sorted({"tools", *self.provider.config["require"]}))
                header = f'Bearer error="insufficient_scope", scope="{wanted}"'
                response = Response(
                    status_code=403, headers={"WWW-Authenticate": header}, content=b""
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _missing_scopes(self, scope: dict[str, Any], body: bytes) -> list[str]:
        """The scopes a ``tools/list`` needs that the token lacks (a step-up: the session
        is set up with the first grant, the listing asks for more)."""
        require = self.provider.config["require"]
        if not require:
            return []
        try:
            method = json.loads(body).get("method") if body else None
        except (ValueError, AttributeError):
            method = None
        if method != "tools/list":
            return []
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode()
        token = self.provider.access.get(auth.removeprefix("Bearer ").strip())
        if token is None:
            return []  # the SDK's own middleware answers 401
        return [s for s in require if s not in token.scopes]

    async def _metadata(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        parts: list[bytes] = []
        start: dict[str, Any] = {}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        document = json.loads(b"".join(parts))
        document["authorization_response_iss_parameter_supported"] = True
        await JSONResponse(document, status_code=start.get("status", 200))(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sock = socket.socket()
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    app, _ = build(port)
    print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
