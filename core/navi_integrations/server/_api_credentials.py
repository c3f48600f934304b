"""The credentials routes of the PRD's API Reference: status, connect, disconnect, test,
OAuth sign-in and the token to use (each the document the CLI's ``--json`` prints)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from ..errors import InvalidInput, NaviError
from ..provider_document import ServedProviderDocument
from ._api_common import (
    ERRORS,
    AccountBody,
    AccountQuery,
    Caller,
    ProjectQuery,
    Provider,
    ScopeBody,
    counted,
    project_of,
    run_check,
    service_of,
    status_entry,
)
from ._api_providers import icon_url

__all__ = ["CredentialsBody", "OAuthBody", "router"]

router = APIRouter(responses=ERRORS)


class CredentialsBody(AccountBody):
    """``POST /api/credentials/{provider}``: the values, tested live before anything is saved
    (``test: false`` saves untested, e.g. offline)."""

    credentials: dict[str, Annotated[str, Field(max_length=8192)]]
    test: bool = True


@router.get("/api/credentials/providers", tags=["credentials"])
def providers(request: Request, _who: Caller, project_id: ProjectQuery = None) -> dict[str, Any]:
    """Every provider's description (``navi-int show --json``) with its credential status and
    ``iconUrl``: where this server serves its icon (null: none, show the name's initial)."""
    svc = service_of(request)
    status = svc.status_document(project_id=project_of(project_id))["integrations"]
    documents: list[ServedProviderDocument] = []
    for entry in status:
        pid = entry["provider"]
        served = cast("ServedProviderDocument", dict(svc.catalog.document(pid)))
        served["iconUrl"] = icon_url(request, pid)
        served["status"] = entry
        documents.append(served)
    return {"providers": documents}


@router.get("/api/credentials/{provider}", tags=["credentials"])
def credential_status(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """Whether the provider has credentials in the scope, whose, and how they are doing."""
    counted(request, provider, "credentials")
    return status_entry(request, provider, project_of(project_id))


@router.post("/api/credentials/{provider}", tags=["credentials"])
def set_credentials(
    request: Request, provider: Provider, body: CredentialsBody, _who: Caller
) -> JSONResponse:
    """Validate, test live, then save (``navi-int connect``); a refused test saves nothing
    (422 with the failure and its advice)."""
    metrics = request.app.state.metrics
    counted(request, provider, "connect")
    project_id = body.project()
    svc = service_of(request)
    svc.catalog.document(provider)
    metrics.setup_attempts.labels(provider).inc()
    started = time.monotonic()
    try:
        result = svc.connect(
            provider,
            body.credentials,
            project_id=project_id,
            test=body.test,
            account=body.account,
        )
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
    body: AccountBody | None = None,
    project_id: ProjectQuery = None,
    scope: Annotated[Literal["global", "user", "project"] | None, Query()] = None,
    account: AccountQuery = None,
) -> dict[str, Any]:
    """Delete the scope's credentials (``navi-int disconnect``): one account's (``account``,
    else the scope's default account; the next becomes the default); scope and account in
    the body or query."""
    counted(request, provider, "disconnect")
    chosen = body or AccountBody(scope=scope, projectId=project_id, account=account)
    project = chosen.project()
    deleted = service_of(request).disconnect(provider, project_id=project, account=chosen.account)
    return {
        "provider": provider,
        "projectId": project,
        "account": chosen.account,
        "deleted": deleted,
    }


@router.post("/api/credentials/{provider}/use", tags=["credentials"])
def use_account(
    request: Request, provider: Provider, body: AccountBody, _who: Caller
) -> dict[str, Any]:
    """Make ``account`` the one the scope uses (``navi-int use``): the user scope's default,
    or the project's binding; 404-like NotConnected when there is no such account. Returns
    the provider's status entry in the scope."""
    from ..errors import InvalidInput

    counted(request, provider, "use")
    if body.account is None:
        raise InvalidInput('name the account to use: {"account": NAME}')
    project = body.project()
    service_of(request).use_account(provider, body.account, project_id=project)
    return status_entry(request, provider, project)


@router.post("/api/credentials/{provider}/test", tags=["credentials"])
def test_credentials(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """Check the stored credentials live (``navi-int test --json``'s result)."""
    return run_check(request, provider, project_of(project_id), "test")


class OAuthBody(ScopeBody):
    """``POST /api/credentials/{provider}/oauth``: the OAuth client (omitted: the one saved in
    the scope), the services to grant (omitted: all the provider offers) and the provider's
    other non-secret fields (a self-hosted instance's URL or site, as ``connect --field``)."""

    clientId: str | None = Field(default=None, max_length=512)
    clientSecret: str | None = Field(default=None, max_length=512)
    services: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=32)
    fields: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=2048)]] = (
        Field(default_factory=dict, max_length=32)
    )


