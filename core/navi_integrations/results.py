"""Values returned by per-provider hooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["FailureKind", "Health", "HealthResult"]

#: A provider's health in a scope (see :mod:`navi_integrations.health.tracker`).
Health = Literal["unknown", "healthy", "degraded", "failed", "disabled"]

#: Why a check or call failed, as the recovery layer classifies it.
FailureKind = Literal[
    "auth",  # credentials refused (401, invalid_auth, bad credentials)
    "forbidden",  # authenticated but not allowed (403, missing scope)
    "not_logged_in",  # a CLI provider has no login
    "rate_limited",  # 429 (retry_after says how long)
    "unavailable",  # 5xx from the provider
    "timeout",  # no answer in time
    "unreachable",  # connection refused, reset, DNS failure
    "bad_response",  # malformed or unexpected answer
    "not_installed",  # the provider's CLI is missing
]


@dataclass(frozen=True)
class HealthResult:
    """Outcome of one health check.

    ``account`` names who the credentials belong to (shown as "Connected as
    …"); ``message`` says why a check failed, without any secret; ``kind``
    classifies the failure for recovery; ``http_status`` and ``retry_after``
    (seconds) carry what the provider answered.
    """

    ok: bool
    message: str = ""
    account: str | None = None
    kind: FailureKind | None = None
    http_status: int | None = None
    retry_after: float | None = None

    @classmethod
    def healthy(cls, account: str | None = None, message: str = "") -> HealthResult:
        """A passing check; ``message`` defaults to "Connected as <account>"."""
        return cls(
            True, message or (f"Connected as {account}" if account else "Connected"), account
        )

    @classmethod
    def failed(
        cls,
        kind: FailureKind,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> HealthResult:
        """A failing check of the given kind."""
        return cls(False, message, None, kind, http_status, retry_after)
