"""Connecting: validate, test, then store credentials encrypted in their scope; disconnect;
rotate the master key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import (
    CredentialsInvalid,
)
from ..results import ConnectResult
from ..scopes import DEFAULT_ACCOUNT, Scope, account_name_from, check_account_name

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
        account: str | None = None,
    ) -> ConnectResult:
        """Validate ``values``, optionally test them live, and store them encrypted in the scope.

        They are stored as one of the provider's accounts there: ``account``
        if named, else the one named after the identity the health check
        reports, else the account the scope uses now (replaced), else
        ``default``. The scope's default account stays what it was (the first
        account connected is the default; ``use_account`` changes it).

        Raises :class:`CredentialsInvalid` listing every problem; nothing is
        stored then. With ``test``, the provider's health check runs on the
        values first: a failure stores nothing and comes back as a result
        with ``saved=False``, its failure kind and advice; a provider with no
        health check is saved untested (health stays ``unknown``). A saved
        connection replaces credentials already stored in that scope, and its
        health starts afresh (``healthy`` with the account when tested).
        """
        if account is not None:
            check_account_name(account)
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
        identity = result.account if result is not None else None
        row_scope = self.row_scope_for(provider_id, project_id, account, identity)
        self._save(provider_id, row_scope, values)
        if result is not None:
            self._parts.health.record(provider_id, result, row_scope, row_scope=row_scope)
        return ConnectResult(
            provider_id,
            project_id,
            saved=True,
            tested=result is not None,
            check=result,
            account=identity,
            account_name=row_scope.account,
        )

    def row_scope_for(
        self,
        provider_id: str,
        project_id: str | None,
        account: str | None,
        identity: str | None,
    ) -> Scope:
        """The row a new connection is stored as (see :meth:`connect` for the naming).

        A reported identity names the account, unless an account of the scope already
        has that name or recorded that identity (a reconnect: it is replaced), or the
        scope's default account never recorded one (connected untested, or before it
        was checked: it is the one being reconnected, and keeps its name).
        """
        if account is None and identity:
            account = self._account_of_identity(provider_id, Scope.of(project_id), identity)
        if account is None:
            account = self.scope_default(provider_id, Scope.of(project_id)) or DEFAULT_ACCOUNT
        return Scope.of(project_id, account)

    def _account_of_identity(self, provider_id: str, scope: Scope, identity: str) -> str:
        import json

        name = account_name_from(identity)
        stored = [
            str(r["account"]) for r in self._parts.queries.credentials.accounts(provider_id, scope)
        ]
        if name in stored:
            return name
        default = self.scope_default(provider_id, scope)
        for each in stored:
            row, _ = self._parts.queries.health.health_rows(provider_id, scope.with_account(each))
            meta = json.loads(row["metadata"]) if row is not None and row["metadata"] else {}
            if meta.get("account") == identity:
                return each
            if each == default and not meta.get("account"):
                return each
        return name

    def scope_default(self, provider_id: str, scope: Scope) -> str | None:
        """The default account among those stored in exactly ``scope`` (the one ``use``
        named there, else the oldest); ``None`` when it has none."""
        own = self._parts.queries.credentials.accounts(provider_id, scope)
        if not own:
            return None
        chosen = self._parts.queries.credentials.own_switches([provider_id], scope)
        named = (chosen.get(provider_id) or {}).get("account")
        names = [str(r["account"]) for r in own]
        return named if named in names else names[0]

    def store_credentials(
        self,
        provider_id: str,
        values: Mapping[str, str],
        *,
        project_id: str | None = None,
        account: str | None = None,
    ) -> str:
        """Store values without validating them (OAuth tokens after a flow, imports), as
        ``account`` (else the account the scope uses, else ``default``); returns the
        account's name."""
        if account is not None:
            check_account_name(account)
        row_scope = self.row_scope_for(provider_id, project_id, account, None)
        self._save(provider_id, row_scope, values)
        assert row_scope.account is not None
        return row_scope.account

    def _save(self, provider_id: str, row_scope: Scope, values: Mapping[str, str]) -> None:
        from ..store.reads import grant_times, now_ms

        doc = self._parts.catalog.document(provider_id)
        times = grant_times(doc, values, now_ms())
        with self._parts.store.write() as conn:
            # Sealed inside the write transaction: see store.vault on key rotation.
            self._parts.vault.save(
                self._parts.queries, conn, provider_id, row_scope, values, times=times
            )
            # New credentials start with a clean health record: the old one was about others.
            self._parts.queries.credentials.clear_health(conn, provider_id, row_scope)
        self._parts.emit_connection(provider_id, row_scope, "connected")

    def disconnect(
        self, provider_id: str, *, project_id: str | None = None, account: str | None = None
    ) -> bool:
        """Delete one account's credentials and health in the scope (``account``, else the
        scope's default account); returns whether any were stored.

        When the default account goes, the oldest remaining one becomes the default.
        A project bound to it keeps its binding (its token reads then say the account is
        not connected, and how to fix it): :meth:`bound_projects` tells which.
        """
        scope = Scope.of(project_id)
        self._parts.catalog.document(provider_id)
        if account is not None:
            check_account_name(account)
        name = account or self.scope_default(provider_id, scope)
        if name is None:
            return False
        row_scope = scope.with_account(name)
        deleted = self._parts.queries.credentials.delete_connection(provider_id, row_scope)
        if deleted:
            if scope.is_user:  # the next oldest is the default now (a binding stays: see above)
                chosen = self._parts.queries.credentials.own_switches([provider_id], scope)
                if (chosen.get(provider_id) or {}).get("account") == name:
                    self._parts.queries.credentials.reset_switches(provider_id, scope, ["account"])
            self._parts.emit_connection(provider_id, row_scope, "disconnected")
        return deleted

    def use_account(
        self, provider_id: str, account: str, *, project_id: str | None = None
    ) -> Scope:
        """Make ``account`` the one the scope uses: the user scope's default account, or the
        account a project is bound to (its own of that name, else the user's). Returns the
        scope of the row it names. Raises :class:`NotConnected` for an account that is not
        there."""
        from ..errors import NotConnected

        check_account_name(account)
        scope = Scope.of(project_id)
        self._parts.catalog.document(provider_id)
        places = [scope] if scope.is_user else [scope, Scope.user()]
        for place in places:
            stored = self._parts.queries.credentials.accounts(provider_id, place)
            if account in {str(r["account"]) for r in stored}:
                self._parts.queries.credentials.set_switches(
                    provider_id, scope, {"account": account}
                )
                self._parts.emit_connection(provider_id, scope, "switched")
                return place.with_account(account)
        raise NotConnected(provider_id, project_id, account=account)

    def bound_projects(self, provider_id: str, account: str) -> list[str]:
        """The projects whose binding names ``account`` (``navi-int use … --project``)."""
        return [p for p in self._parts.queries.credentials.bound_to(provider_id, account) if p]

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
