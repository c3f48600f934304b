"""OAuth 2.0 for any provider with an ``oauth`` section: sign-in with PKCE, and refresh.

Sign-in (:class:`OAuthSignIn`) is the authorization-code flow with PKCE
(S256) and a random ``state``, through authlib's httpx client: the user's
browser is sent to the provider, the redirect comes back to a one-shot
listener on 127.0.0.1 with a random port, the code is exchanged, and the
account's email is read from the provider's ``userinfo`` URL if it has one.
Only then is anything stored, in one write: the client id and secret, the
tokens, their expiry, the granted scopes and the account. Scopes are chosen
by service; adding a service later asks only for the scopes not yet granted.

Refresh is the ``refresh`` hook's default implementation (:func:`refresh`,
registered ``trylast`` by a built-in plugin): a generic refresh-token grant
that keeps a rotated refresh token. ``invalid_grant`` raises
:class:`GrantRevoked`, which says how to reconnect.
"""

from __future__ import annotations

import contextlib
import html
import socket
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..errors import GrantRevoked, NaviError, OAuthFailed

if TYPE_CHECKING:
    from ..models import Credentials, IntegrationProvider

__all__ = ["GrantRevoked", "OAuthFailed", "OAuthSignIn", "SignInResult", "refresh"]

#: Credential keys the flow stores beside the user's clientId/clientSecret.
TOKEN_FIELDS = ("accessToken", "refreshToken", "expiresAt", "scope", "account")


def _oauth_client(**kwargs: Any) -> Any:
    # authlib warns that its httpx integration will move to "httpx2"; we use httpx.
    # (authlib.deprecate installs an "always" filter when imported: import it first.)
    from authlib.deprecate import AuthlibDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import OAuth2Client
    return OAuth2Client(**kwargs)


def _oauth_error() -> type[Exception]:
    from authlib.integrations.base_client.errors import OAuthError

    error: type[Exception] = OAuthError
    return error


def _http_modules() -> tuple[Any, ...]:
    """httpx, and httpx2 when authlib uses it instead (it prefers httpx2 when installed)."""
    import httpx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client._compat import httpx2
    return (httpx, httpx2)


