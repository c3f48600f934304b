"""Health workflows: record outcomes, check live, test with advice, and the health details
a settings page shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import (
    IntegrationDisabled,
    NaviError,
    NotConnected,
    OAuthFailed,
    scope_label,
)
from ..scopes import Scope
from ..statuses import error_needs_advice, granted_services, project_switches

if TYPE_CHECKING:
    from ..documents import ProviderStatus
    from ..health.tracker import HealthRecord
    from ..models import Credentials
    from ..results import FailureKind, HealthResult, TestResult
    from ._parts import Parts
    from .advice import Advisor
    from .credentials import CredentialReads
    from .switches import Switches

__all__ = ["HealthChecks"]


class HealthChecks:
    """Checks (live or recorded) and the details of each provider's health."""

    def __init__(
        self, parts: Parts, credentials: CredentialReads, advisor: Advisor, switches: Switches
    ) -> None:
        self._parts = parts
        self._credentials = credentials
        self._advisor = advisor
        self._switches = switches

    def health_record(self, provider_id: str, *, project_id: str | None = None) -> HealthRecord:
        """The health of the credentials in effect for the scope (account, errors, …)."""
        self._parts.catalog.document(provider_id)
        return self._parts.health.get(provider_id, Scope.of(project_id))

    def record_success(
        self, provider_id: str, *, project_id: str | None = None, account: str | None = None
    ) -> None:
        """Note a successful call or check: errors reset, health healthy."""
        from ..results import HealthResult

        self._record(provider_id, project_id, HealthResult.healthy(account))

    def record_error(
        self,
        provider_id: str,
        error: str,
        *,
        project_id: str | None = None,
        kind: FailureKind = "unavailable",
        retry_after: float | None = None,
    ) -> None:
        """Note a failed call; the message is stored with any credential value redacted."""
        from ..results import HealthResult

        self._record(
            provider_id, project_id, HealthResult.failed(kind, error, retry_after=retry_after)
        )

    def _record(self, provider_id: str, project_id: str | None, result: HealthResult) -> None:
        scope = Scope.of(project_id)
        self._parts.catalog.document(provider_id)
        if self._parts.health.record(provider_id, result, scope) is None:
            raise NotConnected(provider_id, project_id)

    def check(
        self, provider_id: str, *, project_id: str | None = None, timeout: float = 10.0
    ) -> HealthResult:
        """Run the provider's health check on the stored credentials and record the outcome.

        A provider without a health check answers ``ok`` with "not tested"
        (``kind`` None, nothing recorded).
        """
        from ..results import HealthResult

        scope = Scope.of(project_id)
        # A CLI provider's check asks its CLI itself, login included: its runtime values
        # (e.g. gh's token) are not fetched first, or a logged-out CLI would be an error.
        fresh = self._parts.catalog.document(provider_id)["authType"] != "cli"
        credentials, row_scope = self._credentials.credentials_in_scope(
            provider_id, scope, require_enabled=False, fresh=fresh
        )
        result = self.check_values(provider_id, credentials, timeout=timeout)
        if result is None:
            return HealthResult(True, "not tested: the provider has no health check")
        self._parts.health.record(provider_id, result, scope, row_scope=row_scope)
        return result

    def check_values(
        self,
        provider_id: str,
        credentials: Credentials | Mapping[str, str],
        *,
        timeout: float = 10.0,
    ) -> HealthResult | None:
        """Run the health check on values that are not stored (test before configure).

        ``None`` when the provider has no health check. A plugin that raises
        becomes a ``plugin`` failure naming its distribution.
        """
        from ..errors import PluginError
        from ..models import Credentials
        from ..results import HealthResult

        creds = credentials if isinstance(credentials, Credentials) else Credentials(credentials)
        try:
            return self._parts.registry.health_check(provider_id, creds, timeout)
        except PluginError as exc:
            return HealthResult.failed(
                "plugin", f"the health check failed inside {exc.origin}: {exc.message}"
            )

    def test(
        self, provider_id: str, *, project_id: str | None = None, timeout: float = 10.0
    ) -> TestResult:
        """Check the stored credentials live: the outcome, recorded, with advice when it failed."""
        from ..errors import DecryptionFailed
        from ..results import HealthResult, TestResult

        self._parts.catalog.document(provider_id)  # an unknown provider is bad input, not a result
        try:
            result = self.check(provider_id, project_id=project_id, timeout=timeout)
        except (NotConnected, IntegrationDisabled) as exc:
            kind: FailureKind = "not_connected" if isinstance(exc, NotConnected) else "disabled"
            state = "not connected" if kind == "not_connected" else "disabled"
            # The result names the provider already: "notion: not connected (user scope)".
            result = HealthResult.failed(kind, f"{state} ({scope_label(project_id)})")
            return TestResult(provider_id, project_id, result, exc.advice, "fail")
        except DecryptionFailed as exc:
            result = HealthResult.failed("store", exc.message)
            return TestResult(provider_id, project_id, result, exc.advice, "fail")
        except NaviError as exc:  # e.g. a refused refresh: this provider's test failed, alone
            result = HealthResult.failed(_failure_kind(exc), exc.message)
            return TestResult(provider_id, project_id, result, exc.advice, "fail")
        if result.ok:
            return TestResult(provider_id, project_id, result)
        action, advice = self._advisor.classify(provider_id, result, project_id=project_id)
        return TestResult(provider_id, project_id, result, advice, action)

    def test_all(
        self,
        *,
        project_id: str | None = None,
        timeout: float = 10.0,
        progress: Callable[[TestResult, int, int], None] | None = None,
    ) -> list[TestResult]:
        """:meth:`test` for every connected provider in the scope, concurrently.

        ``progress(result, done, total)`` is called as each check finishes.
        """
        from concurrent.futures import ThreadPoolExecutor, as_completed

        targets = [
            s.provider
            for s in self._switches.status(project_id=project_id)
            if s.effective.connected
        ]
        if not targets:
            return []
        _ = self._parts.registry  # load the plugins once, before the worker threads
        results: list[TestResult] = []
        with ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
            futures = [
                pool.submit(self.test, t, project_id=project_id, timeout=timeout) for t in targets
            ]
            for future in as_completed(futures):
                results.append(future.result())
                if progress is not None:
                    progress(results[-1], len(results), len(targets))
        return sorted(results, key=lambda r: r.provider)

    def health_details(
        self, items: Iterable[ProviderStatus], *, project_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """What a settings page shows beside each status entry (camelCase keys).

        For every provider, in a project's context: ``projectSwitches``, the
        project's own switches (``enabled``, ``mcpEnabled``, ``skillEnabled``;
        null where unset, i.e. inherited from the global ones); null without a
        project.

        For every connected provider: ``account`` ("Connected as …"),
        ``lastCheckAt``, ``lastError`` (``{message, advice}``, the stored error
        text with the fix for it) and, for OAuth providers, the granted
        ``services``. The advice is the recovery rules' for the stored failure
        kind (a live Retry-After makes it a wait).
        """
        from ..health.tracker import FAILED_AFTER_ERRORS
        from ..results import HealthResult

        listed = list(items)
        own = (
            self._parts.queries.credentials.own_switches(
                [i.provider for i in listed], Scope.of(project_id)
            )
            if project_id
            else {}
        )
        found: dict[str, dict[str, Any]] = {}
        for item in listed:
            switches = project_switches(own.get(item.provider)) if project_id else None
            found[item.provider] = {
                "account": None,
                "lastCheckAt": None,
                "lastError": None,
                "projectSwitches": switches,
            }
            if not item.effective.connected:
                continue
            record = self.health_record(item.provider, project_id=project_id)
            detail = found[item.provider]
            detail.update(account=record.account, lastCheckAt=record.last_check_at)
            if record.last_error and error_needs_advice(record.status, record.last_error):
                kind: FailureKind = record.error_kind or "unavailable"
                if record.rate_limited:
                    kind = "rate_limited"
                elif (
                    record.error_kind is None
                    and record.status == "failed"
                    and record.error_count < FAILED_AFTER_ERRORS
                ):
                    # Recorded before kinds were kept: a failure before three errors in a
                    # row needed the user; three transient ones in a row did not.
                    kind = "not_logged_in" if item.auth_type == "cli" else "auth"
                failure = HealthResult.failed(kind, record.last_error)
                _, advice = self._advisor.classify(item.provider, failure, project_id=project_id)
                detail["lastError"] = {
                    "message": record.last_error,
                    "advice": None if advice is None else advice.to_document(),
                }
            if item.auth_type == "oauth":
                detail["services"] = self._granted_services(item.provider, project_id)
        return found

    def _granted_services(self, provider_id: str, project_id: str | None) -> list[str]:
        doc = self._parts.catalog.document(provider_id)
        try:
            creds, _ = self._credentials.credentials_in_scope(
                provider_id, Scope.of(project_id), touch=False, require_enabled=False, fresh=False
            )
        except NaviError:
            return []
        return granted_services(doc, creds.reveal("scope") if "scope" in creds else None)


def _failure_kind(exc: NaviError) -> FailureKind:
    """The failure kind of an error that stopped a check before it ran."""
    from ..errors import ConfigurationError, ProviderError, StoreError

    if isinstance(exc, StoreError):
        return "store"
    if isinstance(exc, ConfigurationError):
        return "plugin"
    if isinstance(exc, ProviderError) and not isinstance(exc, OAuthFailed):
        return "unavailable"
    return "auth"  # credentials refused or not renewable: sign in again
