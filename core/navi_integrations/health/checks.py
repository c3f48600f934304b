"""HTTP health checks and the one place where HTTP errors become failure kinds.

Plugins call :func:`http_check` from their ``health_check`` hook::

    return http_check(
        provider, credentials, timeout,
        method="POST", url=provider.url("api"), json={"query": "{ viewer { email } }"},
        parse=lambda body: HealthResult.healthy(body["data"]["viewer"]["email"]),
    )

A plugin that needs the whole response (status, headers, body) passes
``judge`` instead: it sees every answer, and returns a result or ``None`` for
the generic judgement. Its failures can carry the plugin's own advice::

    def judge(response: httpx.Response) -> HealthResult | None:
        if "X-Sentry-Error" not in response.headers and response.status_code == 404:
            return HealthResult.failed(
                "bad_response", f"{response.url} does not answer like a Sentry server",
                advice="check baseUrl: navi-int connect sentry",
            )
        return None

It sends the credential the way ``provider.api.auth`` says, maps every
transport error and status to a :class:`~navi_integrations.results.HealthResult`
of the right kind, and turns a parse error (missing key, wrong type, bad
JSON) into ``bad_response``. :func:`failure_of` does the same for exceptions
raised by host-app calls in :func:`~navi_integrations.health.recovery.call_with_recovery`.
httpx is imported only when a check runs.
"""

from __future__ import annotations

import email.utils
import functools
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, cast

from ..errors import ProviderFailure
from ..results import FailureKind, HealthResult

if TYPE_CHECKING:
    import httpx

    from ..models import Credentials, IntegrationProvider

__all__ = ["ProviderFailure", "failure_of", "http_check", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _status_kind(status: int) -> FailureKind:
    if status == 401:
        return "auth"
    if status == 403:
        return "forbidden"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "unavailable"
    return "bad_response"


def failure_from_response(name: str, response: httpx.Response) -> HealthResult:
    """The failure a non-success HTTP response means."""
    status = response.status_code
    kind = _status_kind(status)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    text = {
        "auth": f"{name} rejected the credentials ({status})",
        "forbidden": f"{name} refused access ({status}): the credentials lack a permission",
        "rate_limited": f"{name} is rate limiting requests ({status})",
        "unavailable": f"{name} is unavailable ({status})",
        "bad_response": f"{name} answered with an unexpected status ({status})",
    }[kind]
    return HealthResult.failed(kind, text, http_status=status, retry_after=retry_after)


def failure_of(name: str, exc: BaseException) -> HealthResult | None:
    """Classify an exception from a provider call; ``None`` if it is not a provider failure."""
    import httpx

    if isinstance(exc, ProviderFailure):
        kind = cast("FailureKind", exc.kind)
        return HealthResult.failed(
            kind,
            exc.message,
            http_status=exc.http_status,
            retry_after=exc.retry_after,
            advice=exc.advice,
        )
    if isinstance(exc, httpx.HTTPStatusError):
        return failure_from_response(name, exc.response)
    if isinstance(exc, httpx.TimeoutException):
        return HealthResult.failed("timeout", f"{name} did not answer in time")
    if isinstance(exc, httpx.ConnectError):
        return HealthResult.failed("unreachable", f"cannot reach {name} (connection failed)")
    if isinstance(exc, httpx.TransportError):  # resets, protocol errors
        return HealthResult.failed("unreachable", f"cannot reach {name} (connection dropped)")
    if isinstance(exc, httpx.DecodingError | ValueError | KeyError | TypeError):
        return HealthResult.failed("bad_response", f"{name} sent a malformed response")
    return None


_client_lock = threading.Lock()


@functools.cache
def _shared_client() -> httpx.Client:
    import atexit

    import httpx

    client = httpx.Client(follow_redirects=False)
    atexit.register(client.close)  # pooled sockets closed at exit, not left to the collector
    return client


def shared_client() -> httpx.Client:
    """One client per process, shared by every check (thread-safe, pooled connections).

    Building a client loads the CA bundle, which is slow enough to show
    when twenty checks start at once: the lock makes sure it happens once.
    """
    with _client_lock:
        return _shared_client()


def auth_parts(
    provider: IntegrationProvider, credentials: Credentials
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters that carry the credential, per ``provider.api.auth``.

    Nothing is sent when the template names an optional field the connection left empty.
    """
    auth = provider.api.auth if provider.api is not None else None
    if auth is None:
        return {}, {}
    value = provider.fill(auth.template, credentials)
    if value is None:
        return {}, {}
    if auth.query is not None:
        return {}, {auth.query: value}
    assert auth.header is not None
    return {auth.header: value}, {}


def http_check(
    provider: IntegrationProvider,
    credentials: Credentials,
    timeout: float,
    *,
    url: str,
    method: str = "GET",
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    expected_status: int = 200,
    parse: Callable[[Any], HealthResult] | None = None,
    parse_statuses: Collection[int] = (),
    judge: Callable[[httpx.Response], HealthResult | None] | None = None,
) -> HealthResult:
    """Send one authenticated request and judge the answer (see the module docstring).

    ``parse`` receives the decoded JSON body of an expected-status answer
    and returns the result (healthy with the account, or a failure the body
    reveals, e.g. Slack's ``{"ok": false}``); ``parse_statuses`` are other
    statuses whose body ``parse`` should judge (GraphQL errors come as 400).

    ``judge`` receives every response whatever its status (an
    :class:`httpx.Response`: ``status_code``, ``headers``, ``json()``,
    ``text``) and returns the result, or ``None`` to fall back to the
    status mapping and ``parse``. A missing key or bad JSON it runs into
    becomes ``bad_response``, as with ``parse``.
    """
    import httpx

    auth_headers, params = auth_parts(provider, credentials)
    try:
        response = shared_client().request(
            method,
            url,
            json=json,
            params=params,
            headers={"User-Agent": "navi-integrations", **auth_headers, **(headers or {})},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        failure = failure_of(provider.name, exc)
        assert failure is not None
        return failure
    if judge is not None:
        try:
            verdict = judge(response)
        except (ValueError, KeyError, TypeError, AttributeError):
            return HealthResult.failed(
                "bad_response",
                f"{provider.name} sent a malformed response",
                http_status=response.status_code,
            )
        if verdict is not None:
            return verdict
    judged = response.status_code == expected_status or response.status_code in parse_statuses
    if not judged:
        return failure_from_response(provider.name, response)
    if parse is None:
        return HealthResult.healthy()
    try:
        return parse(response.json())
    except (ValueError, KeyError, TypeError, AttributeError):
        return HealthResult.failed(
            "bad_response", f"{provider.name} sent a malformed response", http_status=200
        )
