"""The providers one gateway fronts: which are in, their upstreams and listings, and one
recovered request to each.

A request runs under the core's recovery rules
(:func:`~navi_integrations.health.recovery.run_with_recovery`) in a worker thread, since
its store reads, token refreshes and health writes block. Once such a request has
succeeded, the provider is *warm* for :data:`WARM_SECONDS`: its upstream is open with the
credentials in effect, and nothing in the store has changed since (the gateway's change
marker, see :meth:`Providers.cool`), so the next requests go straight to the upstream on
the event loop. The first failure of a warm request is handed to the recovery rules as
their first attempt, so retries, refresh and advice are exactly those of a cold request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import Advice, IntegrationError, NaviError, ProviderFailure, UpstreamCrashed
from ..scopes import Scope
from .parts import GatewaySettings, Listing, ProviderState, load_listings, save_listing, shape_key
from .upstream import Upstream

if TYPE_CHECKING:
    import anyio
    from mcp import ClientSession

    from ..health.recovery import CallContext, RecoveryPolicy
    from ..models import Credentials
    from ..service import IntegrationService
    from .bookkeeping import Bookkeeping

__all__ = ["CALL_THREADS", "WARM_SECONDS", "Providers"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

#: Calls in flight at once, each holding a worker thread while its recovery rules run
#: (more wait for a thread; the upstream requests themselves run on the event loop).
CALL_THREADS = 64

#: Seconds a provider stays warm after a recovered request succeeded: its next requests skip
#: the store (credentials, shared Retry-After, health), so one request in this long reads it.
WARM_SECONDS = 10.0


class Providers:
    """The gateway's providers of one scope (see the module docstring)."""

    def __init__(
        self,
        service: IntegrationService,
        bookkeeping: Bookkeeping,
        *,
        project_id: str | None,
        settings: GatewaySettings,
        listings_path: Path,
        on_change: Callable[[], Awaitable[None]],
    ) -> None:
        self._service = service
        self._bookkeeping = bookkeeping
        self._project_id = project_id
        self._scope = Scope.of(project_id)
        self._settings = settings
        self._listings_path = listings_path
        self._on_change = on_change
        self._states: dict[str, ProviderState] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._limiter: anyio.CapacityLimiter | None = None

    def get(self, provider_id: str) -> ProviderState | None:
        return self._states.get(provider_id)

    # -- which providers -------------------------------------------------------

    def sync(self) -> tuple[set[str], list[Upstream]]:
        """Read which providers are in (blocking: run in a thread).

        Returns the ids that came or went (a provider whose credentials moved
        scope counts) and the upstreams to close.
        """
        current: dict[str, tuple[str, str | None]] = {}
        for item in self._service.status(project_id=self._project_id):
            state = item.effective
            if not (state.connected and state.enabled and state.mcp_enabled):
                continue
            if not self._service.catalog.document(item.provider).get("mcp"):
                continue
            current[item.provider] = (item.name, state.credential_scope)
        changed: set[str] = set()
        closing: list[Upstream] = []
        for pid, known in list(self._states.items()):
            if pid not in current or current[pid][1] != known.credential_scope:
                changed.add(pid)
                del self._states[pid]
                if known.upstream is not None:
                    closing.append(known.upstream)
        for pid, (name, credential_scope) in current.items():
            if pid not in self._states:
                changed.add(pid)
                self._states[pid] = ProviderState(pid, name, credential_scope)
        return changed, closing

    def cool(self) -> None:
        """Something changed in the store: every provider's next request reads it again."""
        for state in self._states.values():
            state.warm_until = 0.0

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        async def run() -> None:
            await coroutine

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(
            *(p.upstream.close() for p in self._states.values() if p.upstream),
            return_exceptions=True,
        )

    # -- upstream connections --------------------------------------------------

    def _server_config(self, provider_id: str, credentials: Credentials) -> Any:
        server = self._service.registry.mcp_config(provider_id, credentials)
        if server is None:
            raise ProviderFailure("plugin", f"{provider_id} has no MCP server")
        return server

    async def _upstream(self, state: ProviderState, server: Any) -> Upstream:
        """The open upstream for this server config (filled with the credentials): (re)opened
        when they changed or it died."""
        fingerprint = hashlib.sha256(server.model_dump_json().encode()).hexdigest()
        async with state.lock:
            current = state.upstream
            if current is not None and current.alive and current.fingerprint == fingerprint:
                return current
            if current is not None:  # new credentials (a renewed token) or a dead connection
                await current.close()
            upstream = Upstream(
                state.provider_id,
                state.name,
                server,
                fingerprint=fingerprint,
                connect_timeout=self._settings.connect_timeout,
                on_notification=lambda note: self._upstream_notification(state, note),
            )
            state.upstream = None
            await upstream.start()
            state.upstream = upstream
            if state.listing is not None:  # listed from the saved listing: check it is current
                self.spawn(self._relist(state, upstream, shape_key(server)))
            return upstream

    async def _upstream_notification(self, state: ProviderState, note: Any) -> None:
        from mcp import types

        if isinstance(
            note,
            types.ToolListChangedNotification
            | types.ResourceListChangedNotification
            | types.PromptListChangedNotification,
        ):
            upstream = state.upstream
            if upstream is not None:
                self.spawn(self._relist(state, upstream, None))

    async def _relist(self, state: ProviderState, upstream: Upstream, key: str | None) -> None:
        try:
            listing = await self._fetch_listing(upstream)
        except Exception:
            return
        if state.listing is not None and listing.to_json() == state.listing.to_json():
            return
        state.listing = listing
        if key is not None:
            await asyncio.to_thread(save_listing, self._listings_path, key, listing)
        await self._on_change()

    async def _fetch_listing(self, upstream: Upstream) -> Listing:
        caps = upstream.capabilities
        timeout = self._settings.call_timeout

        async def dump(call: Callable[[ClientSession], Awaitable[Any]], attr: str) -> list[Any]:
            result = await upstream.request(call, timeout)
            return [item.model_dump(mode="json", by_alias=True) for item in getattr(result, attr)]

        listing = Listing()
        if caps is None or caps.tools is not None:
            listing.tools = await dump(lambda s: s.list_tools(), "tools")
        if caps is not None and caps.resources is not None:
            listing.resources = await dump(lambda s: s.list_resources(), "resources")
            listing.templates = await dump(
                lambda s: s.list_resource_templates(), "resourceTemplates"
            )
        if caps is not None and caps.prompts is not None:
            listing.prompts = await dump(lambda s: s.list_prompts(), "prompts")
        return listing

    # -- one recovered request -------------------------------------------------

    async def invoke(
        self,
        state: ProviderState,
        call: Callable[[ClientSession], Awaitable[T]],
        *,
        policy: RecoveryPolicy | None = None,
    ) -> T:
        """Run ``call`` on the provider's upstream under the recovery rules.

        Raises :class:`IntegrationError` when it gives up (or while the provider
        is isolated); a crashed stdio child is restarted once per request.
        """
        now = time.monotonic()
        if state.isolated_until > now:
            wait = state.isolated_until - now
            raise IntegrationError(
                state.provider_id,
                "retry_later",
                f"{state.name} is paused after {state.failures} failed calls in a row "
                f"(last: {state.last_error.rstrip('.')}); the gateway tries it again in "
                f"{wait:.0f} s, other integrations are not affected",
                kind="isolated",
                advice=Advice("retry_later", f"navi-int test {state.provider_id}"),
            )
        upstream = state.upstream
        first_failure: BaseException | None = None
        restarted = False
        if state.warm_until > now and upstream is not None and upstream.alive:
            timeout = min(self._settings.call_timeout, self._settings.budget)
            try:
                result = await upstream.request(call, timeout)
            except UpstreamCrashed:
                restarted = True  # the cold path opens it again: that is this request's restart
            except Exception as exc:
                first_failure = exc
            else:
                self._bookkeeping.success(state)
                return result
            state.warm_until = 0.0
        return await self._recovered(state, call, policy, first_failure, restarted)

    async def _recovered(
        self,
        state: ProviderState,
        call: Callable[[ClientSession], Awaitable[T]],
        policy: RecoveryPolicy | None,
        first_failure: BaseException | None,
        restarted: bool,
    ) -> T:
        """The cold path: the recovery rules in a worker thread, each attempt's MCP request
        back on the event loop, where the upstreams live.

        The rules read the credentials (maybe renewing an OAuth token over HTTP), the
        shared Retry-After and the health row, and write health, all blocking; on the
        event loop, one slow refresh would stall every other agent's call.
        """
        import anyio.from_thread
        import anyio.to_thread

        from ..health.recovery import run_with_recovery
        from ..store.reads import refresh_due, refresh_margin

        policy = policy or self._settings.policy()
        deadline = time.monotonic() + self._settings.budget
        warm_for: list[bool] = []

        async def attempt(server: Any) -> T:
            nonlocal restarted
            timeout = max(0.5, min(self._settings.call_timeout, deadline - time.monotonic()))
            upstream = await self._upstream(state, server)
            try:
                return await upstream.request(call, timeout)
            except UpstreamCrashed:
                if restarted:
                    raise
                restarted = True  # once per request: a child that dies again is reported
                upstream = await self._upstream(state, server)
                return await upstream.request(call, timeout)

        contexts: list[CallContext] = []

        def recover() -> T:  # in a worker thread
            context = self._service.recovery_context(state.provider_id, project_id=self._project_id)
            contexts.append(context)
            # Warm only while the token outlives the warm period by the refresh margin.
            margin = refresh_margin() + WARM_SECONDS

            def on_the_loop(credentials: Credentials) -> T:
                server = self._server_config(state.provider_id, credentials)
                result = anyio.from_thread.run(attempt, server)
                warm_for.append(not refresh_due(context.auth_type, credentials, margin, _ms()))
                return result

            return run_with_recovery(context, on_the_loop, policy, first_failure=first_failure)

        try:
            result = await anyio.to_thread.run_sync(recover, limiter=self._call_threads())
        except IntegrationError as exc:
            self._failed(state, exc)
            raise
        except NaviError as exc:  # the plugin or the store, while building the upstream
            if not contexts:
                raise  # the provider itself is gone: not a failure of its calls
            error = IntegrationError(
                state.provider_id, "fail", exc.message, kind="plugin", advice=exc.advice
            )
            self._failed(state, error)
            raise error from None
        state.failures = 0
        if warm_for and warm_for[-1]:
            state.warm_until = time.monotonic() + WARM_SECONDS
        self._bookkeeping.success(state)
        return result

    def _call_threads(self) -> anyio.CapacityLimiter:
        """The gateway's own worker threads for calls in flight (made on the event loop)."""
        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(CALL_THREADS)
        return self._limiter

    def _failed(self, state: ProviderState, error: IntegrationError) -> None:
        state.warm_until = 0.0
        if error.action == "reauth":
            return  # the user must act; isolating would only hide the advice
        state.failures += 1
        state.last_error = error.message
        if state.failures >= self._settings.isolate_after:
            state.isolated_until = time.monotonic() + self._settings.isolate_seconds
            upstream, state.upstream = state.upstream, None
            if upstream is not None:
                self.spawn(upstream.close())

    # -- listings --------------------------------------------------------------

    async def listings(self, only: ProviderState | None = None) -> list[ProviderState]:
        """Every provider (or ``only`` one) with its listing: saved ones as they are, others
        started now."""
        states = [only] if only is not None else list(self._states.values())
        missing = [s for s in states if s.listing is None]
        if missing:
            saved = await asyncio.to_thread(load_listings, self._listings_path)
            keys = await asyncio.gather(*(self._shape_key(s) for s in missing))
            unknown = []
            for state, key in zip(missing, keys, strict=True):
                if key is not None and key in saved:
                    state.listing = Listing(**saved[key])
                else:
                    unknown.append((state, key))
            await asyncio.gather(*(self._list_live(s, k) for s, k in unknown))
        return [s for s in states if s.listing is not None]

    async def _shape_key(self, state: ProviderState) -> str | None:
        def key() -> str | None:
            credentials = self._service.credentials_in_scope(
                state.provider_id, self._scope, touch=False, fresh=False
            )[0]
            return shape_key(self._server_config(state.provider_id, credentials))

        try:
            return await asyncio.to_thread(key)
        except Exception:
            return None

    async def _list_live(self, state: ProviderState, key: str | None) -> None:
        from ..health.recovery import RecoveryPolicy

        policy = RecoveryPolicy(max_attempts=2, budget_seconds=min(10.0, self._settings.budget))

        async def listing(_session: ClientSession) -> Listing:
            assert state.upstream is not None
            return await self._fetch_listing(state.upstream)

        try:
            found = await self.invoke(state, listing, policy=policy)
        except IntegrationError as exc:
            _log.warning("navi-gateway: %s left out: %s", state.provider_id, exc)
            return
        state.listing = found
        if key is not None:
            await asyncio.to_thread(save_listing, self._listings_path, key, found)


def _ms() -> int:
    return int(time.time() * 1000)
