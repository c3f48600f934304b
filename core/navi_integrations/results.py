"""Values returned by per-provider hooks."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HealthResult"]


@dataclass(frozen=True)
class HealthResult:
    """Outcome of one health check.

    ``account`` names who the credentials belong to (shown as "Connected as
    …"); ``message`` says why a check failed, without any secret;
    ``http_status`` and ``retry_after`` (seconds) carry what the provider
    answered, for error classification.
    """

    ok: bool
    message: str = ""
    account: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
