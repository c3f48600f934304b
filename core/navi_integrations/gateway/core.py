"""The gateway: one MCP server in front of every enabled provider's MCP server.

What the agent sees is namespaced by provider: tool ``linear__create_issue``
is ``create_issue`` on Linear's server, prompt ``slack__summary`` likewise,
and resource ``file:///a`` of Slack is ``slack+file:///a``. What it never sees
is a credential: each upstream is opened here with the configs the service
builds from the store (``registry.mcp_config`` with ``credentials_in_scope``),
opened again when the credentials change (an OAuth token renewed ahead of
expiry, a reconnect), and stdio children get only their own variables.

Every request to an upstream runs under the core's recovery rules
(:func:`~navi_integrations.health.recovery.run_with_recovery`, in a worker
thread: its store reads, token refreshes and health writes block): 429
waits for its Retry-After (shared through the store), 5xx and timeouts retry
with backoff inside a budget, a 401 refreshes OAuth credentials once, and each
failed attempt is recorded by the health tracker. What cannot be recovered is
answered as a tool error with what happened and what fixes it. A stdio child
that dies is restarted once per call; a provider whose calls keep failing is
isolated for a while so the others stay quick.

Upstreams start on first use. ``tools/list`` is answered from the listing the
gateway saved last time (``<data dir>/gateway/listings.json``, keyed by the
server's command or URL, never its secrets) and only starts servers it knows
nothing about; when a live server's listing differs, or a provider is
connected, disconnected or switched while the gateway runs (noticed by polling
``service.change_marker()``), clients get ``notifications/tools/list_changed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import Advice, IntegrationError, NaviError, ProviderFailure
from ..scopes import Scope
from .handlers import Handlers
from .parts import (
    SEPARATOR,
    GatewaySettings,
    Listing,
    _default_listings_path,
    load_listings,
    save_listing,
    shape_key,
)
from .parts import ProviderState as _Provider
from .upstream import Upstream, UpstreamCrashed

if TYPE_CHECKING:
    import anyio
    from mcp import ClientSession, types
    from mcp.server.lowlevel import Server

    from ..health.recovery import CallContext, RecoveryPolicy
    from ..models import Credentials
    from ..service import IntegrationService

__all__ = ["SEPARATOR", "Gateway", "GatewaySettings"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

#: Calls in flight at once, each holding a worker thread while its recovery rules run
#: (more wait for a thread; the upstream requests themselves run on the event loop).
CALL_THREADS = 64


class Gateway(Handlers):
    """The MCP server fronting the providers of one scope (see the module docstring)."""

    def __init__(
        self,
        service: IntegrationService,
        *,
        project_id: str | None = None,
        settings: GatewaySettings | None = None,
        listings_path: Path | None = None,
    ) -> None:
        self.service = service
        self.project_id = project_id
        self.scope = Scope.of(project_id)
        self.settings = settings or GatewaySettings.from_env()
        self._listings_path = listings_path or _default_listings_path()
        self._providers: dict[str, _Provider] = {}
        self._sessions: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="navi-gateway-store")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._marker: tuple[Any, ...] | None = None
        self._calls_limiter: anyio.CapacityLimiter | None = None
        self.server = self._build_server()

    # -- the MCP server --------------------------------------------------------

    def _build_server(self) -> Server[Any, Any]:
        from mcp import types
        from mcp.server.lowlevel import Server

        from .._version import __version__

        server: Server[Any, Any] = Server(
            "navi-integrations",
            version=__version__,
            instructions="Tools of every connected integration, named <provider>__<tool>.",
        )
        handlers: dict[type, Callable[[Any], Awaitable[Any]]] = {
            types.ListToolsRequest: self._list_tools,
            types.CallToolRequest: self._call_tool,
            types.ListResourcesRequest: self._list_resources,
            types.ListResourceTemplatesRequest: self._list_templates,
            types.ReadResourceRequest: self._read_resource,
            types.ListPromptsRequest: self._list_prompts,
            types.GetPromptRequest: self._get_prompt,
        }
        for request_type, handler in handlers.items():
            server.request_handlers[request_type] = self._wrap(handler)
        return server

    def _wrap(self, handler: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        from mcp import types

        async def handle(request: Any) -> types.ServerResult:
            self._remember_session()
            return types.ServerResult(await handler(request))

        return handle

    def initialization_options(self) -> Any:
        """What the gateway announces: tools, resources and prompts, each with list_changed."""
        from mcp.server.lowlevel import NotificationOptions

        return self.server.create_initialization_options(
            NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
        )

    # -- lifetime --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Gateway]:
        """Watch the store while serving; close every upstream and flush writes at the end."""
        self._marker = await asyncio.to_thread(self.service.change_marker)
        await self._resync()
        watcher = asyncio.create_task(self._watch(), name="navi-gateway-watch")
        try:
            yield self
        finally:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(
                *(p.upstream.close() for p in self._providers.values() if p.upstream),
                return_exceptions=True,
            )
            self._writer.shutdown(wait=True)  # at the end: every audit and health write lands

    async def run_stdio(self) -> None:
        """Serve one agent over stdin/stdout until it closes them."""
        from mcp.server.stdio import stdio_server

        async with self.running(), stdio_server() as (read, write):
            await self.server.run(read, write, self.initialization_options())

    def asgi_app(self, *, token: str | None = None) -> Any:
        """An ASGI app serving the gateway over streamable HTTP at ``/mcp``.

        Every request must carry ``Authorization: Bearer <token>`` (default: the
        HTTP API's token, created 0600 in the data dir on first use; ``navi-int
        api-token`` prints it), name a loopback host at the serving port, and
        come from no web page but a loopback one (see :mod:`.access`).
        """
        from .access import streamable_http_app

        return streamable_http_app(self.server, self.running, token)

    # -- which providers -------------------------------------------------------

    def _sync_providers(self) -> tuple[set[str], list[Upstream]]:
        """Read which providers are in (blocking: run in a thread).

        Returns the ids that came or went (a provider whose credentials moved
        scope counts) and the upstreams to close.
        """
        current: dict[str, tuple[str, str | None]] = {}
        for item in self.service.status(project_id=self.project_id):
            state = item.effective
            if not (state.connected and state.enabled and state.mcp_enabled):
                continue
            if not self.service.catalog.document(item.provider).get("mcp"):
                continue
            current[item.provider] = (item.name, state.credential_scope)
        changed: set[str] = set()
        closing: list[Upstream] = []
        for pid, known in list(self._providers.items()):
            if pid not in current or current[pid][1] != known.credential_scope:
                changed.add(pid)
                del self._providers[pid]
                if known.upstream is not None:
                    closing.append(known.upstream)
        for pid, (name, credential_scope) in current.items():
            if pid not in self._providers:
                changed.add(pid)
                self._providers[pid] = _Provider(pid, name, credential_scope)
        return changed, closing

    async def _resync(self) -> None:
        changed, closing = await asyncio.to_thread(self._sync_providers)
        for upstream in closing:
            self._spawn(upstream.close())
        if changed:
            await self._notify_changed()

    async def _watch(self) -> None:
        """Poll the store's change marker; on a change, re-read the providers and notify."""
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                marker = await asyncio.to_thread(self.service.change_marker)
                if marker == self._marker:
                    continue
                self._marker = marker
                await self._resync()
            except Exception as exc:  # the store is busy or gone: try again next time
                _log.warning("navi-gateway: cannot read the store: %s", exc)

    async def _notify_changed(self) -> None:
        for session in list(self._sessions):
            with contextlib.suppress(Exception):  # a client that left
                await session.send_tool_list_changed()
                await session.send_resource_list_changed()
                await session.send_prompt_list_changed()

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        async def run() -> None:
            await coroutine

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- upstream connections --------------------------------------------------

    def _server_config(self, provider_id: str, credentials: Credentials) -> Any:
        server = self.service.registry.mcp_config(provider_id, credentials)
        if server is None:
            raise ProviderFailure("plugin", f"{provider_id} has no MCP server")
        return server

    async def _upstream(self, state: _Provider, server: Any) -> Upstream:
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
                connect_timeout=self.settings.connect_timeout,
                on_notification=lambda note: self._upstream_notification(state, note),
            )
            state.upstream = None
            await upstream.start()
            state.upstream = upstream
            if state.listing is not None:  # listed from the saved listing: check it is current
                self._spawn(self._relist(state, upstream, shape_key(server)))
            return upstream

    async def _upstream_notification(self, state: _Provider, note: Any) -> None:
        from mcp import types

        if isinstance(
            note,
            types.ToolListChangedNotification
            | types.ResourceListChangedNotification
            | types.PromptListChangedNotification,
        ):
            upstream = state.upstream
            if upstream is not None:
                self._spawn(self._relist(state, upstream, None))

    async def _relist(self, state: _Provider, upstream: Upstream, key: str | None) -> None:
        try:
            listing = await self._fetch_listing(upstream)
        except Exception:
            return
        if state.listing is not None and listing.to_json() == state.listing.to_json():
            return
        state.listing = listing
        if key is not None:
            await asyncio.to_thread(save_listing, self._listings_path, key, listing)
        await self._notify_changed()

    async def _fetch_listing(self, upstream: Upstream) -> Listing:
        caps = upstream.capabilities
        timeout = self.settings.call_timeout

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

    async def _invoke(
        self,
        state: _Provider,
        call: Callable[[ClientSession], Awaitable[T]],
        *,
        policy: RecoveryPolicy | None = None,
    ) -> T:
        """Run ``call`` on the provider's upstream under the recovery rules.

        Raises :class:`IntegrationError` when it gives up (or while the provider
        is isolated); a crashed stdio child is restarted once per request.

        The recovery rules run in a worker thread: they read the credentials
        (maybe renewing an OAuth token over HTTP), the shared Retry-After and the
        health row, and write health, all blocking; on the event loop, one slow
        refresh would stall every other agent's call. Each attempt's MCP request
        comes back to the loop, where the upstreams live.
        """
        import anyio.from_thread
        import anyio.to_thread

        from ..health.recovery import run_with_recovery

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
        deadline = now + self.settings.budget
        restarted = False

        async def attempt(server: Any) -> T:
            nonlocal restarted
            timeout = max(0.5, min(self.settings.call_timeout, deadline - time.monotonic()))
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
            context = self.service.recovery_context(state.provider_id, project_id=self.project_id)
            contexts.append(context)

            def on_the_loop(credentials: Credentials) -> T:
                server = self._server_config(state.provider_id, credentials)
                return anyio.from_thread.run(attempt, server)

            return run_with_recovery(context, on_the_loop, policy or self.settings.policy())

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
        self._record_success(state)
        return result

    def _call_threads(self) -> anyio.CapacityLimiter:
        """The gateway's own worker threads for calls in flight (made on the event loop)."""
        import anyio

        if self._calls_limiter is None:
            self._calls_limiter = anyio.CapacityLimiter(CALL_THREADS)
        return self._calls_limiter

    def _failed(self, state: _Provider, error: IntegrationError) -> None:
        if error.action == "reauth":
            return  # the user must act; isolating would only hide the advice
        state.failures += 1
        state.last_error = error.message
        if state.failures >= self.settings.isolate_after:
            state.isolated_until = time.monotonic() + self.settings.isolate_seconds
            upstream, state.upstream = state.upstream, None
            if upstream is not None:
                self._spawn(upstream.close())

    def _record_success(self, state: _Provider) -> None:
        """Note the success for health off the request's path, at most once a second."""
        now = time.monotonic()
        if now - state.health_written < 1.0:
            return
        state.health_written = now
        self._write(self.service.record_success, state.provider_id, project_id=self.project_id)

    def _write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception as exc:  # bookkeeping must never fail a call
                _log.warning("navi-gateway: cannot record to the store: %s", exc)

        with contextlib.suppress(RuntimeError):  # shutting down
            self._writer.submit(run)

    # -- listings --------------------------------------------------------------

    async def _listings(self, only: _Provider | None = None) -> list[_Provider]:
        """Every provider (or ``only`` one) with its listing: saved ones as they are, others
        started now."""
        states = [only] if only is not None else list(self._providers.values())
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

    async def _shape_key(self, state: _Provider) -> str | None:
        def key() -> str | None:
            credentials = self.service.credentials_in_scope(
                state.provider_id, self.scope, touch=False, fresh=False
            )[0]
            return shape_key(self._server_config(state.provider_id, credentials))

        try:
            return await asyncio.to_thread(key)
        except Exception:
            return None

    async def _list_live(self, state: _Provider, key: str | None) -> None:
        from ..health.recovery import RecoveryPolicy

        policy = RecoveryPolicy(max_attempts=2, budget_seconds=min(10.0, self.settings.budget))
        try:
            listing = await self._invoke_listing(state, policy)
        except IntegrationError as exc:
            _log.warning("navi-gateway: %s left out: %s", state.provider_id, exc)
            return
        state.listing = listing
        if key is not None:
            await asyncio.to_thread(save_listing, self._listings_path, key, listing)

    async def _invoke_listing(self, state: _Provider, policy: RecoveryPolicy) -> Listing:
        async def listing(_session: ClientSession) -> Listing:
            assert state.upstream is not None
            return await self._fetch_listing(state.upstream)

        return await self._invoke(state, listing, policy=policy)
