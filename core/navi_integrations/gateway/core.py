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
thread: its store reads, token refreshes and health writes block; a provider
whose last request succeeded skips them for a few seconds, see
:mod:`.providers`): 429
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

The gateway is composed of collaborators: :class:`~.providers.Providers` (which
providers, their upstreams and listings, recovered requests),
:class:`~.handlers.Handlers` (the MCP requests), :class:`~.handlers.Sessions`
(the clients) and :class:`~.bookkeeping.Bookkeeping` (audit and health writes,
off the request path).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..scopes import Scope
from ..service.refresh_due import refresh_interval, refresh_periodically
from .bookkeeping import Bookkeeping
from .handlers import Handlers, Sessions
from .parts import SEPARATOR, GatewaySettings, _default_listings_path
from .providers import CALL_THREADS, Providers

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server

    from ..service import IntegrationService

__all__ = ["CALL_THREADS", "SEPARATOR", "Gateway", "GatewaySettings"]

_log = logging.getLogger(__name__)


class Gateway:
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
        self.server = self._build_server()
        self.sessions = Sessions(self.server)
        self.bookkeeping = Bookkeeping(service, project_id)
        self.providers = Providers(
            service,
            self.bookkeeping,
            project_id=project_id,
            settings=self.settings,
            listings_path=listings_path or _default_listings_path(),
            on_change=self.sessions.notify_changed,
        )
        self.handlers = Handlers(self.providers, self.bookkeeping, self.sessions, self.settings)
        for request_type, handler in self.handlers.requests().items():
            self.server.request_handlers[request_type] = self._wrap(handler)
        self._marker: tuple[Any, ...] | None = None

    # -- the MCP server --------------------------------------------------------

    @staticmethod
    def _build_server() -> Server[Any, Any]:
        from mcp.server.lowlevel import Server

        from .._version import __version__

        server: Server[Any, Any] = Server(
            "navi-integrations",
            version=__version__,
            instructions="Tools of every connected integration, named <provider>__<tool>.",
        )
        return server

    def _wrap(self, handler: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        from mcp import types

        remember = self.sessions.remember

        async def handle(request: Any) -> types.ServerResult:
            remember()
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
        tasks = [watcher]
        interval = refresh_interval(self.service.parts.environ)
        if interval:  # OAuth grants kept alive while agents are served (`refresh --due`)
            tasks.append(
                asyncio.create_task(
                    refresh_periodically(self.service.refresh_due, interval, who="gateway"),
                    name="navi-gateway-refresh",
                )
            )
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            await self.providers.close()
            # At the end: every audit and health write lands.
            await asyncio.to_thread(self.bookkeeping.close)

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

    # -- changes made elsewhere ------------------------------------------------

    async def _resync(self) -> None:
        changed, closing = await asyncio.to_thread(self.providers.sync)
        for upstream in closing:
            self.providers.spawn(upstream.close())
        if changed:
            await self.sessions.notify_changed()

    async def _watch(self) -> None:
        """Poll the store's change marker; on a change, re-read the providers and notify."""
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                marker = await asyncio.to_thread(self.service.change_marker)
                if marker == self._marker:
                    continue
                self._marker = marker
                self.providers.cool()
                await self._resync()
            except Exception as exc:  # the store is busy or gone: try again next time
                _log.warning("navi-gateway: cannot read the store: %s", exc)
