"""The ASGI app factory: access control, the Host check, error documents, and the routes.

``create_app()`` builds a FastAPI app over one :class:`IntegrationService`;
``navi-int serve`` runs it with uvicorn, and a host app can mount it in its
own server. Routes are in :mod:`.api` (the PRD's endpoints) and :mod:`.page`
(the settings page).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from ..errors import (
    ConfigurationError,
    CredentialsInvalid,
    IntegrationDisabled,
    InvalidInput,
    NaviError,
    NotConnected,
    ProviderError,
    ProviderNotFound,
    StoreError,
)
from .security import LOOPBACK_NAMES, Sessions, api_token, host_allowed

if TYPE_CHECKING:
    from ..service import IntegrationService

__all__ = ["ServerSettings", "create_app", "http_status"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class ServerSettings:
    """How an app answers: who may call it, under which names, and the page's default project.

    ``hosts`` are the names the ``Host`` header may carry (loopback names by
    default; a server bound elsewhere adds its own); ``token`` is the bearer
    token (default: the one in the data dir); ``poll_interval`` is how often
    the change stream looks for changes made by other processes.
    """

    hosts: frozenset[str] = LOOPBACK_NAMES
    token: str | None = None
    project_id: str | None = None
    poll_interval: float = 0.5
    sessions: Sessions = field(default_factory=Sessions)


def http_status(error: NaviError) -> int:
    """The HTTP status of an error: what the client asked for is missing, malformed,
    conflicting, or something behind the server failed."""
    if isinstance(error, (ProviderNotFound, NotConnected)):
        return 404
    if isinstance(error, (CredentialsInvalid, InvalidInput)):
        return 422
    if isinstance(error, IntegrationDisabled):
        return 409
    if isinstance(error, ProviderError):
        return 502
    if isinstance(error, StoreError):
        return 503
    if isinstance(error, ConfigurationError) or error.exit_code == 2:
        return 400
    return 500


def error_response(error: NaviError) -> JSONResponse:
    """An error as the API returns it: ``{error, message, advice}`` (+ field problems)."""
    document = error.to_document()
    if isinstance(error, CredentialsInvalid):
        document["problems"] = [{"field": p.field, "message": p.message} for p in error.problems]
    return JSONResponse(document, status_code=http_status(error))


class HostCheck:
    """Refuses requests whose ``Host`` is not one of the server's names (DNS rebinding)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], hosts: Any) -> None:
        self.app = app
        self.hosts: frozenset[str] = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            if not host_allowed(host, self.hosts):
                body = json.dumps(
                    {
                        "error": "HostNotAllowed",
                        "message": "this server only answers to its own loopback name",
                        "advice": {
                            "action": "fix_input",
                            "command": None,
                            "hint": "use http://127.0.0.1:<port>/ (or the name given to --host)",
                        },
                    }
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def create_app(
    service: IntegrationService | None = None, settings: ServerSettings | None = None
) -> FastAPI:
    """The HTTP API, the change stream, ``/metrics`` and the settings page, as one ASGI app.

    ``service`` defaults to one over the default store; ``settings`` to
    loopback names and the data dir's API token.
    """
    from .._version import __version__
    from ..service import IntegrationService
    from . import api, page
    from .events import Broadcaster
    from .metrics import Metrics

    svc = service if service is not None else IntegrationService()
    config = settings or ServerSettings()
    if config.token is None:
        config.token = api_token()
    metrics = Metrics(svc)
    events = Broadcaster(svc, interval=config.poll_interval)
    unsubscribe = svc.subscribe(metrics.on_change)
    # Token reads are audited off the request path, in batches (one transaction per
    # 50 ms at most): a clean shutdown writes every queued entry; a crash loses at most
    # the entries of the last 50 ms.
    audit = svc.audit.deferred()

    from ..service.refresh_due import refresh_interval, refresh_periodically

    interval = refresh_interval(svc.parts.environ)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        # OAuth grants kept alive while the server runs (`navi-int refresh --due`).
        refresher = (
            asyncio.create_task(refresh_periodically(svc.refresh_due, interval, who="serve"))
            if interval
            else None
        )
        try:
            yield
        finally:
            if refresher is not None:
                refresher.cancel()
                with contextlib.suppress(BaseException):
                    await refresher
            audit.close()
            events.close()
            unsubscribe()

    app = FastAPI(
        lifespan=lifespan,
        title="navi-integrations",
        version=__version__,
        description="Credentials, switches and health of the integrations an agent host uses.",
        docs_url=None,  # the interactive docs load scripts from a CDN: not on a loopback tool
        redoc_url=None,
    )
    app.state.service = svc
    app.state.settings = config
    app.state.metrics = metrics
    app.state.events = events
    app.state.audit = audit

    @app.exception_handler(NaviError)
    async def _navi_error(_request: Request, exc: NaviError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(api.Refused)
    async def _refused(_request: Request, exc: api.Refused) -> JSONResponse:
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
            problems.append({"field": where, "message": str(item.get("msg", "invalid"))})
        text = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "invalid request"
        return JSONResponse(
            {
                "error": "InvalidInput",
                "message": f"invalid request: {text}",
                "advice": {"action": "fix_input", "command": None, "hint": None},
                "problems": problems,
            },
            status_code=422,
        )

    app.include_router(api.router)
    app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    app.add_middleware(HostCheck, hosts=config.hosts)
    return app
