"""Pydantic models that describe a provider (PRD F1) and the credentials given to it.

Every model serialises with the PRD's camelCase keys
(``provider.model_dump(mode="json", by_alias=True)``) and accepts either
spelling on input. Models are frozen: a provider description is a value.
The provider's sections (setup guide, OAuth, MCP server, CLI, API, skills,
health check, defaults) are defined in :mod:`._model_sections` and
re-exported here; this module holds the provider, its credential fields and
the rules that tie the sections to those fields.

Templates: strings in ``mcp``, ``env`` and ``api.auth`` may contain
``{{field}}`` placeholders naming a credential field (or a runtime value such
as ``accessToken`` for OAuth providers); they are filled from the stored
credentials when a config is produced, never stored filled. A field the
connection has no value for yields its declared ``default``; an optional field
with neither leaves its entry out (the env variable, the MCP argument, env
entry or header, the API auth header).

URLs: ``api.baseUrl``, ``api.urls``, the OAuth URLs, ``healthCheck.endpoint``
and a remote ``mcp.url`` may contain placeholders too, naming non-secret
fields: that is how a provider supports self-hosted instances::

    credentials=[CredentialField(key="baseUrl", label="Sentry URL", type="url",
                                 default="https://sentry.io")],
    api=ApiConfig(base_url="{{baseUrl}}/api/0"),

Every URL the core resolves then follows one precedence
(:meth:`IntegrationProvider.url`): ``NAVI_<PROVIDER>_<NAME>_URL``, else the
connection's field value, else the field's default. A template that could
never be filled (an unknown field, a URL naming a secret or an optional field
without default) is refused when the provider loads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from ._model_sections import (
    DISCOVERED_FIELDS,
    ApiAuth,
    ApiConfig,
    CliConfig,
    DocumentModel,
    HealthCheckConfig,
    HttpMcpServer,
    McpServer,
    OAuthConfig,
    ProviderDefaults,
    SetupGuide,
    SetupStep,
    SkillConfig,
    SseMcpServer,
    StdioMcpServer,
)
from .credentials import Credentials, MissingValue, placeholders
from .errors import Advice, CredentialsError, FieldProblem
from .placeholders import env_url_name

__all__ = [
    "ApiAuth",
    "ApiConfig",
    "AuthType",
    "CliConfig",
    "CredentialField",
    "Credentials",
    "HealthCheckConfig",
    "HttpMcpServer",
    "IntegrationProvider",
    "McpServer",
    "MissingValue",
    "OAuthConfig",
    "ProviderDefaults",
    "SetupGuide",
    "SetupStep",
    "SkillConfig",
    "SseMcpServer",
    "StdioMcpServer",
    "check_credential_values",
    "env_url_name",
    "placeholders",
]

AuthType = Literal["api_key", "oauth", "cli", "browser", "none"]

_PROVIDER_ID = r"^[a-z][a-z0-9-]{0,62}[a-z0-9]$|^[a-z]$"
_FIELD_KEY = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
_ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"

# Values known only once a provider is connected, usable as placeholders.
_RUNTIME_FIELDS: dict[str, frozenset[str]] = {
    "oauth": frozenset({"accessToken"}),
    "cli": frozenset({"token"}),
}


class CredentialField(DocumentModel):
    """One value the user supplies to connect (an API key, a team id, an OAuth client id)."""

    key: Annotated[str, Field(pattern=_FIELD_KEY)]
    label: str
    type: Literal["text", "password", "url"] = "password"
    placeholder: str | None = None
    help_url: str | None = None
    required: bool = True
    pattern: str | None = Field(
        default=None, description="Regular expression the whole value must match."
    )
    pattern_hint: str | None = Field(
        default=None, description="What a valid value looks like, shown when it does not match."
    )
    default: str | None = Field(
        default=None,
        description="Value used when the connection has none (e.g. https://sentry.io for a "
        "self-hostable service). A field with a default is optional.",
    )

    @property
    def secret(self) -> bool:
        """Whether the value is a secret (hidden input, encrypted, never printed)."""
        return self.type == "password"

    @model_validator(mode="before")
    @classmethod
    def _default_makes_optional(cls, data: Any) -> Any:
        # A default fills the value in, so the user need not give one: unless the
        # author said otherwise, such a field is optional (and saying "required" is refused).
        defaulted = isinstance(data, Mapping) and data.get("default") not in (None, "")
        if defaulted and "required" not in data:
            return {**data, "required": False}
        return data

    @model_validator(mode="after")
    def _default_consistent(self) -> CredentialField:
        if self.default is None:
            return self
        if self.secret:
            raise ValueError(f"field '{self.key}' is a secret (type password): it has no default")
        if self.required:
            raise ValueError(
                f"field '{self.key}' has a default, so it cannot be required (drop 'required')"
            )
        problem = _value_problem(self, self.default)
        if problem is not None:
            raise ValueError(f"the default of field '{self.key}' fails its own checks: {problem}")
        return self

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return value


class IntegrationProvider(DocumentModel):
    """Everything about one integration (PRD F1): identity, auth, access methods, setup."""

    id: Annotated[str, Field(pattern=_PROVIDER_ID)]
    name: str
    description: str
    icon: str = Field(
        default="",
        description=(
            "The provider's icon: an SVG file, as a path relative to the directory of the "
            "module that describes the provider (a plugin package's __init__.py: "
            "icon='icon.svg' is the file beside it; a user's TOML provider file: that "
            "file's directory), served by `navi-int serve` at /api/providers/{id}/icon. "
            "The file must stay inside that directory (no '..', not absolute), be at most "
            "64 KiB, and be a self-contained SVG image (no script, event handlers, DOCTYPE, "
            "foreignObject or reference outside the file); one that is not is reported as a "
            "load problem and not served. An http(s) URL is accepted but never fetched; "
            "empty means none. Without a served icon the settings page shows the name's "
            "initial."
        ),
    )
    color: str = "gray"
    auth_type: AuthType
    credentials: list[CredentialField] = Field(default_factory=list)
    oauth: OAuthConfig | None = None
    mcp: McpServer | None = None
    cli: CliConfig | None = None
    api: ApiConfig | None = None
    skill: SkillConfig | None = None
    setup_guide: SetupGuide = Field(default_factory=SetupGuide)
    setup_skill: str | None = None
    health_check: HealthCheckConfig | None = None
    defaults: ProviderDefaults = Field(default_factory=ProviderDefaults)
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables handed to scripts (navi-int run), as templates.",
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.match(_ENV_NAME, name):
                raise ValueError(f"'{name}' is not a valid environment variable name")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> IntegrationProvider:
        keys = [f.key for f in self.credentials]
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise ValueError(f"duplicate credential field(s): {', '.join(sorted(duplicates))}")
        if self.auth_type == "oauth" and self.oauth is None:
            raise ValueError("authType 'oauth' needs an 'oauth' section")
        if self.auth_type == "cli" and self.cli is None:
            raise ValueError("authType 'cli' needs a 'cli' section")
        known = self.template_fields()
        for where, template in self._templates():
            unknown = placeholders(template) - known
            if unknown:
                names = ", ".join(sorted(unknown))
                raise ValueError(f"{where} uses unknown placeholder(s) {{{{{names}}}}}")
        for where, template in self._url_templates():
            for key in sorted(placeholders(template)):
                spec = self.field(key)
                if spec is None and where == "mcp.url" and key in known:
                    continue  # a runtime value (an OAuth access token) in a remote MCP URL
                discovered = key in DISCOVERED_FIELDS and where.startswith("oauth.")
                if spec is None and discovered and self.mcp_authorization:
                    continue  # discovered when it connects, stored with the grant
                if spec is None:
                    raise ValueError(f"{where} uses unknown placeholder(s) {{{{{key}}}}}")
                if spec.secret and not where.startswith("mcp."):
                    # a secret in a URL ends up in logs and proxies: send it with api.auth
                    raise ValueError(f"{where} uses the secret field '{key}' in a URL")
                if not spec.required and spec.default is None:
                    raise ValueError(
                        f"{where} can never be filled when field '{key}' is empty: "
                        f"give '{key}' a default or make it required"
                    )
        return self

    def template_fields(self) -> frozenset[str]:
        """Names a ``{{field}}`` placeholder may use: credential keys plus runtime values."""
        return frozenset(f.key for f in self.credentials) | self.runtime_fields()

    def runtime_fields(self) -> frozenset[str]:
        """Values known only once connected (an OAuth access token; for MCP authorization
        the discovered endpoints), usable as placeholders but never asked for."""
        runtime = _RUNTIME_FIELDS.get(self.auth_type, frozenset())
        if self.mcp_authorization:
            runtime |= DISCOVERED_FIELDS
        return runtime

    @property
    def mcp_authorization(self) -> bool:
        """Whether the provider authorizes through its MCP server (``oauth.discovery='mcp'``)."""
        return self.oauth is not None and self.oauth.discovery == "mcp"

    def _templates(self) -> Iterator[tuple[str, str]]:
        for name, value in self.env.items():
            yield f"env.{name}", value
        if self.mcp is not None:
            if isinstance(self.mcp, StdioMcpServer):
                for i, arg in enumerate(self.mcp.args):
                    yield f"mcp.args[{i}]", arg
                for name, value in self.mcp.env.items():
                    yield f"mcp.env.{name}", value
            else:
                for name, value in self.mcp.headers.items():
                    yield f"mcp.headers.{name}", value
        if self.api is not None and self.api.auth is not None:
            yield "api.auth.template", self.api.auth.template

    def _url_templates(self) -> Iterator[tuple[str, str]]:
        """URLs, which must always resolve: no optional field without default in them."""
        for name, url in self._declared_urls().items():
            yield _URL_WHERE.get(name, f"api.urls.{name}"), url
        if self.health_check is not None and self.health_check.endpoint is not None:
            yield "healthCheck.endpoint", self.health_check.endpoint
        if self.mcp is not None and not isinstance(self.mcp, StdioMcpServer):
            yield "mcp.url", self.mcp.url

    def _declared_urls(self) -> dict[str, str]:
        urls: dict[str, str] = {}
        if self.api is not None:
            urls["api"] = self.api.base_url
            urls.update(self.api.urls)
        if self.oauth is not None:
            urls["auth"] = self.oauth.auth_url
            urls["token"] = self.oauth.token_url
        return urls

    def field(self, key: str) -> CredentialField | None:
        """Return the credential field named ``key``, or ``None``."""
        return next((f for f in self.credentials if f.key == key), None)

    def field_defaults(self) -> dict[str, str]:
        """The declared default of every field that has one."""
        return {f.key: f.default for f in self.credentials if f.default is not None}

    def optional_fields(self) -> frozenset[str]:
        """Keys of the fields a connection may leave empty (for MCP authorization, the
        access token too: a server that asks for none gets no ``Authorization`` header)."""
        optional = frozenset(f.key for f in self.credentials if not f.required)
        return optional | {"accessToken"} if self.mcp_authorization else optional

    def fill(self, template: str, credentials: Mapping[str, SecretStr] | None = None) -> str | None:
        """Fill a template from ``credentials``, the field defaults, and nothing else.

        Returns ``None`` when the template names an optional field that has
        neither a value nor a default: the caller leaves that entry out.
        Raises :class:`~navi_integrations.errors.CredentialsError` naming a
        required field with no value (a connection made before the plugin
        declared it), advising to connect again.
        """
        try:
            return _as_credentials(credentials).fill_or_omit(
                template, defaults=self.field_defaults(), optional=self.optional_fields()
            )
        except MissingValue as missing:
            raise CredentialsError(
                self.id,
                f"{self.name} has no '{missing.field}' value",
                advice=Advice("connect", f"navi-int connect {self.id}"),
            ) from None

    def endpoints(self, credentials: Mapping[str, SecretStr] | None = None) -> dict[str, str]:
        """Every named URL of the provider, resolved as :meth:`url` does.

        Names: ``api`` (the API base URL), each of ``api.urls``, and for OAuth
        providers ``auth`` and ``token``. A URL that names a field with no value
        and no default (a required base URL before the provider is connected)
        is given unfilled.
        """
        resolved: dict[str, str] = {}
        for name, template in self._declared_urls().items():
            try:
                resolved[name] = self.url(name, credentials)
            except CredentialsError:
                resolved[name] = template
        return resolved

    def url(self, name: str, credentials: Mapping[str, SecretStr] | None = None) -> str:
        """Resolve URL ``name`` for a connection.

        Precedence: ``NAVI_<ID>_<NAME>_URL`` if set, else the declared URL
        filled with the connection's field values (``credentials``), else with
        the fields' defaults. Without ``credentials`` only overrides and
        defaults apply. Raises ``KeyError`` when the provider declares no URL
        of that name, :class:`~navi_integrations.errors.CredentialsError` when
        a field it needs has no value.
        """
        override = os.environ.get(env_url_name(self.id, name))
        if override:
            return override
        template = self._declared_urls()[name]
        filled = self.fill(template, credentials)
        assert filled is not None  # refused at load time: URLs name no optional-without-default
        return filled

    def to_document(self) -> dict[str, Any]:
        """The provider as a JSON document with the PRD's camelCase keys."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


