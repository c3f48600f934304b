"""The provider document as core logic reads it: the PRD's ``IntegrationProvider`` as JSON
(camelCase keys), typed so that mypy checks every read by key.

No ``from __future__ import annotations`` here: ``Required`` must be evaluated for
``__required_keys__`` to be right at run time (a test compares them with the model).
"""

from typing import Any, Literal, Required, TypedDict

__all__ = [
    "CliDocument",
    "DefaultsDocument",
    "FieldDocument",
    "OAuthDocument",
    "ProviderDocument",
    "ServedProviderDocument",
    "SkillDocument",
]


class FieldDocument(TypedDict, total=False):
    """One credential field (``CredentialField``) in a provider document."""

    key: Required[str]
    label: Required[str]
    type: Required[Literal["text", "password", "url"]]
    placeholder: str
    helpUrl: str
    required: Required[bool]
    pattern: str
    patternHint: str
    default: str


class OAuthDocument(TypedDict, total=False):
    """A provider's OAuth settings (``OAuthConfig``)."""

    authUrl: Required[str]
    tokenUrl: Required[str]
    scopes: Required[dict[str, str]]
    discovery: Literal["none", "mcp"]
    services: list[str]
    serviceScopes: dict[str, list[str]]
    baseScopes: list[str]
    pkce: bool
    authParams: dict[str, str]
    refreshTokenIdleDays: int | None


class CliDocument(TypedDict, total=False):
    """How a CLI-authenticated provider is driven (``CliConfig``)."""

    command: Required[str]
    authCommand: Required[str]
    checkCommand: str
    installHint: str


class SkillDocument(TypedDict, total=False):
    """The provider's Agent Skills by role (``SkillConfig``)."""

    usage: str
    setup: str


class DefaultsDocument(TypedDict, total=False):
    """The switches a provider starts with (``ProviderDefaults``)."""

    enabledGlobally: bool
    mcpEnabled: bool
    skillEnabled: bool


class ProviderDocument(TypedDict, total=False):
    """The provider document (``IntegrationProvider.to_document()``: camelCase keys; the
    optional sections absent where unset) as the catalog caches it and core logic reads
    it. Sections that no core rule reads key by key (``mcp``, ``api``, ``setupGuide``,
    ``healthCheck``) stay loose."""

    id: Required[str]
    name: Required[str]
    description: Required[str]
    #: As the plugin declares it (never rewritten): a path relative to the describing
    #: module's directory, an http(s) URL (never fetched), or "" (see
    #: ``IntegrationProvider.icon``). What a client loads is ``iconUrl``.
    icon: Required[str]
    color: Required[str]
    authType: Required[Literal["api_key", "oauth", "cli", "browser", "none"]]
    credentials: Required[list[FieldDocument]]
    oauth: OAuthDocument
    mcp: dict[str, Any]
    cli: CliDocument
    api: dict[str, Any]
    skill: SkillDocument
    setupGuide: Required[dict[str, Any]]
    setupSkill: str
    healthCheck: dict[str, Any]
    defaults: Required[DefaultsDocument]
    env: Required[dict[str, str]]


class ServedProviderDocument(ProviderDocument, total=False):
    """A provider document as the HTTP API serves it (``GET /api/credentials/providers``):
    the provider document plus what only the server knows. Additive: every key of
    :class:`ProviderDocument` keeps its meaning.

    ``iconUrl`` is where this server serves the provider's icon (an absolute path, e.g.
    ``/api/providers/linear/icon?v=<digest>``, answered as ``image/svg+xml``), or null
    when it serves none: the plugin gives no icon, gives an http(s) URL (never fetched),
    or its file was refused (``navi-int plugins`` says why). A client shows the name's
    initial then. ``status`` is the provider's status entry."""

    iconUrl: str | None
    status: dict[str, Any]
