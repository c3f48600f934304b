"""One provider's upstream MCP server, as the gateway's client: stdio child or remote server.

An :class:`Upstream` owns one connection: a child process (stdio) or an HTTP
session (streamable HTTP or SSE) with one :class:`mcp.ClientSession` on it,
opened by a task of its own (the SDK's transports are context managers that
must be entered and left by the same task). Every request goes through
:meth:`Upstream.request`, which never waits longer than its timeout and
turns a dead connection into a :class:`~navi_integrations.errors.ProviderFailure`
(or the httpx error that killed it, which the recovery rules classify by its
status and Retry-After). Nothing here knows about credentials: the gateway
hands over a filled server config and keeps the secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ProviderFailure, UpstreamCrashed

if TYPE_CHECKING:
    from mcp import ClientSession

    from ..models import HttpMcpServer, SseMcpServer, StdioMcpServer

    McpServer = StdioMcpServer | SseMcpServer | HttpMcpServer

__all__ = ["Upstream", "UpstreamCrashed"]

T = TypeVar("T")

#: The JSON-RPC error code the SDK answers pending requests with when the connection ends.
_CONNECTION_CLOSED = -32000


class Upstream:
    """A connection to one provider's MCP server, opened on :meth:`start`.

    ``on_notification`` receives the server's notifications (e.g. its own
    ``tools/list_changed``). ``cwd`` is where a stdio child starts.
    """

    def __init__(
        self,
        provider_id: str,
        name: str,
        server: McpServer,
        *,
        fingerprint: str,
        connect_timeout: float = 30.0,
        on_notification: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        self.provider_id = provider_id
        self.name = name
        self.fingerprint = fingerprint  # which credentials it was opened with (a hash)
        self._server = server
        self._connect_timeout = connect_timeout
        self._on_notification = on_notification
        self._session: ClientSession | None = None
        self._ready = asyncio.Event()
        self._closed = asyncio.Event()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None
        self._broken = False  # the connection ended under a request (e.g. the child died)
        self._task: asyncio.Task[None] | None = None
        #: What the server offers (tools, resources, prompts), from its initialize answer.
        self.capabilities: Any = None

    @property
    def alive(self) -> bool:
        """Whether the connection is open (or still opening)."""
        return self._task is not None and not self._closed.is_set() and not self._broken

    async def start(self) -> None:
        """Open the connection and initialize the session; raise what stopped it."""
        self._task = asyncio.create_task(self._run(), name=f"upstream-{self.provider_id}")
        ready = asyncio.create_task(self._ready.wait())
        closed = asyncio.create_task(self._closed.wait())
        done, _ = await asyncio.wait(
            {ready, closed}, timeout=self._connect_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        closed.cancel()
        if self._ready.is_set() and not self._closed.is_set():
            return
        await self.close()
        if not done:
            raise ProviderFailure(
                "timeout",
                f"the {self.name} MCP server did not start within {self._connect_timeout:.0f} s",
            )
        raise self._failure("it closed while starting")

    async def _run(self) -> None:
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(
                    ClientSession(read, write, message_handler=self._message)
                )
                self.capabilities = (await session.initialize()).capabilities
                self._session = session
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            self._error = exc
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._session = None
            self._closed.set()

    def _transport(self) -> contextlib.AbstractAsyncContextManager[tuple[Any, Any]]:
        server = self._server
        if server.transport == "stdio":
            from mcp import StdioServerParameters
            from mcp.client.stdio import get_default_environment, stdio_client

            params = StdioServerParameters(
                command=server.command,
                args=list(server.args),
                # Only the SDK's safe defaults (PATH, HOME…) and the provider's own variables:
                # the gateway's master key and other providers' secrets stay out of the child.
                env={**get_default_environment(), **server.env},
            )
            return stdio_client(params, errlog=_devnull())
        if server.transport == "sse":
            from mcp.client.sse import sse_client

            return sse_client(server.url, headers=dict(server.headers))
        from ..auth._mcp_http import streamable_http

        return streamable_http(server.url, dict(server.headers))

    async def _message(self, message: Any) -> None:
        from mcp import types

        if isinstance(message, types.ServerNotification) and self._on_notification is not None:
            await self._on_notification(message.root)

    async def request(self, call: Callable[[ClientSession], Awaitable[T]], timeout: float) -> T:
        """Run ``call(session)``; raise a classified failure if it fails, times out or the
        connection dies under it (never waits past ``timeout``)."""
        from mcp.shared.exceptions import McpError

        session = self._session
        if session is None or self._closed.is_set() or self._broken:
            raise self._failure("the connection was closed")
        work = asyncio.ensure_future(call(session))
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            done, _ = await asyncio.wait(
                {work, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closed.cancel()
        if work in done:
            try:
                return work.result()
            except McpError as exc:
                if exc.error.code == _CONNECTION_CLOSED:
                    await self._wait_closed()
                    raise self._failure("the connection was closed") from None
                raise
            except Exception as exc:
                if _is_closed_stream(exc):
                    await self._wait_closed()
                    raise self._failure("the connection was closed") from None
                raise
        work.cancel()
        with contextlib.suppress(BaseException):
            await work
        if self._closed.is_set():
            raise self._failure("the connection was closed")
        raise ProviderFailure(
            "timeout", f"the {self.name} MCP server did not answer within {timeout:g} s"
        )

    async def _wait_closed(self) -> None:
        # A stdio child that dies ends its streams without an error: stop waiting for it.
        self._broken = True
        self._stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), 2.0)

    def _failure(self, fallback: str) -> BaseException:
        """What killed the connection: the httpx error (classified by status), else a crash."""
        import httpx

        for exc in _leaves(self._error):
            if isinstance(exc, httpx.HTTPError):
                return exc
            if isinstance(exc, ProviderFailure):
                return exc
        for exc in _leaves(self._error):
            if isinstance(exc, OSError):
                return ProviderFailure(
                    "unreachable", f"cannot start or reach the {self.name} MCP server ({exc})"
                )
        if self._server.transport == "stdio":
            return UpstreamCrashed(self.name, "the process exited")
        return ProviderFailure("unreachable", f"the {self.name} MCP server closed: {fallback}")

    async def close(self) -> None:
        """Close the session and stop the child process (idempotent)."""
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), 5.0)
        except (TimeoutError, Exception):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def _leaves(exc: BaseException | None) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, depth first."""
    if exc is None:
        return []
    if isinstance(exc, BaseExceptionGroup):
        found: list[BaseException] = []
        for inner in exc.exceptions:
            found.extend(_leaves(inner))
        return found
    return [exc, *_leaves(exc.__cause__)] if exc.__cause__ is not None else [exc]


def _is_closed_stream(exc: BaseException) -> bool:
    import anyio

    return isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | EOFError)


def _devnull() -> Any:
    """Where an upstream child's stderr goes (NAVI_GATEWAY_UPSTREAM_STDERR=1: ours)."""
    import sys

    if os.environ.get("NAVI_GATEWAY_UPSTREAM_STDERR") == "1":
        return sys.stderr
    return open(os.devnull, "w")
