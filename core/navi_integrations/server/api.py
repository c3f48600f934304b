"""The PRD's API Reference: credentials and integrations, plus audit, events and metrics.

Each route parses its input, calls one service method and returns the
document the CLI's ``--json`` prints for the same question. Every route
needs the bearer token or a browser session (with its CSRF token on
changes): :func:`caller`.

The routes are grouped by the API's sections: credentials in
:mod:`._api_credentials`, integrations in :mod:`._api_integrations`, the
providers' icons in :mod:`._api_providers`, audit, events and metrics here;
what they share (:func:`caller`, the error documents, scopes) is in
:mod:`._api_common`. :data:`router` holds them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from . import _api_credentials, _api_integrations, _api_providers
from ._api_common import (
    ERRORS,
    Caller,
    ProjectQuery,
    Refused,
    _refuse,
    caller,
    project_of,
    service_of,
)

__all__ = ["Refused", "caller", "router"]

router = APIRouter(responses=ERRORS)
router.include_router(_api_credentials.router)
router.include_router(_api_integrations.router)
router.include_router(_api_providers.router)


# -- audit, events, metrics ------------------------------------------------------------


@router.post("/api/login-links", tags=["session"])
def login_link(request: Request, who: Caller) -> dict[str, Any]:
    """A fresh one-time login link to the settings page (``navi-int login-link``), for the
    bearer token only: valid 10 minutes, spent by its first use."""
    from .security import LOGIN_CODE_TTL

    if not who.startswith("api"):
        raise Refused(
            _refuse(
                403,
                "Forbidden",
                "login links are for the API token, not for a browser session",
                "run navi-int login-link in a terminal",
            )
        )
    code = request.app.state.settings.sessions.new_code()
    return {"url": f"{request.base_url}login?code={code}", "expiresIn": int(LOGIN_CODE_TTL)}


@router.get("/api/audit", tags=["audit"])
def audit(
    request: Request,
    _who: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kind: Annotated[Literal["token_read", "tool_call"] | None, Query()] = None,
    provider: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Token reads (and gateway tool calls), newest first (``navi-int audit --json``)."""
    request.app.state.audit.flush()  # this server's reads so far are in it
    entries = service_of(request).audit_log(limit=limit, kind=kind, provider=provider)
    return {"entries": entries}


@router.get("/api/events", tags=["events"], response_class=StreamingResponse)
async def events(
    request: Request, _who: Caller, project_id: ProjectQuery = None
) -> StreamingResponse:
    """Server-sent events: ``status`` (a provider's new status entry, whoever changed it),
    ``change`` (a change this server made: connection, switches, health transition)."""
    from .events import Listener, sse

    project = project_of(project_id)
    listener = Listener(project, asyncio.get_running_loop())
    broadcaster = request.app.state.events
    await asyncio.to_thread(broadcaster.add, listener)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield sse("ready", {"projectId": project})
            while True:
                try:
                    event, data = await asyncio.wait_for(listener.queue.get(), 15.0)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield sse(event, data)
        finally:
            broadcaster.remove(listener)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/metrics", tags=["metrics"], response_class=Response)
def metrics(request: Request, _who: Caller) -> Response:
    """The success metrics in the Prometheus text format."""
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
