"""The service's status reads: what applies to each provider in a scope, with its health,
through the one resolver (:func:`navi_integrations.scopes.resolve`). Part of
``IntegrationService`` (a mixin, to keep each module to one concern).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .documents import ProviderStatus
from .scopes import Scope
from .statuses import defaults_of, provider_statuses

if TYPE_CHECKING:
    from .plugins.catalog import Catalog
    from .store.queries import Queries

__all__ = ["StatusReads", "defaults_of"]


class StatusReads:
    """Status reads; mixed into ``IntegrationService``."""

    if TYPE_CHECKING:

        @property
        def catalog(self) -> Catalog: ...
        @property
        def queries(self) -> Queries: ...

    def status(
        self, *, project_id: str | None = None, providers: Iterable[str] | None = None
    ) -> list[ProviderStatus]:
        """Every provider's state globally and, with ``project_id``, in that project.

        Built by :func:`navi_integrations.statuses.provider_statuses`, the one
        implementation the fast read path (``navi-int list``) uses too.
        """
        from .store.queries import now_ms

        scope = Scope.of(project_id)
        ids = list(providers) if providers is not None else self.catalog.provider_ids()
        documents = {pid: self.catalog.document(pid) for pid in ids}
        rows = self.queries.scope_rows(ids, scope)
        return provider_statuses(
            documents,
            scope.project_id,
            rows.credentials.values(),
            rows.switches.values(),
            rows.status.values(),
            now_ms(),
        )
