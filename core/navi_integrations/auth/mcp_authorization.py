"""MCP authorization: connect a hosted MCP server as the MCP specification says.

A hosted MCP server (Linear's, Notion's, any ``navi-int mcp add``) that wants
a token answers ``401`` with ``WWW-Authenticate``. The official SDK's client
OAuth support (:class:`mcp.client.auth.OAuthClientProvider`) takes it from
there: protected resource metadata (RFC 9728), authorization server metadata
(RFC 8414 / OpenID Connect Discovery) checked against the issuer it belongs
to, the client's identity, PKCE S256, the ``resource`` parameter (RFC 8707)
and a scope step-up on ``403 insufficient_scope``. :class:`McpAuthorization`
drives it through ``initialize`` and ``tools/list`` (which prove the grant
works) and adds what the SDK leaves to its caller:

* **storage** (:class:`StoreTokenStorage`): the SDK's ``TokenStorage`` over
  the connection's stored values. It starts from what the store holds for
  the scope (the client registration, a token still valid) and gathers what
  the flow sets; the caller then stores the grant, the registration and the
  discovered endpoints in one encrypted write (nothing is saved unless the
  whole flow succeeds);
* **client identity in the specification's order**: a client id the user
  pre-registered (``clientId``/``clientSecret``), else a client ID metadata
  document (``client_metadata_url``, used where the server supports it),
  else dynamic client registration (RFC 7591). A registration is bound to
  the issuer it was made with and reused by later sign-ins, never repeated
  (the SDK drops it when the server moved to another issuer);
* **the loopback redirect** of the OAuth flow (:class:`._listener.Listener`),
  re-armed for each round of a step-up, on the port the registration names
  when it is free (a registered redirect URI must match exactly);
* **the ``iss`` check** (RFC 9207): an ``iss`` on the redirect must name the
  authorization server the flow asked, and must be there when its metadata
  says it sends one. The SDK does not check it.

Refresh is not done here: the stored ``tokenEndpoint``, client and
``resource`` let the generic refresh-token grant (:func:`._token_endpoint.refresh`)
renew the token under :class:`~navi_integrations.auth.refresh.TokenRefresher`'s
single flight, exactly as for any OAuth provider; a rotated refresh token is
saved with its access token in the same write.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ..errors import NaviError, OAuthFailed

if TYPE_CHECKING:
    from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

    from ..models import Credentials, IntegrationProvider

__all__ = ["GRANT_FIELDS", "McpAuthorization", "McpAuthorized", "StoreTokenStorage"]

#: Values an MCP authorization stores beside the user's own (none of them asked for).
GRANT_FIELDS = (
    "accessToken",
    "refreshToken",
    "expiresAt",
    "scope",
    "clientId",
    "clientSecret",
    "tokenAuthMethod",
    "oauthClient",
    "authorizationEndpoint",
    "tokenEndpoint",
    "revocationEndpoint",
    "issuer",
    "resource",
)

#: Where authorization server metadata is published (RFC 8414; OpenID Connect Discovery).
_AS_METADATA = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")


@dataclass(frozen=True)
class McpAuthorized:
    """What connecting a hosted MCP server gave.

    ``values`` are the credentials to store (``None`` when the stored grant
    still works and nothing changed); ``tools`` the server's tool names as
    its first ``tools/list`` gave them; ``signed_in`` whether the browser was
    needed; ``registered`` whether a client was registered (RFC 7591) this time.
    """

    tools: list[str]
    signed_in: bool
    registered: bool
    scopes: list[str] = field(default_factory=list)
    values: Credentials | None = field(default=None, repr=False)
    #: The account it was stored as (set once stored).
    account_name: str | None = None


class StoreTokenStorage:
    """The SDK's ``TokenStorage`` over one connection's stored values.

    Starts from the values stored in the target scope (``previous``): the
    client registration (``oauthClient``) and an access token that is still
    valid (given without its refresh token, so that the SDK never refreshes
    outside the store's single flight). What the flow sets is kept here until
    :meth:`McpAuthorization.run` turns it into the values to store at once.
    """

    def __init__(
        self,
        client: OAuthClientInformationFull | None,
        access_token: str | None = None,
    ) -> None:
        self.client: OAuthClientInformationFull | None = client
        self.tokens: OAuthToken | None = None
        self.received_at = 0.0
        self.registered = False
        self._access_token = access_token

    def __repr__(self) -> str:
        return f"StoreTokenStorage(registered={self.registered}, tokens={self.tokens is not None})"

    async def get_tokens(self) -> OAuthToken | None:
        from mcp.shared.auth import OAuthToken

        if not self._access_token:
            return None
        return OAuthToken(access_token=self._access_token)

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.received_at = time.time()

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.registered = self.client is None or client_info.client_id != self.client.client_id
        self.client = client_info


class McpAuthorization:
    """Authorize navi with one hosted MCP server and prove it with ``tools/list``.

    ``previous``: the values stored in exactly the target scope (their
    registration is reused, a still-valid token tried first). ``client_id``
    and ``client_secret``: a client the user registered with the server's
    authorization server (tried first). ``client_metadata_url``: an HTTPS URL
    of a client ID metadata document, used when the server supports them.
    ``show_url`` is called with each sign-in URL before waiting;
    ``open_browser`` (if given) opens it.
    """

    def __init__(
        self,
        provider: IntegrationProvider,
        server_url: str,
        *,
        previous: Credentials | None = None,
        client_id: str = "",
        client_secret: str = "",
        client_metadata_url: str | None = None,
        timeout: float = 300.0,
        show_url: Callable[[str], None] | None = None,
        open_browser: Callable[[str], bool] | None = None,
    ) -> None:
        self.provider = provider
        self.server_url = server_url
        self.previous = previous
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_metadata_url = client_metadata_url
        self.timeout = timeout
        self.show_url = show_url or (lambda url: None)
        self.open_browser = open_browser
        self._as_metadata: dict[str, Any] = {}
        self._rounds = 0

    def run(self) -> McpAuthorized:
        """Connect: reuse what works, sign in where the server asks. Raises
        :class:`OAuthFailed` (nothing to store) when it does not complete."""
        import anyio

        try:
            import mcp.client.auth  # noqa: F401
        except ImportError:
            raise OAuthFailed(
                "connecting a hosted MCP server needs the MCP SDK: "
                "pip install 'navi-integrations[gateway]'"
            ) from None
        # The SDK logs each failed flow with its traceback; the failure is raised here
        # as a sentence, so without a host's logging set up the traceback is only noise.
        sdk_log = logging.getLogger("mcp.client.auth")
        if not sdk_log.handlers:
            sdk_log.addHandler(logging.NullHandler())
        return anyio.run(self._run)

    # -- the flow --------------------------------------------------------

    async def _run(self) -> McpAuthorized:
        from mcp.client.auth import OAuthClientProvider
        from mcp.shared.auth import OAuthClientMetadata

        from ._listener import Listener

        client = self._known_client()
        registered_port, given_port = _loopback_port(client), _redirect_port()
        listener = Listener(
            port=registered_port or given_port, required=bool(given_port and not registered_port)
        )
        redirect_uri = listener.redirect_uri
        if (
            client is not None
            and not _allows(client, redirect_uri)
            and client.client_id != self.client_id
        ):
            client = None  # registered for a port now taken: register again
        storage = StoreTokenStorage(client, self._valid_access_token())
        metadata = OAuthClientMetadata(
            client_name="navi-integrations",
            redirect_uris=[redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",  # a public client, with PKCE
        )
        auth = OAuthClientProvider(
            server_url=self.server_url,
            client_metadata=metadata,
            storage=storage,
            redirect_handler=lambda url: self._redirect(listener, url),
            callback_handler=lambda: self._callback(listener, auth),
            timeout=self.timeout,
            client_metadata_url=self.client_metadata_url,
        )
        try:
            with listener:
                tools = await self._list_tools(auth)
        except BaseException as exc:
            raise self._failure(exc) from None
        return self._result(auth, storage, tools)

    async def _list_tools(self, auth: httpx.Auth) -> list[str]:
        from mcp import ClientSession

        from ._mcp_http import streamable_http

        async def keep_metadata(response: httpx.Response) -> None:
            if response.request.url.path.startswith(_AS_METADATA) and response.status_code == 200:
                await response.aread()
                try:
                    self._as_metadata = dict(response.json())
                except (ValueError, TypeError):
                    self._as_metadata = {}

        async with (
            streamable_http(
                self.server_url, auth=_Hooked(auth, keep_metadata, self._widen_registration)
            ) as (
                read,
                write,
            ),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            listed = await session.list_tools()
        return [tool.name for tool in listed.tools]

    def _widen_registration(self, request: httpx.Request) -> httpx.Request:
        """A dynamic registration asks for every scope the authorization server lists.

        The SDK registers for the scope of the first sign-in; an authorization
        server that holds clients to their registered scope (the SDK's own does)
        then refuses the step-up's wider request. Registering for what the
        server supports lets a step-up reuse the registration (RFC 7591: the
        server may still narrow it).
        """
        supported = self._as_metadata.get("scopes_supported")
        endpoint = self._as_metadata.get("registration_endpoint")
        if request.method != "POST" or not endpoint or str(request.url) != str(endpoint):
            return request
        if not isinstance(supported, list) or not all(isinstance(s, str) for s in supported):
            return request
        try:
            body = json.loads(request.content)
        except ValueError:
            return request
        if not isinstance(body, dict) or "redirect_uris" not in body:
            return request
        asked = str(body.get("scope") or "").split()
        body["scope"] = " ".join(dict.fromkeys([*asked, *supported]))
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        return httpx.Request("POST", request.url, headers=headers, json=body)

    async def _redirect(self, listener: Any, url: str) -> None:
        state = parse_qs(urlsplit(url).query).get("state", [""])[0]
        listener.arm(state)
        self._rounds += 1
        self.show_url(url)
        if self.open_browser is not None:
            self.open_browser(url)

    async def _callback(self, listener: Any, auth: Any) -> tuple[str, str | None]:
        import anyio

        answered = await anyio.to_thread.run_sync(listener.done.wait, self.timeout)
        if not answered:
            raise OAuthFailed(
                f"no answer from the browser within {self.timeout:.0f} s; nothing was saved. "
                f"Run navi-int connect {self.provider.id} again"
            )
        answer: dict[str, str] = listener.result or {}
        error = answer.get("error")
        if error == "access_denied":
            raise OAuthFailed(
                f"access to {self.provider.name} was declined in the browser; nothing was saved"
            )
        if error or not answer.get("code"):
            raise OAuthFailed(
                f"{self.provider.name} refused the sign-in ({error or 'no code'}); "
                "nothing was saved"
            )
        self._check_issuer(answer.get("iss"), auth.context.oauth_metadata)
        return answer["code"], answer.get("state")

    def _check_issuer(self, iss: str | None, metadata: Any) -> None:
        """RFC 9207: the redirect's ``iss`` names the server we asked (mix-up defence)."""
        expected = str(metadata.issuer) if metadata is not None else None
        raw = self._as_metadata.get("issuer")
        if (
            isinstance(raw, str)
            and expected is not None
            and raw.rstrip("/") == expected.rstrip("/")
        ):
            expected = raw  # the document's own string: the SDK's model may add a slash
        promised = bool(self._as_metadata.get("authorization_response_iss_parameter_supported"))
        if iss is None and not promised:
            return
        if iss is None or expected is None or iss != expected:  # simple string comparison
            raise OAuthFailed(
                f"the sign-in answer for {self.provider.name} did not come from the "
                "authorization server it was sent to (its 'iss' does not match: a mix-up "
                "attack, or a misconfigured server); nothing was saved"
            )

    # -- what the flow leaves ---------------------------------------------

    def _known_client(self) -> OAuthClientInformationFull | None:
        """The client to present first: the user's pre-registered one, else the stored one."""
        from mcp.shared.auth import OAuthClientInformationFull

        stored = None
        if self.previous is not None and "oauthClient" in self.previous:
            try:
                stored = OAuthClientInformationFull.model_validate_json(
                    self.previous.reveal("oauthClient")
                )
            except ValueError:
                stored = None  # unreadable: register again
        if not self.client_id:
            return stored
        if stored is not None and stored.client_id == self.client_id:
            return stored
        return OAuthClientInformationFull(
            client_id=self.client_id,
            client_secret=self.client_secret or None,
            redirect_uris=None,
            token_endpoint_auth_method="client_secret_post" if self.client_secret else "none",
        )

    def _valid_access_token(self) -> str | None:
        from ..store.reads import now_ms, refresh_due

        previous = self.previous
        if previous is None or "accessToken" not in previous:
            return None
        if refresh_due("oauth", previous, 0, now_ms()):
            return None  # expired: the refresher renews it; a sign-in replaces it
        return previous.reveal("accessToken")

    def _result(self, auth: Any, storage: StoreTokenStorage, tools: list[str]) -> McpAuthorized:
        from ..models import Credentials

        context = auth.context
        tokens = storage.tokens
        if tokens is None:  # the stored token worked, or the server asked for none
            if self.previous is not None and "accessToken" in self.previous:
                scopes = self.previous.reveal("scope").split() if "scope" in self.previous else []
                return McpAuthorized(tools, signed_in=False, registered=False, scopes=scopes)
            open_server = Credentials({"resource": self.server_url})
            return McpAuthorized(tools, False, False, values=open_server)
        client = storage.client
        assert client is not None  # the flow had a client to exchange the code
        metadata = context.oauth_metadata
        granted = (tokens.scope or context.client_metadata.scope or "").split()
        values: dict[str, str] = {
            "accessToken": tokens.access_token,
            "scope": " ".join(sorted(set(granted))),
            "clientId": client.client_id or "",
            "tokenAuthMethod": client.token_endpoint_auth_method or "none",
            "oauthClient": client.model_dump_json(exclude_none=True),
            "tokenEndpoint": auth._get_token_endpoint(),
            "resource": context.get_resource_url(),
        }
        if tokens.refresh_token:
            values["refreshToken"] = tokens.refresh_token
        if tokens.expires_in is not None:
            values["expiresAt"] = str(int((storage.received_at + tokens.expires_in) * 1000))
        if client.client_secret:
            values["clientSecret"] = client.client_secret
        if metadata is not None:
            values["issuer"] = str(metadata.issuer)
            values["authorizationEndpoint"] = str(metadata.authorization_endpoint)
            if metadata.revocation_endpoint is not None:
                values["revocationEndpoint"] = str(metadata.revocation_endpoint)
        own = {f.key for f in self.provider.credentials} - {"clientId", "clientSecret"}
        if self.previous is not None:  # the user's other values carry over
            values.update({k: self.previous.reveal(k) for k in own if k in self.previous})
        return McpAuthorized(
            tools,
            signed_in=self._rounds > 0,
            registered=storage.registered,
            scopes=sorted(set(granted)),
            values=Credentials(values),
        )

    def _failure(self, exc: BaseException) -> NaviError:
        """One clear error for whatever ended the flow (the SDK's come in exception groups)."""
        from mcp.client.auth import OAuthFlowError, OAuthTokenError

        from ._token_endpoint import transport_failure

        leaf = _first_leaf(exc)
        name = self.provider.name
        if isinstance(leaf, NaviError):
            return leaf
        if isinstance(leaf, OAuthTokenError):
            return OAuthFailed(
                f"{name}'s authorization server refused to issue a token; nothing was saved"
            )
        if isinstance(leaf, OAuthFlowError):
            reason = str(leaf)
            if "State parameter mismatch" in reason:
                reason = "the redirect's state did not match the sign-in"
            return OAuthFailed(f"{name}'s authorization failed: {reason}; nothing was saved")
        if isinstance(leaf, httpx.HTTPStatusError):
            status = leaf.response.status_code
            if status in (401, 403):
                return OAuthFailed(
                    f"{name}'s MCP server still refuses access (HTTP {status}) after the "
                    "sign-in; nothing was saved"
                )
            return OAuthFailed(f"{name}'s MCP server answered HTTP {status}; nothing was saved")
        if isinstance(leaf, httpx.HTTPError | OSError):
            return OAuthFailed(f"{transport_failure(name, leaf).message}; nothing was saved")
        if isinstance(leaf, KeyboardInterrupt | SystemExit):
            raise leaf
        return OAuthFailed(
            f"connecting {name}'s MCP server failed ({type(leaf).__name__}); nothing was saved"
        )


class _Hooked(httpx.Auth):
    """An httpx auth flow that shows each response to ``hook`` before the flow reads it.

    Wraps the SDK's provider so that the authorization server's metadata can
    be read whole (the SDK's model drops the RFC 9207 flag), and so that
    ``rewrite`` can amend a request the flow sends (the registration's scope).
    """

    requires_response_body = True

    def __init__(
        self,
        inner: Any,
        hook: Callable[[httpx.Response], Any],
        rewrite: Callable[[httpx.Request], httpx.Request] = lambda request: request,
    ) -> None:
        self._inner = inner
        self._hook = hook
        self._rewrite = rewrite

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        flow = self._inner.async_auth_flow(request)
        outgoing = await flow.__anext__()
        while True:
            response = yield self._rewrite(outgoing)
            await self._hook(response)
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                return

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        raise RuntimeError("MCP authorization runs on an async client")


def _first_leaf(exc: BaseException) -> BaseException:
    """The first non-group exception of an exception group (anyio task groups wrap them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _loopback_port(client: OAuthClientInformationFull | None) -> int:
    """The port of a registered loopback redirect URI (0: any)."""
    for uri in (client.redirect_uris or []) if client is not None else []:
        parts = urlsplit(str(uri))
        if parts.hostname == "127.0.0.1" and parts.port:
            return parts.port
    return 0


def _redirect_port() -> int:
    """``NAVI_INTEGRATIONS_OAUTH_REDIRECT_PORT``: the loopback port a pre-registered client's
    redirect URI names (``http://127.0.0.1:PORT/callback``); 0 (unset) is any free port."""
    import os

    from ..errors import InvalidInput

    raw = os.environ.get("NAVI_INTEGRATIONS_OAUTH_REDIRECT_PORT", "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise InvalidInput(
            "NAVI_INTEGRATIONS_OAUTH_REDIRECT_PORT must be a port number (1-65535)",
            hint="the port of the redirect URI http://127.0.0.1:PORT/callback your client has",
        )
    return int(raw)


def _allows(client: OAuthClientInformationFull, redirect_uri: str) -> bool:
    """Whether a client may use this redirect URI (one it was registered with, or any
    when it declares none: a pre-registered client)."""
    if not client.redirect_uris:
        return True
    return redirect_uri in {str(uri) for uri in client.redirect_uris}