def _with_retries(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Call the token endpoint, retrying 5xx answers and network errors (not OAuth errors)."""
    import tenacity

    modules = _http_modules()

    def transient(exc: BaseException) -> bool:
        for module in modules:
            if isinstance(exc, module.HTTPStatusError):
                return bool(exc.response.status_code >= 500)
            if isinstance(exc, module.TransportError):
                return True
        return False

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(4),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=2),
        retry=tenacity.retry_if_exception(transient),
        reraise=True,
    )
    return retrying(fn)


def _token_values(
    token: dict[str, Any], requested: list[str], previous: Credentials | None
) -> dict[str, str]:
    expires_at = token.get("expires_at")
    if expires_at is None and token.get("expires_in") is not None:
        expires_at = time.time() + float(token["expires_in"])
    granted = str(token.get("scope") or "").split()
    # Providers report what was granted; where the answer names nothing we asked
    # for (or nothing at all), the requested scopes stand.
    scopes = granted if set(granted) & set(requested) else requested
    if previous is not None and "scope" in previous:
        scopes = sorted(set(scopes) | set(previous.reveal("scope").split()))
    refresh_token = token.get("refresh_token")
    if not refresh_token and previous is not None and "refreshToken" in previous:
        refresh_token = previous.reveal("refreshToken")  # not rotated: keep the old one
    values = {
        "accessToken": str(token["access_token"]),
        "scope": " ".join(sorted(scopes)),
    }
    if refresh_token:
        values["refreshToken"] = str(refresh_token)
    if expires_at is not None:
        values["expiresAt"] = str(int(float(expires_at) * 1000))
    return values


def _raise_http(response: Any) -> None:
    if response.status_code >= 500:
        response.raise_for_status()


def refresh(
    provider: IntegrationProvider, credentials: Credentials, *, timeout: float = 30.0
) -> Credentials:
    """Renew an access token with the refresh-token grant (generic OAuth 2.0).

    Raises :class:`GrantRevoked` on ``invalid_grant`` (and when there is no
    refresh token), :class:`OAuthFailed` on other refusals.
    """
    from ..models import Credentials

    if "refreshToken" not in credentials:
        raise GrantRevoked(provider.id, provider.name, None)
    client = _oauth_client(
        client_id=credentials.reveal("clientId"),
        client_secret=credentials.reveal("clientSecret"),
        timeout=timeout,
    )
    try:
        with client:
            client.register_compliance_hook("refresh_token_response", _raise_and_return)
            token = _with_retries(
                lambda: client.refresh_token(
                    provider.url("token", credentials),
                    refresh_token=credentials.reveal("refreshToken"),
                )
            )
    except _oauth_error() as exc:
        if getattr(exc, "error", None) == "invalid_grant":
            raise GrantRevoked(provider.id, provider.name, None) from None
        raise OAuthFailed(
            f"{provider.name} refused to renew access ({getattr(exc, 'error', 'error')})"
        ) from None
    except Exception as exc:
        raise _transport_failure(provider.name, exc) from None
    requested = credentials.reveal("scope").split() if "scope" in credentials else []
    values = {k: credentials.reveal(k) for k in credentials}
    values.update(_token_values(token, requested, credentials))
    return Credentials(values)


def _raise_and_return(response: Any) -> Any:
    _raise_http(response)
    return response


def _transport_failure(name: str, exc: BaseException) -> NaviError:
    from ..health.checks import failure_of

    failure = failure_of(name, exc)
    if failure is None:
        return OAuthFailed(f"{name}'s token endpoint failed: {type(exc).__name__}")
    return OAuthFailed(f"{failure.message} (token endpoint)")


@dataclass(frozen=True)
class SignInResult:
    """What a completed sign-in granted; ``values`` are the credentials to store (None when
    everything asked for was already granted and nothing changed)."""

    account: str | None
    scopes: list[str]
    services: list[str]
    values: Credentials | None = field(default=None, repr=False)


class _Listener:
    """A one-shot HTTP listener on 127.0.0.1 for the authorization redirect.

    Any local program can connect to the port. Each connection gets its own
    thread and a read timeout, so one that sends nothing, or a request byte by
    byte, never holds up the browser's redirect; on exit the connections still
    open are cut, so leaving (on success or on ``--timeout``) never waits for them.
    """

    #: Seconds a connection may stay silent before it is dropped.
    CONNECTION_TIMEOUT = 10.0

    def __init__(self, expected_state: str) -> None:
        self.expected_state = expected_state
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
                if query.get("state") != owner.expected_state:
                    # Not the sign-in we started: refuse it, keep waiting for ours.
                    self._page(400, "This sign-in link is not the one navi-int is waiting for.")
                    return
                with owner._lock:
                    if owner.result is None:  # the first answer counts
                        owner.result = query
                owner.done.set()
                if "error" in query:
                    self._page(200, "Access was not granted. You can close this tab.")
                else:
                    self._page(200, "Signed in. You can close this tab and return to the terminal.")

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

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    def __enter__(self) -> _Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            still_open = list(self._open)
        for connection in still_open:  # wake their threads: they end at once
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class OAuthSignIn:
    """The authorization-code flow with PKCE for one provider.

    ``existing`` are the credentials already stored in exactly the target
    scope (their OAuth client and grants carry over: incremental consent).
    :meth:`run` returns what to store; the caller stores it.
    """

    def __init__(
        self,
        provider: IntegrationProvider,
        *,
        existing: Credentials | None = None,
        timeout: float = 300.0,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
    ) -> None:
        self.provider = provider
        if self.provider.oauth is None:
            raise OAuthFailed(f"{self.provider.name} does not sign in with OAuth")
        self.previous = existing
        self.timeout = timeout
        self.open_browser = open_browser
        self.show_url = show_url or (lambda url: None)
        self._urls: Credentials | None = existing

    def scopes_for(self, services: list[str]) -> list[str]:
        """The scopes the services need, plus the provider's base scopes."""
        oauth = self.provider.oauth
        assert oauth is not None
        unknown = [s for s in services if s not in oauth.services]
        if unknown:
            raise OAuthFailed(
                f"unknown service(s) {', '.join(unknown)}; {self.provider.name} offers "
                + ", ".join(oauth.services)
            )
        scopes = list(oauth.base_scopes)
        for service in services:
            scopes += [s for s in oauth.service_scopes[service] if s not in scopes]
        return scopes

    def run(
        self,
        client_id: str,
        client_secret: str,
        services: list[str],
        fields: Mapping[str, str] | None = None,
    ) -> SignInResult:
        """Sign in; the result carries the values to store (``values`` is empty when the
        scopes were already granted). Raises :class:`OAuthFailed` when it does not complete.

        ``fields`` are the provider's other non-secret values (a self-hosted
        instance's ``baseUrl``): the OAuth URLs are resolved with them, and they are stored.
        """
        from authlib.common.security import generate_token

        from ..models import Credentials

        oauth = self.provider.oauth
        assert oauth is not None
        previous = self.previous
        if previous is not None and previous.reveal("clientId") != client_id:
            previous = None  # another OAuth client: its grants do not carry over
        # the provider's own fields (a self-hosted instance's URL) carry over unless given anew
        declared = {f.key for f in self.provider.credentials} - {"clientId", "clientSecret"}
        extra = {k: previous.reveal(k) for k in declared if previous and k in previous}
        extra.update({k: v for k, v in (fields or {}).items() if v})
        self._urls = Credentials(extra)
        wanted = self.scopes_for(services)
        granted = (
            set(previous.reveal("scope").split()) if previous and "scope" in previous else set()
        )
        asking = [s for s in wanted if s not in granted]  # incremental consent
        if not asking:
            account = previous.reveal("account") if previous and "account" in previous else None
            return SignInResult(account, sorted(granted), services)

        verifier = generate_token(64)
        state = generate_token(32)
        with _Listener(state) as listener:
            client = _oauth_client(
                client_id=client_id,
                client_secret=client_secret,
                scope=" ".join(asking),
                redirect_uri=listener.redirect_uri,
                code_challenge_method="S256" if oauth.pkce else None,
                timeout=30.0,
            )
            url, _ = client.create_authorization_url(
                self.provider.url("auth", self._urls),
                state=state,
                code_verifier=verifier if oauth.pkce else None,
                **oauth.auth_params,
            )
            self.show_url(url)
            if self.open_browser is not None:
                self.open_browser(url)
            if not listener.done.wait(self.timeout):
                raise OAuthFailed(
                    f"no answer from the browser within {self.timeout:.0f} s; nothing was saved. "
                    f"Run navi-int connect {self.provider.id} again"
                )
            answer = listener.result or {}
        if "error" in answer:
            reason = answer["error"]
            if reason == "access_denied":
                raise OAuthFailed(
                    f"access to {self.provider.name} was declined in the browser; nothing was saved"
                )
            raise OAuthFailed(
                f"{self.provider.name} refused the sign-in ({reason}); nothing was saved"
            )
        with client:
            client.register_compliance_hook("access_token_response", _raise_and_return)
            try:
                token = _with_retries(
                    lambda: client.fetch_token(
                        self.provider.url("token", self._urls),
                        code=answer.get("code", ""),
                        code_verifier=verifier if oauth.pkce else None,
                    )
                )
            except _oauth_error() as exc:
                raise OAuthFailed(
                    f"{self.provider.name}'s token endpoint refused the code "
                    f"({getattr(exc, 'error', 'error')}); nothing was saved"
                ) from None
            except Exception as exc:
                raise OAuthFailed(
                    f"{_transport_failure(self.provider.name, exc)}; nothing was saved"
                ) from None
        values = {**extra, "clientId": client_id, "clientSecret": client_secret}
        values.update(_token_values(token, asking, previous))
        account = self._account(values["accessToken"])
        if account:
            values["account"] = account
        elif previous is not None and "account" in previous:
            values["account"] = previous.reveal("account")
        stored = Credentials(values)
        granted_now = stored.reveal("scope").split()
        got = [s for s in oauth.services if set(oauth.service_scopes[s]) <= set(granted_now)]
        return SignInResult(values.get("account"), granted_now, got, stored)

    def _account(self, access_token: str) -> str | None:
        """The account's email from the provider's userinfo URL (None if it has none)."""
        if "userinfo" not in self.provider.endpoints():
            return None
        from ..health.checks import shared_client

        try:
            response = shared_client().get(
                self.provider.url("userinfo", self._urls),
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=30.0,
            )
            if response.status_code != 200:
                return None
            email = response.json().get("email")
        except Exception:  # the sign-in worked; the display name is a nicety
            return None
        return str(email) if email else None
