"""The SDK's streamable HTTP client transport over an httpx client of ours.

Shared by the gateway (its remote upstreams) and MCP authorization (which
runs ``initialize`` and ``tools/list`` through an authorizing client).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = ["streamable_http"]


@contextlib.asynccontextmanager
async def streamable_http(
    url: str, headers: dict[str, str] | None = None, *, auth: httpx.Auth | None = None
) -> AsyncIterator[tuple[Any, Any]]:
    """The (read, write) streams of a streamable HTTP MCP connection to ``url``.

    Uses the SDK's non-deprecated ``streamable_http_client`` over our own
    httpx client where the SDK has it (headers and ``auth`` on that client).
    """
    import httpx
    from mcp.client import streamable_http as transport

    modern = getattr(transport, "streamable_http_client", None)
    timeout = httpx.Timeout(30.0, read=300.0)
    if modern is not None:
        async with (
            httpx.AsyncClient(headers=headers, timeout=timeout, auth=auth) as client,
            modern(url, http_client=client) as (read, write, _),
        ):
            yield read, write
        return
    async with transport.streamablehttp_client(url, headers=headers, auth=auth) as (
        read,
        write,
        _,
    ):
        yield read, write
