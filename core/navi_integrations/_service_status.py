"""The service's status reads: what applies to each provider in a scope, with its health,
through the one resolver (:func:`navi_integrations.scopes.resolve`). Part of
``IntegrationService`` (a mixin, to keep each module to one concern).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .documents import ProviderStatus
from .scopes import Effective, Scope, Switches, resolve

if TYPE_CHECKING:
    from .plugins.catalog import Catalog
    from .results import Health
    from .store.queries import Queries, ScopeRows

__all__ = ["StatusReads", "defaults_of"]


def defaults_of(doc: Mapping[str, Any]) -> Switches:
    """A provider document's default switches."""
    defaults = doc.get("defaults", {})
    return Switches(
        defaults.get("enabledGlobally", True),
        defaults.get("mcpEnabled", True),
        defaults.get("skillEnabled", True),
    )


class StatusReads:
    """Status reads; mixed into ``IntegrationService``."""

    if TYPE_CHECKING:

        @property
        def catalog(self) -> Catalog: ...
        @property
        def queries(self) -> Queries: ...

    def _effective(self, provider_id: str, scope: Scope, rows: ScopeRows) -> Effective:
        def switch_row(key: str) -> Switches | None:
            row = rows.switches.get((provider_id, key))
            if row is None:
                return None
            return Switches(row["enabled"], row["mcp_enabled"], row["skill_enabled"])

        def cred(key: str) -> bool | None:
            row = rows.credentials.get((provider_id, key))
            return None if row is None else bool(row["enabled"])

        return resolve(
            defaults_of(self.catalog.document(provider_id)),
            switch_row(""),
            switch_row(scope.key) if not scope.is_user else None,
            cred(""),
            cred(scope.key) if not scope.is_user else None,
        )

    @staticmethod
    def _status_row(
        provider_id: str, state: Effective, scope: Scope, rows: ScopeRows
    ) -> Mapping[str, Any] | None:
        if state.credential_scope is None:
            return None
        key = scope.key if state.credential_scope == "project" else ""
        return rows.status.get((provider_id, key))

    def _health(self, provider_id: str, state: Effective, scope: Scope, rows: ScopeRows) -> Health:
        if not state.enabled:
            return "disabled"
        row = self._status_row(provider_id, state, scope, rows)
        return row["status"] if row is not None else "unknown"

    def status(
        self, *, project_id: str | None = None, providers: Iterable[str] | None = None
    ) -> list[ProviderStatus]:
        """Every provider's state globally and, with ``project_id``, in that project."""
        from .store.queries import now_ms

        scope = Scope.of(project_id)
        ids = list(providers) if providers is not None else self.catalog.provider_ids()
        for pid in ids:
            self.catalog.document(pid)
        rows = self.queries.scope_rows(ids, scope)
        result = []
        for provider_id in ids:
            doc = self.catalog.document(provider_id)
            global_state = self._effective(provider_id, Scope.user(), rows)
            fields: dict[str, Any] = {
                "provider": provider_id,
                "name": doc["name"],
                "auth_type": doc["authType"],
                "global_state": global_state,
                "global_health": self._health(provider_id, global_state, Scope.user(), rows),
            }
            state = global_state
            if not scope.is_user:
                state = self._effective(provider_id, scope, rows)
                fields.update(
                    project_id=project_id,
                    project_state=state,
                    project_health=self._health(provider_id, state, scope, rows),
                )
            row = self._status_row(provider_id, state, scope, rows)
            until = row["rate_limited_until"] if row is not None else None
            if until is not None and until > now_ms():
                fields["rate_limited_until"] = until
            result.append(ProviderStatus(**fields))
        return result
