"""The integrations routes of the PRD's API Reference: status, switches and health."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field

from ..errors import InvalidInput
from ._api_common import (
    ERRORS,
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

__all__ = ["ResetBody", "SettingsBody", "router"]

router = APIRouter(responses=ERRORS)


class SettingsBody(ScopeBody):
    """``POST /api/integrations/{provider}/settings``: switches to set (omitted: unchanged)."""

    mcpEnabled: bool | None = None
    skillEnabled: bool | None = None


@router.get("/api/integrations/status", tags=["integrations"])
def status(request: Request, _who: Caller, project_id: ProjectQuery = None) -> dict[str, Any]:
    """Every provider's switches and health (``navi-int list --json``)."""
    document: dict[str, Any] = service_of(request).status_document(
        project_id=project_of(project_id)
    )
    return document


@router.get("/api/projects", tags=["integrations"])
def projects(request: Request, _who: Caller) -> dict[str, Any]:
    """The projects the store knows (their own credentials or switches), with the one
    ``navi-int serve --project`` names: what the settings page offers to choose from."""
    known = set(service_of(request).project_ids())
    served = request.app.state.settings.project_id
    if served:
        known.add(served)
    return {"projects": sorted(known), "served": served}


@router.get("/api/integrations/{provider}/status", tags=["integrations"])
def provider_status(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """One provider's entry of the status document."""
    counted(request, provider, "status")
    return status_entry(request, provider, project_of(project_id))


@router.post("/api/integrations/{provider}/enable", tags=["integrations"])
def enable(
    request: Request, provider: Provider, _who: Caller, body: ScopeBody | None = None
) -> dict[str, Any]:
    """Enable the provider globally or for a project; returns its status entry."""
    return _switch(request, provider, body, on=True)


@router.post("/api/integrations/{provider}/disable", tags=["integrations"])
def disable(
    request: Request, provider: Provider, _who: Caller, body: ScopeBody | None = None
) -> dict[str, Any]:
    """Disable the provider globally or for a project; returns its status entry."""
    return _switch(request, provider, body, on=False)


def _switch(request: Request, provider: str, body: ScopeBody | None, *, on: bool) -> dict[str, Any]:
    counted(request, provider, "enable" if on else "disable")
    project = (body or ScopeBody()).project()
    service = service_of(request)
    (service.enable if on else service.disable)(provider, project_id=project)
    return status_entry(request, provider, project)


@router.post("/api/integrations/{provider}/settings", tags=["integrations"])
def settings(
    request: Request, provider: Provider, body: SettingsBody, _who: Caller
) -> dict[str, Any]:
    """Switch the MCP server and skill on or off in a scope; returns the status entry."""
    counted(request, provider, "settings")
    if body.mcpEnabled is None and body.skillEnabled is None:
        raise InvalidInput("nothing to change", hint="give mcpEnabled and/or skillEnabled")
    project = body.project()
    service_of(request).update_settings(
        provider, project_id=project, mcp_enabled=body.mcpEnabled, skill_enabled=body.skillEnabled
    )
    return status_entry(request, provider, project)


class ResetBody(ScopeBody):
    """``POST /api/integrations/{provider}/reset``: switches to unset in the scope so they
    inherit again (omitted: all three)."""

    switches: list[Literal["enabled", "mcpEnabled", "skillEnabled"]] | None = Field(
        default=None, max_length=3
    )


@router.post("/api/integrations/{provider}/reset", tags=["integrations"])
def reset(request: Request, provider: Provider, body: ResetBody, _who: Caller) -> dict[str, Any]:
    """Unset switches so they inherit again: a project's from the global ones, the global
    ones from the provider's defaults. The entry's ``projectSwitches`` shows which are set."""
    counted(request, provider, "reset")
    project = body.project()
    chosen = set(body.switches or ("enabled", "mcpEnabled", "skillEnabled"))
    service_of(request).reset_switches(
        provider,
        project_id=project,
        enabled="enabled" in chosen,
        mcp="mcpEnabled" in chosen,
        skill="skillEnabled" in chosen,
    )
    return status_entry(request, provider, project)


@router.post("/api/integrations/{provider}/health-check", tags=["integrations"])
def health_check(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """Run the health check now and record it (the same result as the credentials test)."""
    return run_check(request, provider, project_of(project_id), "health-check")


@router.get("/api/integrations/{provider}/health", tags=["integrations"])
def health(
    request: Request, provider: Provider, _who: Caller, project_id: ProjectQuery = None
) -> dict[str, Any]:
    """The recorded health of the credentials in effect (as ``navi-int doctor`` shows it)."""
    counted(request, provider, "health")
    project = project_of(project_id)
    record = service_of(request).health_record(provider, project_id=project)
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
