"""Reading credentials: the row in effect, opened, touched and refreshed by the rules the
fast read path shares (:mod:`navi_integrations.store.reads`), and the token a script gets."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ..credentials import Credentials
from ..documents import Token
from ..errors import (
    NaviError,
    StoreFull,
    StoreReadOnly,
)
from ..scopes import Scope
from ..statuses import token_field
from ..store import reads

if TYPE_CHECKING:
    from ..documents import ProviderDocument
    from ._parts import Parts
    from .audit import AuditTrail

__all__ = ["CredentialReads"]


class CredentialReads:
    """The effective credentials of a provider in a scope, and its token."""

    def __init__(self, parts: Parts, audit: AuditTrail) -> None:
        self._parts = parts
        self._audit = audit

    def get_credentials(
        self, provider_id: str, *, project_id: str | None = None, account: str | None = None
    ) -> Credentials:
        """The effective credentials, decrypted (and fresh); records ``last_used_at``.

        ``account`` names one of the provider's accounts; without it, the one
        the scope uses (the project's binding, else the default).

        Raises :class:`NotConnected`, :class:`IntegrationDisabled` or
        :class:`DecryptionFailed` (wrong master key, damaged row).
        """
        return self.credentials_in_scope(provider_id, Scope.of(project_id, account))[0]

    def credentials_in_scope(
        self,
        provider_id: str,
        scope: Scope,
        *,
        touch: bool = True,
        require_enabled: bool = True,
        fresh: bool = True,
    ) -> tuple[Credentials, Scope]:
        """The effective credentials and the scope of the row they come from.

        With ``fresh``, an OAuth token close to expiry is refreshed first
        (once across every caller: see :mod:`navi_integrations.auth.refresh`)
        and a ``cli`` provider's runtime values are added.
        """
        parts = self._parts
        doc = parts.catalog.document(provider_id)
        rows = parts.queries.credentials.credential_rows(provider_id, scope)
        vault = parts.vault
        row, values = reads.open_in_effect(
            vault.key_for_read,
            doc,
            scope.project_id,
            rows,
            require_enabled=require_enabled,
            account=scope.account,
        )
        row_scope = Scope.of(row["project_id"] or None, str(row["account"]))
        found = Credentials(values)
        now = reads.now_ms()
        if touch and reads.touch_due(row["last_used_at"], now):
            # Bookkeeping only: a full or read-only disk must not block a read.
            with contextlib.suppress(StoreFull, StoreReadOnly):
                parts.queries.credentials.touch(row["id"])
        auth_type = doc["authType"]
        if (
            fresh
            and auth_type == "oauth"
            and reads.refresh_due(auth_type, values, parts.tokens.margin, now)
        ):
            found = parts.tokens.refresh(provider_id, row_scope, scope)
        if fresh and doc["authType"] == "cli":  # e.g. GitHub's token lives in gh
            found = self._parts.registry.runtime_credentials(provider_id, found)
        return found, row_scope

    def refresh_credentials(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        rejected: str | None = None,
        account: str | None = None,
    ) -> Credentials:
        """Renew an OAuth provider's credentials now (``rejected``: the token it refused)."""
        scope = Scope.of(project_id, account)
        _, row_scope = self.credentials_in_scope(
            provider_id, scope, touch=False, require_enabled=False, fresh=False
        )
        return self._parts.tokens.refresh(provider_id, row_scope, scope, rejected=rejected)

    def get_token(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        field: str | None = None,
        caller: str | None = None,
        account: str | None = None,
    ) -> Token:
        """The value a script sends: the OAuth access token, a CLI's token, else the first
        secret field; or the named ``field`` (e.g. Slack's ``teamId``).

        With ``caller`` (who asks: ``cli``, ``api``…) the read is audited, refused or not
        (:meth:`audit_log`); never the value.
        """
        doc = self._parts.catalog.document(provider_id)
        if caller is None:
            creds = self.get_credentials(provider_id, project_id=project_id, account=account)
            return token_of(doc, creds, field)
        try:
            creds = self.get_credentials(provider_id, project_id=project_id, account=account)
            found = token_of(doc, creds, field)
        except NaviError as exc:
            self._audit.audit_token_read(
                provider_id, project_id, caller, outcome=type(exc).__name__
            )
            raise
        self._audit.audit_token_read(provider_id, project_id, caller)
        return found

    def mcp_headers(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        caller: str | None = None,
        account: str | None = None,
    ) -> dict[str, str]:
        """The declared headers of the provider's remote MCP server, filled from fresh
        credentials (refreshed first when due): what ``navi-int token NAME --headers`` prints
        for a Claude Code ``headersHelper``. Audited as a token read when ``caller`` is given.
        """
        from ..agent.mcp import fill_mcp_server
        from ..errors import InvalidInput

        provider = self._parts.registry.get(provider_id)
        if provider.mcp is None or provider.mcp.transport == "stdio":
            raise InvalidInput(f"{provider.name} has no remote MCP server")
        try:
            server = fill_mcp_server(
                provider,
                self.get_credentials(provider_id, project_id=project_id, account=account),
            )
        except NaviError as exc:
            if caller is not None:
                self._audit.audit_token_read(
                    provider_id, project_id, caller, outcome=type(exc).__name__
                )
            raise
        if caller is not None:
            self._audit.audit_token_read(provider_id, project_id, caller)
        assert server is not None and server.transport != "stdio"
        return dict(server.headers)


def token_of(doc: ProviderDocument, credentials: Credentials, field: str | None) -> Token:
    """The token a provider document says to hand out from ``credentials`` (or ``field``)."""
    field = token_field(doc, doc["id"], credentials, field)
    expires = credentials.reveal("expiresAt") if "expiresAt" in credentials else None
    return Token(doc["authType"], credentials[field], int(expires) if expires else None)