_URL_WHERE = {"api": "api.baseUrl", "auth": "oauth.authUrl", "token": "oauth.tokenUrl"}


def _as_credentials(values: Mapping[str, SecretStr] | None) -> Credentials:
    if isinstance(values, Credentials):
        return values
    return Credentials(values or {})


#: Longest credential value accepted, in characters: room for PEM keys and service-account
#: JSON, yet a pasted file or runaway input is refused before it is stored or matched.
MAX_CREDENTIAL_CHARS = 65_536
#: Seconds a field's ``pattern`` may take on one value before the value is refused: patterns
#: come from plugins and user files, and one that backtracks catastrophically must not hang us.
PATTERN_TIMEOUT_SECONDS = 0.25


def check_credential_values(
    provider: IntegrationProvider, values: Mapping[str, str | SecretStr]
) -> list[FieldProblem]:
    """Check values against the provider's declared fields: required, known, sane, pattern.

    Returns one :class:`FieldProblem` per refused field (empty when all is
    well). A value is refused when it holds a NUL character or is not valid
    text, when it is longer than :data:`MAX_CREDENTIAL_CHARS`, and when it
    does not match the field's ``pattern`` within
    :data:`PATTERN_TIMEOUT_SECONDS` (matched with the ``regex`` engine and its
    time limit). Messages describe what is expected and never quote the value.
    """
    problems: list[FieldProblem] = []
    declared = {f.key for f in provider.credentials}
    for key in values:
        if key not in declared:
            expected = ", ".join(sorted(declared)) or "none"
            problems.append(FieldProblem(key, f"unknown field (expected: {expected})"))
    for spec in provider.credentials:
        raw = values.get(spec.key)
        value = raw.get_secret_value() if isinstance(raw, SecretStr) else raw
        if not value:
            if spec.required:
                problems.append(FieldProblem(spec.key, f"{spec.label} is required"))
            continue
        problem = _value_problem(spec, value)
        if problem is not None:
            problems.append(FieldProblem(spec.key, problem))
    return problems


def _value_problem(spec: CredentialField, value: str) -> str | None:
    """What is wrong with one non-empty value, in words that never quote it."""
    if "\0" in value:
        return f"{spec.label} contains a NUL character (\\0): enter the value again"
    if len(value) > MAX_CREDENTIAL_CHARS:
        return f"{spec.label} is longer than {MAX_CREDENTIAL_CHARS} characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{spec.label} is not valid text (it holds an unpaired surrogate)"
    if value != value.strip():
        return "has leading or trailing whitespace"
    if spec.pattern:
        import regex

        try:
            matched = regex.fullmatch(spec.pattern, value, timeout=PATTERN_TIMEOUT_SECONDS)
        except TimeoutError:
            return (
                f"{spec.label} could not be checked: the provider's pattern for it takes too "
                "long (a pattern that backtracks); ask the provider's author to fix it"
            )
        except regex.error:
            return f"{spec.label} could not be checked: the provider's pattern is not supported"
        if matched is None:
            expected = spec.pattern_hint or f"a value matching {spec.pattern}"
            return f"{spec.label} is malformed: expected {expected}"
    return None
