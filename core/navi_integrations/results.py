"""Values returned by per-provider hooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .errors import Advice

__all__ = ["ConnectResult", "FailureKind", "Health", "HealthResult", "TestResult"]

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
    "plugin",  # the plugin's own code failed (a bug to report to its author)
    "not_connected",  # no credentials in the scope
    "disabled",  # switched off in the scope
    "store",  # the stored credentials cannot be read (key, damaged row)
]


@dataclass(frozen=True)
class HealthResult:
    """Outcome of one health check.

    ``account`` names who the credentials belong to (shown as "Connected as
    …"); ``message`` says why a check failed, without any secret; ``kind``
    classifies the failure for recovery; ``http_status`` and ``retry_after``
    (seconds) carry what the provider answered; ``advice`` is the plugin's
    own advice for this failure, shown instead of the generic one: a text
    (e.g. "check baseUrl: it does not answer like a Sentry server") or an
    :class:`Advice` naming the command that fixes it (e.g.
    ``Advice("login", "gh auth login --hostname github.com")``).
    """

    ok: bool
    message: str = ""
    account: str | None = None
    kind: FailureKind | None = None
    http_status: int | None = None
    retry_after: float | None = None
    advice: str | Advice | None = None

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
        advice: str | Advice | None = None,
    ) -> HealthResult:
        """A failing check of the given kind (``advice``: the plugin's own fix, if any)."""
        return cls(False, message, None, kind, http_status, retry_after, advice)


@dataclass(frozen=True)
class ConnectResult:
    """What ``IntegrationService.connect`` did: saved or not, tested or not, and why.

    ``check`` is the live test's outcome (``None`` when not tested: ``test``
    was off or the provider has no health check); ``advice`` says what to do
    when nothing was saved.
    """

    provider: str
    project_id: str | None
    saved: bool
    tested: bool
    check: HealthResult | None = None
    account: str | None = None
    advice: Advice | None = None
    #: The recovery action (``reauth``, ``wait``, ``retry_later``, ``fail``) when not saved.
    action: str | None = None
    #: The name of the account it was stored as (``account`` is the identity the check
    #: reported); ``None`` when nothing was saved.
    account_name: str | None = None

    @property
    def kind(self) -> FailureKind | None:
        """The failure kind when the test failed."""
        return None if self.check is None or self.check.ok else self.check.kind

    def to_document(self) -> dict[str, Any]:
        """JSON form (camelCase), as the HTTP API returns it."""
        return {
            "provider": self.provider,
            "projectId": self.project_id,
            "saved": self.saved,
            "tested": self.tested,
            "account": self.account,
            "accountName": self.account_name,
            "ok": self.saved,
            "message": None if self.check is None else self.check.message,
            "kind": self.kind,
            "action": self.action,
            "advice": None if self.advice is None else self.advice.to_document(),
        }


@dataclass(frozen=True)
class TestResult:
    """The outcome of testing a provider's stored credentials, with advice when it failed."""

    __test__ = False  # not a pytest test class

    provider: str
    project_id: str | None
    check: HealthResult
    advice: Advice | None = None
    #: The recovery action (``reauth``, ``wait``, ``retry_later``, ``fail``) when it failed.
    action: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the check passed."""
        return self.check.ok

    def to_document(self) -> dict[str, Any]:
        """JSON form (camelCase)."""
        return {
            "provider": self.provider,
            "projectId": self.project_id,
            "ok": self.check.ok,
            "message": self.check.message,
            "account": self.check.account,
            "kind": self.check.kind,
            "action": self.action,
            "advice": None if self.advice is None else self.advice.to_document(),
        }
