"""Connecting: validate, test, then store credentials encrypted in their scope; disconnect;
rotate the master key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import (
    CredentialsInvalid,
)
from ..results import ConnectResult
from ..scopes import Scope

if TYPE_CHECKING:
    from ..results import HealthResult
    from ..store.rotation import RotationReport
    from ._parts import Parts
    from .advice import Advisor
    from .health import HealthChecks

__all__ = ["Connections"]


class Connections:
    """Stores and deletes connections (credentials with a fresh health record)."""

    def __init__(self, parts: Parts, checks: HealthChecks, advisor: Advisor) -> None:
        self._parts = parts
        self._checks = checks
        self._advisor = advisor

    def connect(
        self,
        provider_id: str,
        values: Mapping[str, str],
        *,
        project_id: str | None = None,
        test: bool = False,
        timeout: float = 10.0,
    ) -> ConnectResult:
        """Validate ``values``, optionally test them live, and store them encrypted in the scope.

        Raises :class:`CredentialsInvalid` listing every problem; nothing is
        stored then. With ``test``, the provider's health check runs on the
        values first: a failure stores nothing and comes back as a result
        with ``saved=False``, its failure kind and advice; a provider with no
        health check is saved untested (health stays ``unknown``). A saved
        connection replaces credentials already stored in that scope, and its
        health starts afresh (``healthy`` with the account when tested).
        """
        scope = Scope.of(project_id)
        problems = self._parts.registry.validate(provider_id, values)
        if problems:
            raise CredentialsInvalid(provider_id, problems)
        result: HealthResult | None = None
        if test:
            result = self._checks.check_values(provider_id, values, timeout=timeout)
            if result is not None and not result.ok:
                action, advice = self._advisor.classify(
                    provider_id, result, project_id=project_id, connecting=True
                )
                return ConnectResult(
                    provider_id,
                    project_id,
                    saved=False,
                    tested=True,
                    check=result,
                    advice=advice,
                    action=action,
                )
        self._save(provider_id, scope, values)
        if result is not None:
            self._parts.health.record(provider_id, result, scope, row_scope=scope)
        return ConnectResult(
            provider_id,
            project_id,
            saved=True,
            tested=result is not None,
            check=result,
            account=result.account if result is not None else None,
        )

    def store_credentials(
        self, provider_id: str, values: Mapping[str, str], *, project_id: str | None = None
    ) -> None:
        """Store values without validating them (OAuth tokens after a flow, imports)."""
        self._save(provider_id, Scope.of(project_id), values)

    def _save(self, provider_id: str, scope: Scope, values: Mapping[str, str]) -> None:
        self._parts.catalog.document(provider_id)
        with self._parts.store.write() as conn:
            # Sealed inside the write transaction: see store.vault on key rotation.
            self._parts.vault.save(self._parts.queries, conn, provider_id, scope, values)
            # New credentials start with a clean health record: the old one was about others.
            self._parts.queries.credentials.clear_health(conn, provider_id, scope)
        self._parts.emit_connection(provider_id, scope, "connected")

    def disconnect(self, provider_id: str, *, project_id: str | None = None) -> bool:
        """Delete the scope's credentials and health; returns whether any were stored."""
        scope = Scope.of(project_id)
        self._parts.catalog.document(provider_id)
        deleted = self._parts.queries.credentials.delete_connection(provider_id, scope)
        if deleted:
            self._parts.emit_connection(provider_id, scope, "disconnected")
        return deleted

    def forget_provider(self, provider_id: str) -> int:
        """Delete the provider's credentials and health in every scope (before its
        definition goes: ``navi-int mcp remove``); how many connections there were."""
        self._parts.catalog.document(provider_id)
        return self._parts.queries.credentials.delete_provider(provider_id)

    def rotate_keys(
        self, *, batch_size: int = 200, progress: Callable[[int, int], None] | None = None
    ) -> RotationReport:
        """Rotate the master key (or finish an interrupted rotation): see ``store.rotation``."""
        from ..store.rotation import rotate

        return rotate(
            self._parts.store,
            self._parts.queries,
            self._parts.keys,
            batch_size=batch_size,
            progress=progress,
        )
