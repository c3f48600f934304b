"""OAuth sign-in: the loopback browser flow (CLI) and the two-step flow a server completes
through its own callback; what a completed sign-in grants is stored in one write."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import (
    CredentialsError,
    CredentialsInvalid,
    GrantRevoked,
    InvalidInput,
    NotConnected,
    OAuthFailed,
)
from ..scopes import Scope, check_account_name

if TYPE_CHECKING:
    from ..auth.mcp_authorization import McpAuthorized
    from ..auth.oauth import OAuthSignIn, PendingSignIn, PendingSignIns, SignInResult
    from ..models import Credentials
    from ._parts import Parts
    from .connections import Connections
    from .credentials import CredentialReads
    from .health import HealthChecks

__all__ = ["SignIns"]


class SignIns:
    """OAuth sign-ins, begun and completed, stored once granted."""

    def __init__(
        self,
        parts: Parts,
        credentials: CredentialReads,
        connections: Connections,
        checks: HealthChecks,
    ) -> None:
        self._parts = parts
        self._credentials = credentials
        self._connections = connections
        self._checks = checks
        self._pending: PendingSignIns | None = None

    def oauth_client(
        self, provider_id: str, *, project_id: str | None = None, account: str | None = None
    ) -> Credentials | None:
        """The credentials already stored in exactly this scope (their OAuth client), if any:
        ``account``'s, else those of the account the scope uses."""
        scope = Scope.of(project_id, account)
        try:
            creds, row_scope = self._credentials.credentials_in_scope(
                provider_id, scope, touch=False, require_enabled=False, fresh=False
            )
        except NotConnected:
            return None
        return creds if row_scope.project_id == scope.project_id else None

    def _sign_in_flow(
        self,
        provider_id: str,
        client_id: str,
        client_secret: str,
        services: list[str] | None,
        project_id: str | None,
        fields: Mapping[str, str] | None = None,
        account: str | None = None,
        **options: Any,
    ) -> tuple[OAuthSignIn, list[str]]:
        """The flow for a sign-in whose client is valid, and the services it asks for."""
        from ..auth.oauth import OAuthSignIn

        values = {**(fields or {}), "clientId": client_id, "clientSecret": client_secret}
        problems = self._parts.registry.validate(provider_id, values)
        if problems:
            raise CredentialsInvalid(provider_id, problems)
        provider = self._parts.registry.get(provider_id)
        chosen = (
            list(services) if services else list(provider.oauth.services if provider.oauth else [])
        )
        if account is not None:
            check_account_name(account)
        existing = self.oauth_client(provider_id, project_id=project_id, account=account)
        return OAuthSignIn(provider, existing=existing, **options), chosen

    def _signed_in(
        self,
        provider_id: str,
        project_id: str | None,
        result: SignInResult,
        account: str | None = None,
    ) -> SignInResult:
        """Store what a completed sign-in granted, in one write, as ``account`` (else the
        account named after the identity it reported: see ``Connections.connect``), and
        record it healthy."""
        if result.values is not None:
            stored = {k: result.values.reveal(k) for k in result.values}
            row_scope = self._store(provider_id, project_id, stored, account, result.account)
            return dataclasses.replace(result, account_name=row_scope.account)
        return result

    def _store(
        self,
        provider_id: str,
        project_id: str | None,
        values: Mapping[str, str],
        account: str | None,
        identity: str | None,
    ) -> Scope:
        from ..results import HealthResult

        row_scope = self._connections.row_scope_for(provider_id, project_id, account, identity)
        self._connections.store_credentials(
            provider_id, values, project_id=project_id, account=row_scope.account
        )
        healthy = HealthResult.healthy(identity)
        self._parts.health.record(provider_id, healthy, row_scope, row_scope=row_scope)
        return row_scope

    def sign_in(
        self,
        provider_id: str,
        *,
        client_id: str,
        client_secret: str = "",
        services: list[str] | None = None,
        project_id: str | None = None,
        timeout: float = 300.0,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
        fields: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> SignInResult:
        """Connect an OAuth provider: the browser sign-in (PKCE) through a loopback listener,
        then store everything at once.

        ``fields`` are the provider's other values (e.g. a self-hosted
        instance's ``baseUrl``), used to resolve its OAuth URLs and stored with the tokens.
        Raises :class:`~navi_integrations.errors.OAuthFailed` having stored nothing
        when the sign-in does not complete. Services already granted are not asked again.
        """
        flow, chosen = self._sign_in_flow(
            provider_id,
            client_id,
            client_secret,
            services,
            project_id,
            fields,
            account,
            timeout=timeout,
            open_browser=open_browser,
            show_url=show_url,
        )
        result = flow.run(client_id, client_secret, chosen, fields)
        return self._signed_in(provider_id, project_id, result, account)

    @property
    def pending_sign_ins(self) -> PendingSignIns:
        """Sign-ins begun with :meth:`begin_sign_in` and not completed yet (in memory)."""
        from ..auth.oauth import PendingSignIns

        if self._pending is None:
            self._pending = PendingSignIns()
        return self._pending

    def begin_sign_in(
        self,
        provider_id: str,
        *,
        client_id: str,
        client_secret: str = "",
        services: list[str] | None = None,
        project_id: str | None = None,
        redirect_uri: str,
        fields: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> PendingSignIn | SignInResult:
        """Start a sign-in whose redirect comes back to ``redirect_uri`` (a server's own
        callback): the pending sign-in, whose ``url`` the browser opens and whose ``state``
        :meth:`complete_sign_in` is given back; or, when every service asked for is already
        granted, the result at once. Nothing is stored yet. ``fields``: as for :meth:`sign_in`.
        """
        from ..auth.oauth import SignInResult

        flow, chosen = self._sign_in_flow(
            provider_id, client_id, client_secret, services, project_id, fields, account
        )
        begun = flow.begin(client_id, client_secret, chosen, redirect_uri, fields)
        if isinstance(begun, SignInResult):
            return begun
        begun.project_id = project_id
        begun.account = account
        self.pending_sign_ins.add(begun)
        return begun

    def complete_sign_in(
        self, state: str, *, code: str | None = None, error: str | None = None
    ) -> tuple[str, SignInResult]:
        """Finish a sign-in begun with :meth:`begin_sign_in` with what its redirect brought
        back: exchange the code, store everything at once, record it healthy. Returns the
        provider id and the result.

        Raises :class:`~navi_integrations.errors.OAuthFailed` having stored nothing when
        the state is unknown, used or expired, the user declined, or the exchange fails.
        """
        from ..auth.oauth import OAuthSignIn

        pending = self.pending_sign_ins.take(state)
        if pending is None:
            raise OAuthFailed(
                "this sign-in is unknown or expired (each link works once, for 10 minutes); "
                "nothing was saved. Start it again from the settings page"
            )
        flow = OAuthSignIn(
            self._parts.registry.get(pending.provider_id),
            existing=pending.previous,
        )
        result = flow.complete(pending, code=code, error=error)
        signed_in = self._signed_in(
            pending.provider_id, pending.project_id, result, pending.account
        )
        return pending.provider_id, signed_in

    def authorize_mcp(
        self,
        provider_id: str,
        *,
        project_id: str | None = None,
        client_id: str = "",
        client_secret: str = "",
        client_metadata_url: str | None = None,
        timeout: float = 300.0,
        open_browser: Callable[[str], bool] | None = None,
        show_url: Callable[[str], None] | None = None,
        account: str | None = None,
    ) -> McpAuthorized:
        """Connect a hosted MCP server that authorizes as the MCP specification says
        (``oauth.discovery='mcp'``): reuse the stored grant while it works, else sign in
        through the browser when the server asks (see
        :mod:`navi_integrations.auth.mcp_authorization`), list its tools, and store the
        grant, the client registration and the discovered endpoints in one write.

        A grant that replaces an earlier one revokes the earlier refresh token where the
        server offers revocation (RFC 7009), so that re-authorizing orphans nothing.
        Raises :class:`~navi_integrations.errors.OAuthFailed` having stored nothing when
        it does not complete.
        """
        from ..agent.mcp import fill_mcp_server
        from ..auth.mcp_authorization import McpAuthorization
        from ..models import Credentials

        provider = self._parts.registry.get(provider_id)
        if not provider.mcp_authorization or provider.mcp is None:
            raise InvalidInput(
                f"{provider.name} does not authorize through its MCP server",
                hint=f"connect it with: navi-int connect {provider_id}",
            )
        if client_id or client_secret:
            fields = {"clientId": client_id, "clientSecret": client_secret}
            problems = self._parts.registry.validate(
                provider_id, {k: v for k, v in fields.items() if v}
            )
            if problems:
                raise CredentialsInvalid(provider_id, problems)
        if account is not None:
            check_account_name(account)
        replaced = self._fresh_in_scope(provider_id, project_id, account)
        try:
            server = fill_mcp_server(provider, replaced or Credentials({}))
            previous = replaced
        except CredentialsError:  # granted for another URL (it changed): sign in afresh
            server = fill_mcp_server(provider, Credentials({}))
            previous = None
        assert server is not None and server.transport != "stdio"  # checked when it loads
        declared = {f.key: f.default for f in provider.credentials if f.default}
        flow = McpAuthorization(
            provider,
            server.url,
            previous=previous,
            client_id=client_id or declared.get("clientId", ""),
            client_secret=client_secret,
            client_metadata_url=client_metadata_url,
            timeout=timeout,
            show_url=show_url,
            open_browser=open_browser,
        )
        result = flow.run()
        if result.values is not None:
            stored = {k: result.values.reveal(k) for k in result.values}
            row_scope = self._store(provider_id, project_id, stored, account, None)
            if replaced is not None:
                _revoke_replaced(replaced, result.values)
            return dataclasses.replace(result, account_name=row_scope.account)
        return result

    def _fresh_in_scope(
        self, provider_id: str, project_id: str | None, account: str | None = None
    ) -> Credentials | None:
        """The values stored in exactly this scope (``account``'s, else the account it
        uses), renewed first when due (single flight); a grant the server revoked keeps
        only its client registration and endpoints."""
        scope = Scope.of(project_id, account)
        try:
            creds, row_scope = self._credentials.credentials_in_scope(
                provider_id, scope, touch=False, require_enabled=False, fresh=True
            )
        except NotConnected:
            return None
        except GrantRevoked:
            stale = self.oauth_client(provider_id, project_id=project_id, account=account)
            if stale is None:
                return None
            from ..models import Credentials

            kept = {k: stale.reveal(k) for k in stale if k not in _GRANT}
            return Credentials(kept)
        return creds if row_scope.project_id == scope.project_id else None


#: What a revoked grant loses before it is authorized again (its registration stays).
_GRANT = frozenset({"accessToken", "refreshToken", "expiresAt", "scope"})


def _revoke_replaced(previous: Credentials, current: Credentials) -> None:
    """Revoke a refresh token a new grant replaced (RFC 7009), best effort: the new grant
    is stored already, and a server that forgot the old one has nothing to revoke.

    The old grant is revoked where it was issued and as the client it was issued to (its
    own endpoint, client and auth method): a new sign-in may have registered again, or
    with another authorization server."""
    if "refreshToken" not in previous or "revocationEndpoint" not in previous:
        return
    old = previous.reveal("refreshToken")
    if "refreshToken" in current and current.reveal("refreshToken") == old:
        return
    if "clientId" not in previous:
        return
    from ..health.checks import shared_client

    data = {"token": old, "token_type_hint": "refresh_token"}
    client_id = previous.reveal("clientId")
    secret = previous.reveal("clientSecret") if "clientSecret" in previous else None
    method = previous.reveal("tokenAuthMethod") if "tokenAuthMethod" in previous else ""
    auth: tuple[str, str] | None = None
    if secret and method == "client_secret_basic":
        auth = (client_id, secret)
    else:
        data["client_id"] = client_id
        if secret:
            data["client_secret"] = secret
    url = previous.reveal("revocationEndpoint")
    try:
        if auth is not None:
            answer = shared_client().post(url, data=data, auth=auth, timeout=10.0)
        else:
            answer = shared_client().post(url, data=data, timeout=10.0)
        if answer.status_code == 400 and auth is None and "client_secret" not in data:
            # Servers built on the MCP SDK 1.x want the field even from a public client.
            shared_client().post(url, data={**data, "client_secret": ""}, timeout=10.0)
    except Exception:  # the new grant works; an old one the server keeps expires on its own
        return
