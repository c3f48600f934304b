"""Built-in plugin: a health check from the provider's declared ``healthCheck`` endpoint.

Answers last (``trylast``), for providers whose plugin has no health check
of its own and for user-defined TOML providers: it sends one authenticated
request to the endpoint and expects the declared status.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..models import Credentials, IntegrationProvider
from ..results import HealthResult


def endpoint_url(provider: IntegrationProvider, endpoint: str) -> str:
    """A named URL of the provider, or a path relative to its (overridable) API base URL."""
    if endpoint in provider.endpoints():
        return provider.url(endpoint)
    if endpoint.startswith(("http://", "https://")):
        return endpoint
    return provider.url("api").rstrip("/") + "/" + endpoint.lstrip("/")


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
        url=endpoint_url(provider, spec.endpoint),
        method=spec.method,
        expected_status=spec.expected_status,
    )
