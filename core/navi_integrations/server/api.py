"""The PRD's API Reference: credentials and integrations, plus audit, events and metrics.

Each route parses its input, calls one service method and returns the
document the CLI's ``--json`` prints for the same question. Every route
needs the bearer token or a browser session (with its CSRF token on
changes): :func:`caller`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput, NaviError
from ..scopes import _PROJECT_ID, check_project_id
from .security import SESSION_COOKIE, same_secret

__all__ = ["Refused", "caller", "router"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: A project id, as ``scopes.check_project_id`` accepts it (published in the schema).
PROJECT_PATTERN = _PROJECT_ID.pattern


def _refuse(status: int, error: str, message: str, hint: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": error,
            "message": message,
            "advice": {"action": "fix_input", "command": "navi-int api-token", "hint": hint},
        },
        status_code=status,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


class Refused(Exception):
    """A request refused before any route ran (no token, bad token, no CSRF token)."""

    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def caller(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_csrf_token: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_navi_caller: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """Who is calling: ``api`` (bearer token) or ``session`` (the settings page).

    Refuses a request with neither, and a session's change without its CSRF
    token. ``X-Navi-Caller`` names an agent for the audit log.
    """
    settings = request.app.state.settings
    name = ""
    if x_navi_caller:
        name = " (" + "".join(c for c in x_navi_caller[:64] if c.isprintable()) + ")"
    if authorization is not None:
        kind, _, token = authorization.partition(" ")
        if kind.lower() == "bearer" and same_secret(token.strip(), settings.token):
            return "api" + name
        raise Refused(
            _refuse(
                401,
                "Unauthorized",
                "the bearer token is not this server's",
                "send Authorization: Bearer $(navi-int api-token)",
            )
        )
    session = settings.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Refused(
            _refuse(
                401,
                "Unauthorized",
                "this API needs a bearer token",
                "send Authorization: Bearer $(navi-int api-token)",
            )
        )
    if request.method not in _SAFE_METHODS and not same_secret(x_csrf_token, session.csrf):
        raise Refused(
            _refuse(
                403,
                "CsrfRefused",
                "a change from the page needs its CSRF token",
                "reload the settings page",
            )
        )
    return "session" + name


Caller = Annotated[str, Depends(caller)]
Provider = Annotated[str, PathParam(description="Provider id, e.g. linear", max_length=64)]
ProjectQuery = Annotated[
    str | None,
    Query(
        alias="projectId",
        description="Answer in this project's context",
        max_length=128,
        pattern=PROJECT_PATTERN,
    ),
]


class AdviceDocument(BaseModel):
    """What fixes a failure: an action, and the command that performs it when there is one."""

    action: str
    command: str | None = None
    hint: str | None = None


class ErrorDocument(BaseModel):
    """Every refusal and failure: the error class, one line saying what failed, the fix."""

    error: str
    message: str
    advice: AdviceDocument | None = None
    problems: list[dict[str, str]] | None = None


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDocument, "description": "No or wrong bearer token, no session"},
    403: {"model": ErrorDocument, "description": "Host not allowed, or no CSRF token"},
    404: {"model": ErrorDocument, "description": "Unknown provider, or not connected"},
    409: {"model": ErrorDocument, "description": "The provider is disabled in the scope"},
    422: {"model": ErrorDocument, "description": "Bad input: nothing was changed"},
    502: {"model": ErrorDocument, "description": "The provider or its sign-in failed"},
    503: {"model": ErrorDocument, "description": "The store cannot be used"},
}

router = APIRouter(responses=_ERRORS)


class ScopeBody(BaseModel):
    """Where a change applies: ``scope`` ``global``/``user`` (every project) or ``project``
    (with ``projectId``); without ``scope``, a ``projectId`` selects the project."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["global", "user", "project"] | None = None
    projectId: str | None = Field(default=None, max_length=128, pattern=PROJECT_PATTERN)

    def project(self) -> str | None:
        """The project id the body selects (None: the user scope)."""
        if self.scope in ("global", "user"):
            return None
        if self.scope == "project" and not self.projectId:
            raise InvalidInput("scope 'project' needs a projectId", hint="add projectId")
        return None if self.projectId is None else check_project_id(self.projectId)


class CredentialsBody(ScopeBody):
    """``POST /api/credentials/{provider}``: the values, tested live before anything is saved
    (``test: false`` saves untested, e.g. offline)."""

    credentials: dict[str, Annotated[str, Field(max_length=8192)]]
    test: bool = True


