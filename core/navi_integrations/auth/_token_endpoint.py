"""The token endpoint: code and refresh-token grants through authlib, and the default refresh.

Both grants go through authlib's httpx client with the same retries (5xx
answers and network errors, never an OAuth refusal) and turn the token
endpoint's answer into stored credential values the same way
(:func:`token_values`): granted scopes merged with earlier grants, a refresh
token kept when the provider does not rotate it, the expiry in milliseconds.

:func:`refresh` is the ``refresh`` hook's default implementation (registered
``trylast`` by a built-in plugin, :mod:`.oauth_refresh`): a generic
refresh-token grant that keeps a rotated refresh token. ``invalid_grant``
raises :class:`GrantRevoked`, which says how to reconnect.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import GrantRevoked, NaviError, OAuthFailed

if TYPE_CHECKING:
    from ..models import Credentials, IntegrationProvider

__all__ = [
    "oauth_client",
    "oauth_error",
    "raise_and_return",
    "refresh",
    "token_values",
    "transport_failure",
    "with_retries",
]


def oauth_client(**kwargs: Any) -> Any:
    """authlib's httpx ``OAuth2Client`` built with ``kwargs``."""
    # authlib warns that its httpx integration will move to "httpx2"; we use httpx.
    # (authlib.deprecate installs an "always" filter when imported: import it first.)
    from authlib.deprecate import AuthlibDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import OAuth2Client
    return OAuth2Client(**kwargs)


def oauth_error() -> type[Exception]:
    """authlib's ``OAuthError``: what a token endpoint's refusal raises."""
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


def with_retries(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Call the token endpoint, retrying 5xx answers and requests that never reached it
    (not OAuth errors). A request that may have arrived (a read timeout, a dropped answer)
    is not sent again: with refresh-token rotation the first one spent the refresh token,
    and a second would be refused as ``invalid_grant``, losing the grant."""
    import tenacity

    modules = _http_modules()

    def transient(exc: BaseException) -> bool:
        for module in modules:
            if isinstance(exc, module.HTTPStatusError):
                return bool(exc.response.status_code >= 500)
            if isinstance(exc, (module.ConnectError, module.ConnectTimeout, module.PoolTimeout)):
                return True
        return False

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(4),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=2),
        retry=tenacity.retry_if_exception(transient),
        reraise=True,
    )
    return retrying(fn)


def token_values(
    token: dict[str, Any], requested: list[str], previous: Credentials | None
) -> dict[str, str]:
    """The credential values a token answer gives (``previous``: the values it renews)."""
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
    stored = {k: credentials.reveal(k) for k in ("clientId", "clientSecret") if k in credentials}
    method = credentials.reveal("tokenAuthMethod") if "tokenAuthMethod" in credentials else None
    client = oauth_client(
        client_id=stored.get("clientId"),
        client_secret=stored.get("clientSecret", ""),
        timeout=timeout,
        **({"token_endpoint_auth_method": method} if method else {}),
    )
    # An MCP authorization grant names its resource (RFC 8707) and its client in the body.
    extra = {"resource": credentials.reveal("resource")} if "resource" in credentials else {}
    if method == "client_secret_basic" and "clientId" in stored:  # RFC 6749 allows it; some need it
        extra["client_id"] = stored["clientId"]
    try:
        with client:
            client.register_compliance_hook("refresh_token_response", raise_and_return)
            token = with_retries(
                lambda: client.refresh_token(
                    provider.url("token", credentials),
                    refresh_token=credentials.reveal("refreshToken"),
                    **extra,
                )
            )
    except oauth_error() as exc:
        if getattr(exc, "error", None) == "invalid_grant":
            raise GrantRevoked(provider.id, provider.name, None) from None
        raise OAuthFailed(
            f"{provider.name} refused to renew access ({getattr(exc, 'error', 'error')})"
        ) from None
    except Exception as exc:
        raise transport_failure(provider.name, exc) from None
    requested = credentials.reveal("scope").split() if "scope" in credentials else []
    values = {k: credentials.reveal(k) for k in credentials}
    values.update(token_values(token, requested, credentials))
    return Credentials(values)


def raise_and_return(response: Any) -> Any:
    """Compliance hook: raise on a 5xx answer (so it is retried), else pass it on."""
    _raise_http(response)
    return response


def transport_failure(name: str, exc: BaseException) -> NaviError:
    """The error for a token endpoint that could not be reached or kept failing."""
    from ..health.checks import failure_of

    failure = failure_of(name, exc)
    if failure is None:
        return OAuthFailed(f"{name}'s token endpoint failed: {type(exc).__name__}")
    return OAuthFailed(f"{failure.message} (token endpoint)")
