"""Switches and status reads: what applies to each provider in a scope, with its health,
through the one resolver (:func:`navi_integrations.scopes.resolve`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..scopes import Effective, Scope
from ..statuses import provider_statuses

if TYPE_CHECKING:
    from ..documents import ProviderStatus
    from ..scopes import Effective
    from ._parts import Parts

__all__ = ["Switches"]


class Switches:
    """Enable, disable and set MCP/skill switches; read every provider's state."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    def enable(self, provider_id: str, *, project_id: str | None = None) -> Effective:
        """Enable the provider globally, or for one project; returns what now applies."""
        return self._set_switches(provider_id, project_id, "enabled", enabled=True)

    def disable(self, provider_id: str, *, project_id: str | None = None) -> Effective:
        """Disable the provider globally, or for one project; returns what now applies."""
        return self._set_switches(provider_id, project_id, "disabled", enabled=False)

    def update_settings(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        mcp_enabled: bool | None = None,
        skill_enabled: bool | None = None,
    ) -> Effective:
        """Set MCP and skill switches in a scope (``None`` leaves one unchanged)."""
        return self._set_switches(
            provider_id,
            project_id,
            "settings",
            mcp_enabled=mcp_enabled,
            skill_enabled=skill_enabled,
        )

    def reset_switches(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        enabled: bool = True,
        mcp: bool = True,
        skill: bool = True,
    ) -> Effective:
        """Unset switches in a scope so they inherit again (a project's from the global ones,
        the global ones from the provider's defaults); returns what now applies."""
        scope = Scope.of(project_id)
        self._parts.catalog.document(provider_id)
        chosen = [n for n, on in (("enabled", enabled), ("mcp_enabled", mcp)) if on]
        chosen += ["skill_enabled"] if skill else []
        if self._parts.queries.credentials.reset_switches(provider_id, scope, chosen):
            self._parts.emit_connection(provider_id, scope, "settings")
        return self.effective(provider_id, project_id=project_id)

    def _set_switches(
        self, provider_id: str, project_id: str | None, event: str, **switches: bool | None
    ) -> Effective:
        scope = Scope.of(project_id)
        self._parts.catalog.document(provider_id)
        changes = {k: v for k, v in switches.items() if v is not None}
        if changes:
            self._parts.queries.credentials.set_switches(provider_id, scope, changes)
            self._parts.emit_connection(provider_id, scope, event)
        return self.effective(provider_id, project_id=project_id)

    def effective(self, provider_id: str, *, project_id: str | None = None) -> Effective:
        """What applies to one provider in a scope."""
        return self.status(project_id=project_id, providers=[provider_id])[0].effective

    def project_ids(self) -> list[str]:
        """The projects the store knows: those with credentials or switches of their own."""
        return self._parts.queries.credentials.project_ids()

    def status(
        self, *, project_id: str | None = None, providers: Iterable[str] | None = None
    ) -> list[ProviderStatus]:
        """Every provider's state globally and, with ``project_id``, in that project.

        Built by :func:`navi_integrations.statuses.provider_statuses`, the one
        implementation the fast read path (``navi-int list``) uses too.
        """
        from ..store.queries import now_ms

        scope = Scope.of(project_id)
        ids = list(providers) if providers is not None else self._parts.catalog.provider_ids()
        documents = {pid: self._parts.catalog.document(pid) for pid in ids}
        rows = self._parts.queries.credentials.scope_rows(ids, scope)
        return provider_statuses(
            documents,
            scope.project_id,
            rows.credentials,
            rows.switches,
            rows.status,
            now_ms(),
        )