class SettingsBody(ScopeBody):
    """``POST /api/integrations/{provider}/settings``: switches to set (omitted: unchanged)."""

    mcpEnabled: bool | None = None
    skillEnabled: bool | None = None


def _project(project_id: str | None) -> str | None:
    return None if project_id is None else check_project_id(project_id)


def _svc(request: Request) -> Any:
    return request.app.state.service


def _entry(request: Request, provider: str, project_id: str | None) -> dict[str, Any]:
    document: dict[str, Any] = _svc(request).status_document(
        project_id=project_id, providers=[provider]
    )
    found: dict[str, Any] = document["integrations"][0]
    return found


def _counted(request: Request, provider: str, endpoint: str) -> None:
    _svc(request).catalog.document(provider)  # unknown ids are refused before any label exists
    request.app.state.metrics.calls.labels(provider, endpoint).inc()


# -- credentials ---------------------------------------------------------------------


@router.get("/api/credentials/providers", tags=["credentials"])
def providers(request: Request, _who: Caller, project_id: ProjectQuery = None) -> dict[str, Any]:
    """Every provider's description (``navi-int show --json``) with its credential status."""
    svc = _svc(request)
    status = svc.status_document(project_id=_project(project_id))["integrations"]
    return {
        "providers": [
            {**svc.catalog.document(entry["provider"]), "status": entry} for entry in status
        ]
    }


