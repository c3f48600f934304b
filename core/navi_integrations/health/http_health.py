"""Built-in plugin: a health check from the provider's declared ``healthCheck`` endpoint.

Answers last (``trylast``), for providers whose plugin has no health check
of its own and for user-defined TOML providers: it sends one authenticated
request to the endpoint and expects the declared status.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..models import Credentials, IntegrationProvider
from ..results import HealthResult


def endpoint_url(
    provider: IntegrationProvider, endpoint: str, credentials: Credentials | None = None
) -> str:
    """A named URL of the provider, an absolute URL, or a path relative to its API base URL.

    Named and base URLs resolve as :meth:`IntegrationProvider.url` does
    (``NAVI_<PROVIDER>_<NAME>_URL``, else the connection's field value, else
    the field's default); ``{{field}}`` placeholders in ``endpoint`` are filled the same way.
    """
    if endpoint in provider.endpoints():
        return provider.url(endpoint, credentials)
    filled = provider.fill(endpoint, credentials)
    assert filled is not None  # refused at load time: a URL names no optional-without-default
    if filled.startswith(("http://", "https://")):
        return filled
    return provider.url("api", credentials).rstrip("/") + "/" + filled.lstrip("/")


@hookimpl(trylast=True)
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult | None:
    """Request the declared endpoint; healthy when the declared status comes back."""
    spec = provider.health_check
    if spec is None or spec.endpoint is None or provider.api is None:
        return None
    from .checks import http_check

    return http_check(
        provider,
        credentials,
        min(timeout, spec.timeout_seconds),
        url=endpoint_url(provider, spec.endpoint, credentials),
        method=spec.method,
        expected_status=spec.expected_status,
    )
