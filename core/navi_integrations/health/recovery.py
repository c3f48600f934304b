"""Error recovery (PRD F4): classify failures, retry what can be retried, say what to do.

::

    from navi_integrations import call_with_recovery

    def list_issues(credentials):
        response = httpx.post(url, headers={"Authorization": credentials.reveal("apiKey")}, ...)
        response.raise_for_status()
        return response.json()

    issues = call_with_recovery("linear", list_issues, project_id="acme")

The call either returns the function's result or raises :class:`IntegrationError`
carrying one action:

========== ==================================================================
retry      transient (5xx, timeout, reset): retried with exponential backoff and
           full jitter, inside a total time budget
wait       rate limited: the Retry-After (seconds or HTTP date) is honoured by
           every process using the same credentials; past ``max_wait`` the
           caller is told to wait instead of being blocked
reauth     credentials refused: one refresh-then-retry for OAuth providers,
           else the message says which command fixes it
retry_later the provider stayed unavailable for the whole budget
fail       anything else (malformed answers, bad requests)
========== ==================================================================

Each failed attempt and each recovery is recorded by the health tracker.
Retries use tenacity; ``NAVI_<PROVIDER>_MAX_CONCURRENCY`` (or the policy)
bounds concurrent calls per provider in this process.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..errors import Advice, IntegrationError, NaviError, scope_flag
from ..results import FailureKind, HealthResult
from ..scopes import Scope

if TYPE_CHECKING:
    from ..models import Credentials
    from .tracker import HealthTracker

__all__ = [
    "Action",
    "CallContext",
    "IntegrationError",
    "RecoveryPolicy",
    "classify",
    "run_with_recovery",
    "run_with_recovery_async",
]

T = TypeVar("T")
Action = Literal["retry", "wait", "reauth", "retry_later", "fail"]

_TRANSIENT: frozenset[FailureKind] = frozenset({"unavailable", "timeout", "unreachable"})


def _uncertain(failure: HealthResult) -> bool:
    """Whether the provider may have done what was asked before failing: a timeout, or a
    5xx other than 503 (which says the request was not taken)."""
    if failure.kind == "timeout":
        return True
    return failure.kind == "unavailable" and failure.http_status != 503


_REAUTH: frozenset[FailureKind] = frozenset({"auth", "forbidden", "not_logged_in"})


@dataclass(frozen=True)
class RecoveryPolicy:
    """Bounds of one recovered call."""

    max_attempts: int = 5
    budget_seconds: float = 30.0
    base_delay: float = 0.2
    max_delay: float = 8.0
    #: The longest Retry-After a caller is made to sleep; longer ones raise ``wait``.
    max_wait: float = 60.0
    #: Concurrent calls per provider in this process (None: NAVI_<ID>_MAX_CONCURRENCY or no limit).
    max_concurrency: int | None = None
    #: Retry failures after which the request may have been carried out anyway (a timeout,
    #: a 5xx but 503). Off for calls that must not run twice (a tool that is not idempotent):
    #: a refused connection, a 503, a 429 and a refreshed 401 are still retried.
    retry_uncertain: bool = True


def classify(
    provider_id: str,
    name: str,
    auth_type: str,
    failure: HealthResult,
    *,
    project_id: str | None = None,
    auth_command: str | None = None,
    connecting: bool = False,
) -> IntegrationError:
    """The action for a failure, with advice that says what to do.

    ``connecting``: the failure came from testing values the user is entering
    (``connect``), so reconnecting is not the advice — checking the values is.
    A plugin's own advice (``failure.advice``) replaces the generic one: an
    :class:`Advice` as it is, a text as its hint.
    """
    kind = failure.kind or "bad_response"
    own = failure.advice if isinstance(failure.advice, Advice) else None
    hint = failure.advice if isinstance(failure.advice, str) else None
    if kind in _REAUTH:
        if own is not None:  # e.g. Advice("login", "gh auth login --hostname …")
            advice = own
        elif hint:  # the plugin's own words say it best
            advice = Advice("login" if auth_command else "connect", hint=hint)
        elif auth_command:  # e.g. gh auth login: the provider's own CLI signs in
            advice = Advice("login", auth_command, hint=hint)
        elif connecting:
            advice = Advice(
                "fix_input", hint=hint or f"check the values you entered for {name} and try again"
            )
        else:
            advice = Advice(
                "connect", f"navi-int connect {provider_id}{scope_flag(project_id)}", hint=hint
            )
        return IntegrationError(
            provider_id, "reauth", failure.message, command=advice.command, kind=kind, advice=advice
        )
    if kind == "rate_limited":
        wait = failure.retry_after
        when = f" for {wait:.0f} s" if wait else ""
        return IntegrationError(
            provider_id,
            "wait",
            f"{failure.message}: wait{when} before calling {name} again",
            retry_after=wait,
            kind=kind,
            advice=own or Advice("wait", hint=hint),
        )
    if kind in _TRANSIENT:
        return IntegrationError(
            provider_id,
            "retry_later",
            f"{failure.message}. {name} is temporarily unavailable; try again later",
            kind=kind,
            advice=own or Advice("retry_later", hint=hint),
        )
    if kind == "plugin":
        return IntegrationError(
            provider_id,
            "fail",
            failure.message,
            kind=kind,
            advice=own or Advice("fix_plugin", hint=hint or "report it to the plugin's author"),
        )
    return IntegrationError(
        provider_id,
        "fail",
        f"Error accessing {name}: {failure.message}",
        kind=kind,
        advice=own or (Advice("none", hint=hint) if hint else None),
    )


@dataclass(frozen=True)
class CallContext:
    """What a recovered call needs, handed over by the service (never the service itself).

    ``load`` returns the credentials in effect and the scope of their row
    (raising :class:`~navi_integrations.errors.NotConnected` /
    ``IntegrationDisabled``); ``refresh(rejected_token)`` renews OAuth
    credentials.
    """

    provider_id: str
    name: str
    auth_type: str
    auth_command: str | None
    scope: Scope
    tracker: HealthTracker
    load: Callable[[], tuple[Credentials, Scope]]
    refresh: Callable[[str | None], Credentials]


class _Attempt(Exception):
    """Internal: one failed attempt, carrying its classification."""

    def __init__(self, failure: HealthResult, *, refreshed: bool = False) -> None:
        self.failure = failure
        self.refreshed = refreshed
        super().__init__(failure.message)


_limiters: dict[str, threading.BoundedSemaphore] = {}
_async_limiters: dict[tuple[int, str], asyncio.Semaphore] = {}
_limiters_lock = threading.Lock()


def _limit(provider_id: str, policy: RecoveryPolicy) -> int | None:
    if policy.max_concurrency is not None:
        return policy.max_concurrency
    raw = os.environ.get(f"NAVI_{provider_id.upper().replace('-', '_')}_MAX_CONCURRENCY")
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else None


def _limiter(provider_id: str, policy: RecoveryPolicy) -> threading.BoundedSemaphore | None:
    limit = _limit(provider_id, policy)
    if limit is None:
        return None
    with _limiters_lock:
        return _limiters.setdefault(f"{provider_id}:{limit}", threading.BoundedSemaphore(limit))


class _Call:
    """State shared by the sync and async drivers of one recovered call."""

    def __init__(self, context: CallContext, policy: RecoveryPolicy) -> None:
        self.context = context
        self.provider_id = context.provider_id
        self.project_id = context.scope.project_id
        self.policy = policy
        self.name = context.name
        self.auth_type = context.auth_type
        self.auth_command = context.auth_command
        self.tracker = context.tracker
        self.refreshed = False
        # The credentials and the row they come from, which health is kept for: one read.
        self.credentials, self.row_scope = self._load()
        self.started = time.monotonic()

    def _load(self) -> tuple[Credentials, Scope]:
        from ..errors import IntegrationDisabled, NotConnected

        try:
            return self.context.load()
        except NotConnected as exc:
            raise IntegrationError(
                self.provider_id,
                "reauth",
                exc.message,
                command=exc.advice.command if exc.advice else None,
                kind="auth",
                advice=exc.advice,
            ) from None
        except IntegrationDisabled as exc:
            raise IntegrationError(
                self.provider_id, "fail", exc.message, kind=None, advice=exc.advice
            ) from None

    def remaining(self) -> float:
        return self.policy.budget_seconds - (time.monotonic() - self.started)

    def shared_wait(self) -> float:
        """Seconds another process's Retry-After still asks us to wait (0 if none)."""
        until = self.tracker.rate_limited_until(self.provider_id, self.context.scope)
        return 0.0 if until is None else max(0.0, until - time.time())

    def too_long(self, wait: float) -> bool:
        return wait > self.policy.max_wait or wait > self.remaining()

    def give_up_waiting(self, wait: float) -> IntegrationError:
        failure = HealthResult.failed(
            "rate_limited", f"{self.name} is rate limiting requests", retry_after=wait
        )
        return self.classify(failure)

    def classify(self, failure: HealthResult) -> IntegrationError:
        return classify(
            self.provider_id,
            self.name,
            self.auth_type,
            failure,
            project_id=self.project_id,
            auth_command=self.auth_command,
        )

    def failed(self, exc: BaseException) -> _Attempt:
        """Record a failed attempt; maybe refresh OAuth credentials for one more try."""
        from .checks import failure_of

        failure = failure_of(self.name, exc)
        if failure is None:
            raise exc  # not a provider failure: the caller's bug, not ours to retry
        if failure.kind == "rate_limited" and failure.retry_after:
            self.tracker.hold(self.provider_id, self.row_scope, failure.retry_after)
        self.tracker.record(self.provider_id, failure, self.context.scope, row_scope=self.row_scope)
        if failure.kind == "auth" and self.auth_type == "oauth" and not self.refreshed:
            self.refreshed = True
            if self._refresh():
                return _Attempt(failure, refreshed=True)
        return _Attempt(failure)

    def _refresh(self) -> bool:
        rejected = (
            self.credentials.reveal("accessToken") if "accessToken" in self.credentials else None
        )
        try:
            self.credentials = self.context.refresh(rejected)
        except NaviError:
            return False
        return True

    def succeeded(self) -> None:
        status, errors = self.tracker.status_of(self.provider_id, self.row_scope)
        if status != "healthy" or errors:
            self.tracker.record(
                self.provider_id,
                HealthResult.healthy(),
                self.context.scope,
                row_scope=self.row_scope,
            )

    def retryable(self, exc: BaseException) -> bool:
        if not isinstance(exc, _Attempt):
            return False
        kind = exc.failure.kind
        if exc.refreshed:
            return True
        if kind == "rate_limited":
            return not self.too_long(exc.failure.retry_after or self.policy.base_delay)
        if not self.policy.retry_uncertain and _uncertain(exc.failure):
            return False
        return kind in _TRANSIENT

    def wait_for(self, exc: BaseException | None, attempt: int) -> float:
        import random

        if isinstance(exc, _Attempt):
            if exc.refreshed:
                return 0.0
            if exc.failure.kind == "rate_limited":
                return max(exc.failure.retry_after or 0.0, self.shared_wait())
        # Full jitter: uniform between 0 and the exponential cap.
        cap = min(self.policy.max_delay, self.policy.base_delay * (2 ** (attempt - 1)))
        return random.uniform(0, cap)

    def give_up(self, exc: BaseException) -> IntegrationError:
        if isinstance(exc, _Attempt):
            failure = exc.failure
            if failure.kind == "rate_limited":
                failure = HealthResult.failed(
                    "rate_limited",
                    failure.message,
                    retry_after=max(failure.retry_after or 0.0, self.shared_wait()) or None,
                )
            return self.classify(failure)
        raise exc


