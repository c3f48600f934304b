"""Documents the service hands out: a provider's status (PRD ``GET /api/integrations/status``),
a token (PRD ``GET /api/credentials/:provider/token``), and the provider document itself
(:class:`ProviderDocument`, the PRD's ``IntegrationProvider`` as JSON) that core logic reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .provider_document import (
    CliDocument,
    DefaultsDocument,
    FieldDocument,
    OAuthDocument,
    ProviderDocument,
    SkillDocument,
)
from .scopes import Effective

if TYPE_CHECKING:  # annotations only: `navi-int token` loads neither (see store.direct)
    from pydantic import SecretStr

    from .results import Health

__all__ = [
    "AccountStatus",
    "CliDocument",
    "DefaultsDocument",
    "FieldDocument",
    "OAuthDocument",
    "ProviderDocument",
    "ProviderStatus",
    "SkillDocument",
    "Token",
]


@dataclass(frozen=True)
class Token:
    """A credential value ready for use (PRD ``GET /api/credentials/:provider/token``)."""

    type: str
    value: SecretStr
    expires_at: int | None = None

    def to_document(self) -> dict[str, Any]:
        """``{type, value, expiresAt}``, with the secret revealed: for ``navi-int token`` only."""
        return {
            "type": self.type,
            "value": self.value.get_secret_value(),
            "expiresAt": self.expires_at,
        }


@dataclass(frozen=True)
class AccountStatus:
    """One of a provider's accounts (named connections) in the user scope or a project."""

    name: str
    scope: str  # "global" (the user scope) or "project"
    #: Whether it is its scope's default (``navi-int use``, else the oldest).
    default: bool
    #: Whether it is the account in effect for the asked scope.
    in_use: bool
    enabled: bool
    health: Health
    #: The identity its last successful health check reported.
    identity: str | None = None
    last_used_at: int | None = None

    def to_document(self) -> dict[str, Any]:
        """One entry of a status entry's ``accounts``."""
        return {
            "name": self.name,
            "scope": self.scope,
            "default": self.default,
            "inUse": self.in_use,
            "enabled": self.enabled,
            "health": self.health,
            "identity": self.identity,
            "lastUsedAt": self.last_used_at,
        }


@dataclass(frozen=True)
class ProviderStatus:
    """One provider's state, globally and (when asked) in a project."""

    provider: str
    name: str
    auth_type: str
    global_state: Effective
    global_health: Health
    project_id: str | None = None
    project_state: Effective | None = None
    project_health: Health | None = None
    #: Epoch ms until which the provider asked us to wait (429), if that is still ahead.
    rate_limited_until: int | None = None
    #: The name of the account in effect (``None``: not connected).
    account_in_use: str | None = None
    #: Every account in the user scope and the asked project, the user's first.
    accounts: tuple[AccountStatus, ...] = ()

    @property
    def effective(self) -> Effective:
        """The state that applies: the project's when a project was asked for."""
        return self.project_state or self.global_state

    @property
    def health(self) -> Health:
        """The health that applies."""
        return self.project_health or self.global_health

    def to_document(self) -> dict[str, Any]:
        """One entry of the PRD's ``GET /api/integrations/status`` document."""
        scope = self.effective.credential_scope

        def block(state: Effective, health: Health) -> dict[str, Any]:
            return {
                "enabled": state.enabled,
                "mcpEnabled": state.mcp_enabled,
                "skillEnabled": state.skill_enabled,
                "health": health,
            }

        status = {"global": block(self.global_state, self.global_health)}
        if self.project_state is not None and self.project_health is not None:
            status["project"] = block(self.project_state, self.project_health)
        return {
            "provider": self.provider,
            "name": self.name,
            "authType": self.auth_type,
            "hasCredentials": scope is not None,
            "credentialScope": {"user": "global", "project": "project"}.get(scope or ""),
            "projectId": self.project_id,
            "rateLimitedUntil": self.rate_limited_until,
            "status": status,
            "accountInUse": self.account_in_use,
            "accounts": [a.to_document() for a in self.accounts],
        }
