"""``/metrics``: the PRD's success metrics in the Prometheus text format.

Counters and histograms are fed by the API routes (setup attempts, token
reads, tests and their recovery action) and by the service's change events
(health transitions); health per provider is read from the store when
scraped. Labels are provider ids, actions, outcomes and error class names:
never a credential, a project id or a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

if TYPE_CHECKING:
    from ..health.events import ChangeEvent
    from ..service import IntegrationService

__all__ = ["Metrics"]

_HEALTH_STATES = ("unknown", "healthy", "degraded", "failed", "disabled")


class _HealthCollector:
    """``navi_provider_health{provider,state}``: 1 for each provider's current state."""

    def __init__(self, service: IntegrationService) -> None:
        self._service = service

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "navi_provider_health",
            "Health of each provider in the user scope (1 for the current state)",
            labels=["provider", "state"],
        )
        try:
            items = self._service.status()
        except Exception:  # a scrape must answer even when the store does not
            items = []
        for item in items:
            for state in _HEALTH_STATES:
                family.add_metric([item.provider, state], 1.0 if item.health == state else 0.0)
        yield family


class Metrics:
    """The server's metrics, in a registry of their own (one per app)."""

    def __init__(self, service: IntegrationService) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.setup_attempts = Counter(
            "navi_setup_attempts", "Connect attempts (API)", ["provider"], registry=r
        )
        self.setup_successes = Counter(
            "navi_setup_successes", "Connects that saved credentials", ["provider"], registry=r
        )
        self.setup_seconds = Histogram(
            "navi_setup_duration_seconds",
            "Time a connect took, its live test included",
            ["provider", "outcome"],
            registry=r,
        )
        self.first_use_seconds = Histogram(
            "navi_time_to_first_use_seconds",
            "Time from a connect to the first successful use (token read or test)",
            ["provider"],
            buckets=(1, 5, 15, 30, 60, 120, 300, 900, 3600, float("inf")),
            registry=r,
        )
        self.recovery = Counter(
            "navi_recovery_outcomes",
            "Failed checks by the recovery action they call for",
            ["provider", "action"],
            registry=r,
        )
        self.calls = Counter(
            "navi_api_calls", "API calls about a provider", ["provider", "endpoint"], registry=r
        )
        self.errors = Counter(
            "navi_api_errors",
            "API calls about a provider that failed",
            ["provider", "endpoint", "error"],
            registry=r,
        )
        self.token_reads = Counter(
            "navi_token_reads", "Token reads through the API", ["provider", "outcome"], registry=r
        )
        self.health_changes = Counter(
            "navi_health_transitions",
            "Health transitions seen by this server",
            ["provider", "after"],
            registry=r,
        )
        r.register(_HealthCollector(service))
        self._connected_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def connected(self, provider_id: str) -> None:
        """A connect saved credentials: time to first use starts now."""
        with self._lock:
            self._connected_at[provider_id] = time.monotonic()

    def used(self, provider_id: str) -> None:
        """A successful use: the first after a connect is observed."""
        with self._lock:
            started = self._connected_at.pop(provider_id, None)
        if started is not None:
            self.first_use_seconds.labels(provider_id).observe(time.monotonic() - started)

    def on_change(self, event: ChangeEvent) -> None:
        """Count health transitions (subscribed to the service)."""
        if event.kind == "health":
            self.health_changes.labels(event.provider, event.after).inc()

    def render(self) -> bytes:
        """The text exposition."""
        return bytes(generate_latest(self.registry))

    def failure(self, provider_id: str, endpoint: str, error: Any) -> None:
        """Count a failed API call (``error``: the exception, by class name)."""
        self.errors.labels(provider_id, endpoint, type(error).__name__).inc()