def _retrying_kwargs(call: _Call) -> dict[str, Any]:
    import tenacity

    def stop(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= call.policy.max_attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        return call.wait_for(exc, state.attempt_number) > call.remaining()

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return call.wait_for(exc, state.attempt_number)

    return {
        "stop": stop,
        "wait": wait,
        "retry": tenacity.retry_if_exception(call.retryable),
        "reraise": True,
    }


def run_with_recovery(
    context: CallContext,
    fn: Callable[[Credentials], T],
    policy: RecoveryPolicy | None = None,
    *,
    first_failure: BaseException | None = None,
) -> T:
    """Call ``fn(credentials)``, recovering what can be recovered (see the module docstring).

    Raises :class:`IntegrationError` when it gives up; exceptions that are
    not provider failures (anything :func:`navi_integrations.health.checks.failure_of`
    does not classify) propagate unchanged and are not retried.

    ``first_failure`` is what an attempt the caller already made raised (for example
    one made without reading the store): it counts as the first attempt, recorded and
    retried (or not) exactly as if ``fn`` had raised it.
    """
    import tenacity

    call = _Call(context, policy or RecoveryPolicy())
    limiter = _limiter(call.provider_id, call.policy)
    already = [first_failure] if first_failure is not None else []

    def attempt() -> T:
        if already:
            earlier = already.pop()
            raise call.failed(earlier) from earlier
        wait = call.shared_wait()
        if wait:
            if call.too_long(wait):
                raise call.give_up_waiting(wait)
            time.sleep(wait)
        try:
            if limiter is None:
                result = fn(call.credentials)
            else:
                with limiter:
                    result = fn(call.credentials)
        except Exception as exc:
            raise call.failed(exc) from exc
        call.succeeded()
        return result

    try:
        return tenacity.Retrying(**_retrying_kwargs(call))(attempt)
    except _Attempt as exc:
        raise call.give_up(exc) from None


async def run_with_recovery_async(
    context: CallContext,
    fn: Callable[[Credentials], Awaitable[T]],
    policy: RecoveryPolicy | None = None,
) -> T:
    """The async form of :func:`run_with_recovery` (``fn`` is a coroutine function).

    Waits use ``asyncio.sleep``; store reads and writes are short and run inline.
    """
    import tenacity

    call = _Call(context, policy or RecoveryPolicy())
    limit = _limit(call.provider_id, call.policy)
    semaphore = None
    if limit is not None:
        key = (id(asyncio.get_running_loop()), f"{call.provider_id}:{limit}")
        semaphore = _async_limiters.setdefault(key, asyncio.Semaphore(limit))

    async def attempt() -> T:
        wait = call.shared_wait()
        if wait:
            if call.too_long(wait):
                raise call.give_up_waiting(wait)
            await asyncio.sleep(wait)
        try:
            if semaphore is None:
                result = await fn(call.credentials)
            else:
                async with semaphore:
                    result = await fn(call.credentials)
        except Exception as exc:
            raise call.failed(exc) from exc
        call.succeeded()
        return result

    try:
        return await tenacity.AsyncRetrying(**_retrying_kwargs(call))(attempt)
    except _Attempt as exc:
        raise call.give_up(exc) from None