@router.get("/api/credentials/{provider}", tags=["credentials"])
def credential_status(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """Whether the provider has credentials in the scope, whose, and how they are doing."""
    _counted(request, provider, "credentials")
    return _entry(request, provider, _project(project_id))


@router.post("/api/credentials/{provider}", tags=["credentials"])
def set_credentials(
    request: Request, provider: Provider, body: CredentialsBody, _who: Caller
) -> JSONResponse:
    """Validate, test live, then save (``navi-int connect``); a refused test saves nothing
    (422 with the failure and its advice)."""
    metrics = request.app.state.metrics
    _counted(request, provider, "connect")
    project_id = body.project()
    svc = _svc(request)
    svc.catalog.document(provider)
    metrics.setup_attempts.labels(provider).inc()
    started = time.monotonic()
    try:
        result = svc.connect(provider, body.credentials, project_id=project_id, test=body.test)
    except NaviError as exc:
        metrics.failure(provider, "connect", exc)
        raise
    outcome = "saved" if result.saved else (result.kind or "failed")
    metrics.setup_seconds.labels(provider, outcome).observe(time.monotonic() - started)
    if result.saved:
        metrics.setup_successes.labels(provider).inc()
        metrics.connected(provider)
    else:
        metrics.recovery.labels(provider, result.action or "fail").inc()
    return JSONResponse(result.to_document(), status_code=200 if result.saved else 422)


@router.delete("/api/credentials/{provider}", tags=["credentials"])
def delete_credentials(
    request: Request,
    provider: Provider,
    _who: Caller,
    body: ScopeBody | None = None,
    project_id: ProjectQuery = None,
    scope: Annotated[Literal["global", "user", "project"] | None, Query()] = None,
) -> dict[str, Any]:
    """Delete the scope's credentials (``navi-int disconnect``); scope in the body or query."""
    _counted(request, provider, "disconnect")
    chosen = body or ScopeBody(scope=scope, projectId=project_id)
    project = chosen.project()
    deleted = _svc(request).disconnect(provider, project_id=project)
    return {"provider": provider, "projectId": project, "deleted": deleted}


@router.post("/api/credentials/{provider}/test", tags=["credentials"])
def test_credentials(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """Check the stored credentials live (``navi-int test --json``'s result)."""
    return _test(request, provider, _project(project_id), "test")


def _test(request: Request, provider: str, project_id: str | None, endpoint: str) -> dict[str, Any]:
    metrics = request.app.state.metrics
    _counted(request, provider, endpoint)
    result = _svc(request).test(provider, project_id=project_id)
    if result.ok:
        metrics.used(provider)
    else:
        metrics.recovery.labels(provider, result.action or "fail").inc()
    document: dict[str, Any] = result.to_document()
    return document


@router.get("/api/credentials/{provider}/token", tags=["credentials"])
def token(
    request: Request,
    provider: Provider,
    who: Caller,
    project_id: ProjectQuery = None,
    field: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The token or API key to use now, refreshed if needed (``navi-int token --json``).
    Every read is audited (``GET /api/audit``)."""
    metrics = request.app.state.metrics
    _counted(request, provider, "token")
    try:
        found = _svc(request).get_token(
            provider, project_id=_project(project_id), field=field, caller=who
        )
    except NaviError as exc:
        metrics.token_reads.labels(provider, type(exc).__name__).inc()
        raise
    metrics.token_reads.labels(provider, "ok").inc()
    metrics.used(provider)
    document: dict[str, Any] = found.to_document()
    return document


# -- integrations --------------------------------------------------------------------


@router.get("/api/integrations/status", tags=["integrations"])
def status(request: Request, _who: Caller, project_id: ProjectQuery = None) -> dict[str, Any]:
    """Every provider's switches and health (``navi-int list --json``)."""
    document: dict[str, Any] = _svc(request).status_document(project_id=_project(project_id))
    return document


@router.get("/api/integrations/{provider}/status", tags=["integrations"])
def provider_status(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """One provider's entry of the status document."""
    _counted(request, provider, "status")
    return _entry(request, provider, _project(project_id))


@router.post("/api/integrations/{provider}/enable", tags=["integrations"])
def enable(
    request: Request, provider: Provider, _who: Caller, body: ScopeBody | None = None
) -> dict[str, Any]:
    """Enable the provider globally or for a project; returns its status entry."""
    _counted(request, provider, "enable")
    project = (body or ScopeBody()).project()
    _svc(request).enable(provider, project_id=project)
    return _entry(request, provider, project)


@router.post("/api/integrations/{provider}/disable", tags=["integrations"])
def disable(
    request: Request, provider: Provider, _who: Caller, body: ScopeBody | None = None
) -> dict[str, Any]:
    """Disable the provider globally or for a project; returns its status entry."""
    _counted(request, provider, "disable")
    project = (body or ScopeBody()).project()
    _svc(request).disable(provider, project_id=project)
    return _entry(request, provider, project)


@router.post("/api/integrations/{provider}/settings", tags=["integrations"])
def settings(
    request: Request, provider: Provider, body: SettingsBody, _who: Caller
) -> dict[str, Any]:
    """Switch the MCP server and skill on or off in a scope; returns the status entry."""
    _counted(request, provider, "settings")
    if body.mcpEnabled is None and body.skillEnabled is None:
        raise InvalidInput("nothing to change", hint="give mcpEnabled and/or skillEnabled")
    project = body.project()
    _svc(request).update_settings(
        provider, project_id=project, mcp_enabled=body.mcpEnabled, skill_enabled=body.skillEnabled
    )
    return _entry(request, provider, project)


@router.post("/api/integrations/{provider}/health-check", tags=["integrations"])
def health_check(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """Run the health check now and record it (the same result as the credentials test)."""
    return _test(request, provider, _project(project_id), "health-check")


@router.get("/api/integrations/{provider}/health", tags=["integrations"])
def health(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """The recorded health of the credentials in effect (as ``navi-int doctor`` shows it)."""
    _counted(request, provider, "health")
    project = _project(project_id)
    record = _svc(request).health_record(provider, project_id=project)
    return {
        "provider": provider,
        "projectId": project,
        "credentialProjectId": record.project_id,
        "status": record.status,
        "lastCheckAt": record.last_check_at,
        "lastSuccessAt": record.last_success_at,
        "errorCount": record.error_count,
        "errorTotal": record.error_total,
        "lastError": record.last_error,
        "account": record.account,
        "rateLimitedUntil": record.rate_limited_until,
    }


# -- audit, events, metrics ------------------------------------------------------------


@router.get("/api/audit", tags=["audit"])
def audit(
    request: Request,
    _who: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kind: Annotated[Literal["token_read", "tool_call"] | None, Query()] = None,
    provider: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Token reads (and gateway tool calls), newest first (``navi-int audit --json``)."""
    entries = _svc(request).audit_log(limit=limit, kind=kind, provider=provider)
    return {"entries": entries}


@router.get("/api/events", tags=["events"], response_class=StreamingResponse)
async def events(
    request: Request, _who: Caller, project_id: ProjectQuery = None
) -> StreamingResponse:
    """Server-sent events: ``status`` (a provider's new status entry, whoever changed it),
    ``change`` (a change this server made: connection, switches, health transition)."""
    from .events import Listener, sse

    project = _project(project_id)
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
