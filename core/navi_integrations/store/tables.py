"""The store's tables (SQLModel), after the seed PRD's data model.

Scope keys: ``project_id`` is ``""`` for the user (global) scope and the
project's id otherwise (an empty string rather than NULL, so that the unique
constraints hold on every database). Times are Unix epoch milliseconds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "AUDIT",
    "CREDENTIALS",
    "DEFAULTS",
    "STATUS",
    "AuditEntry",
    "Credential",
    "IntegrationDefault",
    "IntegrationStatus",
    "metadata",
]

metadata = SQLModel.metadata


class Credential(SQLModel, table=True):
    """One provider's encrypted credentials in one scope."""

    __tablename__ = "credentials"
    __table_args__ = (
        UniqueConstraint("provider", "project_id", "account", name="uq_credentials_account"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=64)
    scope: str = Field(max_length=16)  # "user" or "project"
    project_id: str = Field(default="", max_length=255)
    #: The connection's name among the provider's accounts in this scope.
    account: str = Field(default="default", max_length=64)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(max_length=32, index=True)
    enabled: bool = True
    last_used_at: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, sa_type=Text)
    error_count: int = 0
    created_at: int = Field(sa_type=BigInteger)
    updated_at: int = Field(sa_type=BigInteger)
    #: When the access token expires (OAuth), copied out of the sealed value so that
    #: ``refresh --due`` finds it by index; ``None``: no expiry; ``0``: not known yet.
    expires_at: int | None = Field(default=None, sa_type=BigInteger, index=True)
    #: When an idle refresh token must be exercised, before the provider's inactivity
    #: limit (``oauth.refreshTokenIdleDays``); ``None``: no such limit.
    refresh_by: int | None = Field(default=None, sa_type=BigInteger, index=True)

    def __repr__(self) -> str:  # never the ciphertext either
        return (
            f"Credential(provider={self.provider!r}, scope={self.scope!r}, "
            f"project_id={self.project_id!r}, account={self.account!r}, key_id={self.key_id!r})"
        )


class IntegrationStatus(SQLModel, table=True):
    """Health of a provider in one scope (the health tracker's memory)."""

    __tablename__ = "integration_status"
    __table_args__ = (
        UniqueConstraint("provider", "project_id", "account", name="uq_status_account"),
    )

    #: "provider:global:account" / "provider:<project>:account" (rows migrated from one
    #: account per scope keep "provider:global" / "provider:<project>").
    id: str = Field(primary_key=True, max_length=320)
    provider: str = Field(max_length=64)
    project_id: str = Field(default="", max_length=255)
    account: str = Field(default="default", max_length=64)
    status: str = Field(default="unknown", max_length=16)
    last_check_at: int | None = Field(default=None, sa_type=BigInteger)
    last_success_at: int | None = Field(default=None, sa_type=BigInteger)
    error_message: str | None = Field(default=None, sa_type=Text)
    metadata_json: str | None = Field(default=None, sa_column=Column("metadata", Text))
    rate_limited_until: int | None = Field(default=None, sa_type=BigInteger)
    error_total: int = 0
    #: The failure kind of ``error_message`` (``auth``, ``plugin``…; see results.FailureKind).
    error_kind: str | None = Field(default=None, max_length=32)


class IntegrationDefault(SQLModel, table=True):
    """Switches for a provider, globally (project_id "") or for one project.

    ``None`` means unset: a project inherits the global value, the global
    value falls back to the provider's ``defaults``.
    """

    __tablename__ = "integration_defaults"
    __table_args__ = (UniqueConstraint("provider", "project_id", name="uq_defaults_scope"),)

    id: str = Field(primary_key=True, max_length=320)
    provider: str = Field(max_length=64)
    project_id: str = Field(default="", max_length=255)
    enabled: bool | None = None
    mcp_enabled: bool | None = None
    skill_enabled: bool | None = None
    #: The account this scope uses (``navi-int use``): the user scope's default account,
    #: or the account a project is bound to (its own or the user's). ``None``: unset.
    account: str | None = Field(default=None, max_length=64)


class AuditEntry(SQLModel, table=True):
    """One audited access: a token read (``kind`` ``token_read``) or a gateway tool call
    (``tool_call``). Never a credential value: who asked for what, in which scope, and how
    it went."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "token_read" or "tool_call"
    provider: str = Field(max_length=64)
    project_id: str = Field(default="", max_length=255)  # "" = the user scope
    caller: str = Field(default="", max_length=255)  # "cli", "api", "api:session", an agent...
    tool: str | None = Field(default=None, max_length=255)  # the tool called (tool_call)
    duration_ms: int | None = None
    outcome: str = Field(default="ok", max_length=32)  # "ok" or the failure (error class/kind)
    at: int = Field(sa_type=BigInteger, index=True)


#: The tables as SQLAlchemy Core objects, for fast queries without the ORM. SQLModel sets
#: ``__table__`` on table models at class creation; its stubs do not declare it.
CREDENTIALS: Table = Credential.__table__  # type: ignore[attr-defined]  # see above
DEFAULTS: Table = IntegrationDefault.__table__  # type: ignore[attr-defined]  # see above
STATUS: Table = IntegrationStatus.__table__  # type: ignore[attr-defined]  # see above
AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]  # see above
