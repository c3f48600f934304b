"""What every API route shares: who is calling, the error documents, scopes, the service.

:func:`caller` is the dependency every route of :mod:`.api` takes (the
bearer token or a browser session with its CSRF token on changes); the
helpers below are the few steps the credentials and integrations routes
(:mod:`._api_credentials`, :mod:`._api_integrations`) have in common.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InvalidInput
from ..scopes import _PROJECT_ID, check_project_id
from .security import SESSION_COOKIE, same_secret

__all__ = [
    "ACCOUNT_PATTERN",
    "ERRORS",
    "PROJECT_PATTERN",
    "AccountBody",
    "AccountQuery",
    "Caller",
    "ErrorDocument",
    "ProjectQuery",
    "Provider",
    "Refused",
    "ScopeBody",
    "caller",
    "counted",
    "project_of",
    "run_check",
    "service_of",
    "status_entry",
]

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


async def caller(  # async: no I/O, so no threadpool hop before every route
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


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDocument, "description": "No or wrong bearer token, no session"},
    403: {"model": ErrorDocument, "description": "Host not allowed, or no CSRF token"},
    404: {"model": ErrorDocument, "description": "Unknown provider, or not connected"},
    409: {"model": ErrorDocument, "description": "The provider is disabled in the scope"},
    422: {"model": ErrorDocument, "description": "Bad input: nothing was changed"},
    502: {"model": ErrorDocument, "description": "The provider or its sign-in failed"},
    503: {"model": ErrorDocument, "description": "The store cannot be used"},
}


#: An account name (:func:`navi_integrations.scopes.check_account_name`).
ACCOUNT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"

AccountQuery = Annotated[
    str | None,
    Query(
        description="One of the provider's accounts (default: the one the scope uses: the "
        "project's binding, else the default account)",
        max_length=64,
        pattern=ACCOUNT_PATTERN,
    ),
]


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


class AccountBody(ScopeBody):
    """A scope and, optionally, one of the provider's accounts there (None: the one the
    scope uses)."""

    account: str | None = Field(default=None, max_length=64, pattern=ACCOUNT_PATTERN)


def project_of(project_id: str | None) -> str | None:
    """The ``projectId`` query parameter, checked (None: the user scope)."""
    return None if project_id is None else check_project_id(project_id)


def service_of(request: Request) -> Any:
    """The app's :class:`~navi_integrations.service.IntegrationService`."""
    return request.app.state.service


def status_entry(request: Request, provider: str, project_id: str | None) -> dict[str, Any]:
    """The provider's entry of the status document in a scope."""
    document: dict[str, Any] = service_of(request).status_document(
        project_id=project_id, providers=[provider]
    )
    found: dict[str, Any] = document["integrations"][0]
    return found


def counted(request: Request, provider: str, endpoint: str) -> None:
    """Count a call to ``endpoint`` for ``provider`` (refusing an unknown provider first)."""
    # an unknown id is refused before any label exists for it
    service_of(request).catalog.document(provider)
    request.app.state.metrics.calls.labels(provider, endpoint).inc()


def run_check(
    request: Request, provider: str, project_id: str | None, endpoint: str
) -> dict[str, Any]:
    """Check the stored credentials live (``navi-int test``), counted as ``endpoint``."""
    metrics = request.app.state.metrics
    counted(request, provider, endpoint)
    result = service_of(request).test(provider, project_id=project_id)
    if result.ok:
        metrics.used(provider)
    else:
        metrics.recovery.labels(provider, result.action or "fail").inc()
    document: dict[str, Any] = result.to_document()
    return document
