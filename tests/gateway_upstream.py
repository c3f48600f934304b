"""An MCP server built with the SDK, for the gateway's tests and benchmark.

Run as a script it serves stdio (a provider's child process); imported, it gives
a streamable HTTP app behind a bearer check with faults the test injects.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations


def build(name: str = "upstream") -> FastMCP:
    """The server: trivial, slow and crashing tools, one resource, one prompt."""
    server = FastMCP(name, log_level="WARNING")

    @server.tool()
    def echo(text: str) -> str:
        """Say it back."""
        return text

    @server.tool()
    async def slow(seconds: float) -> str:
        """Answer after a while."""
        await asyncio.sleep(seconds)
        return "late"

    first_read = True

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    async def slow_once(seconds: float) -> str:
        """A read-only tool whose first answer is slow (running it twice is harmless)."""
        nonlocal first_read
        if first_read:
            first_read = False
            await asyncio.sleep(seconds)
        return "read"

    @server.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    @server.tool()
    def die() -> str:
        """Exit the process at once (a crash)."""
        os._exit(3)

    @server.resource("memo://notes/today")
    def notes() -> str:
        """Today's notes."""
        return "buy milk"

    @server.prompt()
    def summary(topic: str) -> str:
        """Summarise a topic."""
        return f"Summarise {topic}"

    return server


class Faults:
    """ASGI middleware: a bearer check against ``tokens``, then the next ``queue`` entries
    (status, headers, delay) answer ``tools/call`` POSTs instead of the server."""

    def __init__(self, app: Any, tokens: set[str]) -> None:
        self.app = app
        self.tokens = tokens
        self.queue: list[tuple[int, dict[str, str]]] = []
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        if auth.removeprefix("Bearer ") not in self.tokens:
            await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b'"tools/call"' in body:
            self.calls += 1
            if self.queue:
                status, headers = self.queue.pop(0)
                await JSONResponse({"error": status}, status_code=status, headers=headers)(
                    scope, receive, send
                )
                return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "upstream").run()
