"""OAuth 2.0 for any provider with an ``oauth`` section: sign-in with PKCE, and refresh.

Sign-in (:class:`OAuthSignIn`) is the authorization-code flow with PKCE
(S256) and a random ``state``, through authlib's httpx client, in two steps:
``begin`` builds the authorization URL for a redirect URI (the verifier and
state stay with the caller, never in the URL's reach), and ``complete``
exchanges the code the redirect brought back and reads the account's email
from the provider's ``userinfo`` URL if it has one. The CLI runs both around
a one-shot listener on 127.0.0.1 with a random port (``run``); the HTTP
server is its own redirect target and keeps pending sign-ins in
:class:`PendingSignIns` between the two requests. Only then is anything
stored, in one write: the client id and secret, the tokens, their expiry,
the granted scopes and the account. Scopes are chosen by service; adding a
service later asks only for the scopes not yet granted.

Refresh is the ``refresh`` hook's default implementation (:func:`refresh`,
registered ``trylast`` by a built-in plugin): a generic refresh-token grant
that keeps a rotated refresh token. ``invalid_grant`` raises
:class:`GrantRevoked`, which says how to reconnect.

The token endpoint (both grants, their retries, :func:`refresh`) lives in
:mod:`._token_endpoint` and the loopback listener in :mod:`._listener`; the
names are re-exported here, where callers import them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import GrantRevoked, OAuthFailed
from ._listener import Listener as _Listener
from ._token_endpoint import (
    oauth_client,
    oauth_error,
    raise_and_return,
    refresh,
    token_values,
    transport_failure,
    with_retries,
)

if TYPE_CHECKING:
    from ..models import Credentials, IntegrationProvider

__all__ = [
    "GrantRevoked",
    "OAuthFailed",
    "OAuthSignIn",
    "PendingSignIn",
    "PendingSignIns",
    "SignInResult",
    "refresh",
]

#: Credential keys the flow stores beside the user's clientId/clientSecret.
TOKEN_FIELDS = ("accessToken", "refreshToken", "expiresAt", "scope", "account")


@dataclass(frozen=True)
class SignInResult:
    """What a completed sign-in granted; ``values`` are the credentials to store (None when
    everything asked for was already granted and nothing changed)."""

    account: str | None
    scopes: list[str]
    services: list[str]
    values: Credentials | None = field(default=None, repr=False)
    #: The account it was stored as (set once stored; ``account`` is the identity).
    account_name: str | None = None


@dataclass
class PendingSignIn:
    """A sign-in waiting for the browser: what :meth:`OAuthSignIn.complete` needs.

    Kept by whoever started it (the CLI's listener flow holds it; a server
    keeps it in :class:`PendingSignIns`, found again by ``state``). It holds
    the PKCE verifier and the client secret: never shown, never logged.
    """

    provider_id: str
    url: str
    state: str
    redirect_uri: str
    client_id: str
    services: list[str]
    asking: list[str]
    project_id: str | None = None
    #: The account to store it as (``None``: named after the identity signed in).
    account: str | None = None
    expires: float = 0.0
    verifier: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    previous: Credentials | None = field(default=None, repr=False)
    #: The provider's other values (a self-hosted instance's URL), stored with the tokens.
    extra: dict[str, str] = field(default_factory=dict, repr=False)


class PendingSignIns:
    """Sign-ins started and not yet completed, in memory, keyed by ``state``.

    Each is taken once (a replayed redirect finds nothing) and expires after
    ``ttl`` seconds; at most ``limit`` wait at a time (the oldest go first).
    """

    def __init__(self, ttl: float = 600.0, limit: int = 64) -> None:
        self.ttl = ttl
        self.limit = limit
        self._pending: dict[str, PendingSignIn] = {}
        self._lock = threading.Lock()

    def add(self, pending: PendingSignIn) -> None:
        """Keep a sign-in until its redirect comes back (or it expires)."""
        with self._lock:
            now = time.monotonic()
            pending.expires = now + self.ttl
            self._pending = {s: p for s, p in self._pending.items() if p.expires > now}
            while len(self._pending) >= self.limit:
                del self._pending[next(iter(self._pending))]
            self._pending[pending.state] = pending

    def take(self, state: str) -> PendingSignIn | None:
        """The sign-in this ``state`` belongs to, removed (None: unknown, used or expired)."""
        import hmac

        with self._lock:
            found = next(
                (s for s in self._pending if hmac.compare_digest(s.encode(), state.encode())),
                None,
            )
            if found is None:
                return None
            pending = self._pending.pop(found)
        return pending if pending.expires > time.monotonic() else None


class OAuthSignIn:
    """The authorization-code flow with PKCE for one provider, in two steps.

    :meth:`begin` builds the authorization URL for a ``redirect_uri`` (with a
    fresh PKCE verifier and ``state``); :meth:`complete` takes what the
    redirect brought back and exchanges the code. :meth:`run` is both around a
    loopback listener (the CLI); a server is its own redirect target and keeps
    the pending sign-in between the two requests. ``existing`` are the
    credentials already stored in exactly the target scope (their OAuth client
    and grants carry over: incremental consent). The caller stores the result.
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
        if not oauth.services:  # no services to choose from: every scope it declares
            scopes += [s for s in oauth.scopes if s not in scopes]
        for service in services:
            scopes += [s for s in oauth.service_scopes[service] if s not in scopes]
        return scopes

    def begin(
        self,
        client_id: str,
        client_secret: str,
        services: list[str],
        redirect_uri: str,
        fields: Mapping[str, str] | None = None,
    ) -> PendingSignIn | SignInResult:
        """The authorization URL to send the browser to, with what completing needs; or,
        when every scope asked for is already granted, the result at once (nothing to store).

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
        if not asking and previous is not None and "accessToken" in previous:
            account = previous.reveal("account") if previous and "account" in previous else None
            return SignInResult(account, sorted(granted), services)
        verifier = generate_token(64)
        state = generate_token(32)
        client = self._client(client_id, client_secret, asking, redirect_uri)
        with client:
            url, _ = client.create_authorization_url(
                self.provider.url("auth", self._urls),
                state=state,
                code_verifier=verifier if oauth.pkce else None,
                **oauth.auth_params,
            )
        return PendingSignIn(
            provider_id=self.provider.id,
            url=url,
            state=state,
            redirect_uri=redirect_uri,
            client_id=client_id,
            services=services,
            asking=asking,
            verifier=verifier,
            client_secret=client_secret,
            previous=previous,
            extra=extra,
        )

    def _client(
        self, client_id: str, client_secret: str, asking: list[str], redirect_uri: str
    ) -> Any:
        oauth = self.provider.oauth
        assert oauth is not None
        return oauth_client(
            client_id=client_id,
            client_secret=client_secret,
            scope=" ".join(asking),
            redirect_uri=redirect_uri,
            code_challenge_method="S256" if oauth.pkce else None,
            timeout=30.0,
        )

    def complete(
        self, pending: PendingSignIn, *, code: str | None = None, error: str | None = None
    ) -> SignInResult:
        """Exchange the code the redirect brought back (or report its ``error``); the result
        carries the values to store. Raises :class:`OAuthFailed` when it does not complete."""
        from ..models import Credentials

        oauth = self.provider.oauth
        assert oauth is not None
        if error or not code:
            reason = error or "no code"
            if reason == "access_denied":
                raise OAuthFailed(
                    f"access to {self.provider.name} was declined in the browser; nothing was saved"
                )
            raise OAuthFailed(
                f"{self.provider.name} refused the sign-in ({reason}); nothing was saved"
            )
        self._urls = Credentials(pending.extra)
        client = self._client(
            pending.client_id, pending.client_secret, pending.asking, pending.redirect_uri
        )
        with client:
            client.register_compliance_hook("access_token_response", raise_and_return)
            try:
                token = with_retries(
                    lambda: client.fetch_token(
                        self.provider.url("token", self._urls),
                        code=code,
                        code_verifier=pending.verifier if oauth.pkce else None,
                    )
                )
            except oauth_error() as exc:
                raise OAuthFailed(
                    f"{self.provider.name}'s token endpoint refused the code "
                    f"({getattr(exc, 'error', 'error')}); nothing was saved"
                ) from None
            except Exception as exc:
                raise OAuthFailed(
                    f"{transport_failure(self.provider.name, exc)}; nothing was saved"
                ) from None
        previous = pending.previous
        values = {**pending.extra, "clientId": pending.client_id}
        values["clientSecret"] = pending.client_secret
        values.update(token_values(token, pending.asking, previous))
        account = self._account(values["accessToken"])
        if account:
            values["account"] = account
        elif previous is not None and "account" in previous:
            values["account"] = previous.reveal("account")
        stored = Credentials(values)
        granted_now = stored.reveal("scope").split()
        got = [s for s in oauth.services if set(oauth.service_scopes[s]) <= set(granted_now)]
        return SignInResult(values.get("account"), granted_now, got, stored)

    def run(
        self,
        client_id: str,
        client_secret: str,
        services: list[str],
        fields: Mapping[str, str] | None = None,
    ) -> SignInResult:
        """Sign in through a loopback listener: :meth:`begin`, wait for the browser's
        redirect, :meth:`complete`. The result carries the values to store (``values`` is
        None when the scopes were already granted). Raises :class:`OAuthFailed` when it does
        not complete. ``fields``: as for :meth:`begin`."""
        listener = _Listener()
        try:
            begun = self.begin(client_id, client_secret, services, listener.redirect_uri, fields)
        except BaseException:
            listener.close()
            raise
        if isinstance(begun, SignInResult):
            listener.close()
            return begun
        listener.expected_state = begun.state
        with listener:
            self.show_url(begun.url)
            if self.open_browser is not None:
                self.open_browser(begun.url)
            if not listener.done.wait(self.timeout):
                raise OAuthFailed(
                    f"no answer from the browser within {self.timeout:.0f} s; nothing was saved. "
                    f"Run navi-int connect {self.provider.id} again"
                )
            answer = listener.result or {}
        return self.complete(begun, code=answer.get("code"), error=answer.get("error"))

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