@router.post("/api/credentials/{provider}/oauth", tags=["credentials"])
def begin_oauth(
    request: Request, provider: Provider, body: OAuthBody, _who: Caller
) -> dict[str, Any]:
    """Start the OAuth sign-in (PKCE) with this server as the redirect target: open
    ``authorizationUrl`` in a browser; ``GET /oauth/callback`` completes it and stores the
    credentials. When every service asked for is already granted, ``authorizationUrl`` is
    null and nothing changes."""
    counted(request, provider, "oauth")
    svc = service_of(request)
    doc = svc.catalog.document(provider)
    offered = (doc.get("oauth") or {}).get("services") or []
    if doc.get("authType") != "oauth":
        raise InvalidInput(
            f"{doc['name']} does not sign in with OAuth",
            hint=f"POST /api/credentials/{provider} with its credentials",
        )
    if (doc.get("oauth") or {}).get("discovery") == "mcp":
        raise InvalidInput(
            f"{doc['name']} authorizes through its MCP server",
            hint=f"POST /api/credentials/{provider}/mcp-authorize",
        )
    unknown = [s for s in body.services or [] if s not in offered]
    if unknown:
        raise InvalidInput(
            f"unknown service(s) for {doc['name']}", hint="choose from " + ", ".join(offered)
        )
    declared = {f["key"]: f for f in doc.get("credentials", [])}
    refused = sorted(
        key
        for key in body.fields
        if key not in declared
        or declared[key].get("type") == "password"
        or key in ("clientId", "clientSecret")
    )
    if refused:
        plain = [k for k, f in declared.items() if f.get("type") != "password"]
        plain = [k for k in plain if k not in ("clientId", "clientSecret")]
        raise InvalidInput(
            f"{doc['name']} takes no field {', '.join(refused)} here: fields are its non-secret "
            "values (clientId and clientSecret have their own)",
            hint="its fields: " + (", ".join(plain) or "none"),
        )
    project = body.project()
    client_id, client_secret = body.clientId or "", body.clientSecret or ""
    if not client_id:
        saved = svc.oauth_client(provider, project_id=project)
        if saved is not None and "clientId" in saved:
            client_id = saved.reveal("clientId")
            client_secret = saved.reveal("clientSecret") if "clientSecret" in saved else ""
    request.app.state.metrics.setup_attempts.labels(provider).inc()
    begun = svc.begin_sign_in(
        provider,
        client_id=client_id,
        client_secret=client_secret,
        services=body.services or None,
        project_id=project,
        redirect_uri=str(request.url_for("oauth_callback")),
        fields={k: v for k, v in body.fields.items() if v} or None,
    )
    url = getattr(begun, "url", None)
    return {
        "provider": provider,
        "projectId": project,
        "authorizationUrl": url,
        "account": getattr(begun, "account", None),
        "services": begun.services,
    }


class McpAuthorizeBody(ScopeBody):
    """``POST /api/credentials/{provider}/mcp-authorize``: a pre-registered client (omitted:
    the one registered before, else a new registration)."""

    clientId: str | None = Field(default=None, max_length=512)


@router.post("/api/credentials/{provider}/mcp-authorize", tags=["credentials"])
def begin_mcp_authorization(
    request: Request, provider: Provider, body: McpAuthorizeBody, _who: Caller
) -> dict[str, Any]:
    """Connect a hosted MCP server that authorizes with MCP authorization (``navi-int
    connect NAME``): discovery, registration and PKCE run here; ``authorizationUrl`` is the
    sign-in page to open in a browser on this machine, which returns to a one-shot
    listener on 127.0.0.1. The grant is stored when it completes (``/api/events`` tells);
    null when the stored grant still works or the server asks for none (``connected``)."""
    import threading

    counted(request, provider, "mcp-authorize")
    svc = service_of(request)
    doc = svc.catalog.document(provider)
    if (doc.get("oauth") or {}).get("discovery") != "mcp":
        raise InvalidInput(
            f"{doc['name']} does not authorize through its MCP server",
            hint=f"POST /api/credentials/{provider} or /oauth",
        )
    request.app.state.metrics.setup_attempts.labels(provider).inc()
    project = body.project()
    ready = threading.Event()
    outcome: dict[str, Any] = {}

    def show(url: str) -> None:
        outcome.setdefault("url", url)
        ready.set()

    def run() -> None:
        try:
            result = svc.authorize_mcp(
                provider,
                project_id=project,
                client_id=body.clientId or "",
                timeout=300.0,
                show_url=show,
            )
            outcome["tools"] = result.tools
        except NaviError as exc:
            outcome["error"] = exc
        finally:
            ready.set()

    threading.Thread(target=run, name=f"navi-mcp-authorize-{provider}", daemon=True).start()
    if not ready.wait(60.0):
        raise InvalidInput(f"{doc['name']}'s server did not answer within 60 s")
    if "url" in outcome:
        return {"provider": provider, "projectId": project, "authorizationUrl": outcome["url"]}
    if "error" in outcome:
        raise outcome["error"]
    return {
        "provider": provider,
        "projectId": project,
        "authorizationUrl": None,
        "connected": True,
        "tools": outcome.get("tools", []),
    }


@router.get("/api/credentials/{provider}/token", tags=["credentials"])
def token(
    request: Request,
    provider: Provider,
    who: Caller,
    project_id: ProjectQuery = None,
    field: Annotated[str | None, Query(max_length=64)] = None,
    account: AccountQuery = None,
) -> JSONResponse:
    """The token or API key to use now, refreshed if needed (``navi-int token --json``:
    ``{type, value, expiresAt}``). Every read is audited (``GET /api/audit``), off the
    request path: an entry is written within 50 ms, every one by the time the server has
    shut down cleanly. The document is sent as it is (no response model to validate it
    against: the hottest route skips that pass)."""
    metrics = request.app.state.metrics
    audit = request.app.state.audit
    counted(request, provider, "token")
    project = project_of(project_id)
    try:
        found = service_of(request).get_token(
            provider, project_id=project, field=field, account=account
        )
    except NaviError as exc:
        metrics.token_reads.labels(provider, type(exc).__name__).inc()
        audit.add(
            "token_read", provider, project_id=project, caller=who, outcome=type(exc).__name__
        )
        raise
    audit.add("token_read", provider, project_id=project, caller=who)
    metrics.token_reads.labels(provider, "ok").inc()
    metrics.used(provider)
    return JSONResponse(found.to_document())
