"""Built-in plugin: user-defined providers declared in TOML files: HTTP APIs, MCP servers.

A user drops ``<config dir>/providers/<id>.toml`` (see
:func:`navi_integrations.paths.custom_providers_dir`) and the provider
behaves like one from a package::

    id = "acme"
    name = "Acme CRM"
    description = "Customer records"
    base_url = "https://api.acme.example/v1"
    icon = "acme.svg"       # optional: an SVG file in this file's directory

    [[fields]]
    key = "apiKey"
    label = "API key"
    secret = true
    pattern = "acme_[a-z0-9]{32}"
    pattern_hint = "acme_ followed by 32 lowercase letters and digits"

    [auth]                  # how the key is sent
    header = "X-Api-Key"    # or: query = "api_key"
    template = "{{apiKey}}"

    [health]
    path = "/me"            # relative to base_url
    expected_status = 200

    [env]                   # for `navi-int run`
    ACME_API_KEY = "{{apiKey}}"

A remote MCP server is a file with an ``[mcp]`` table instead of
``base_url`` (``navi-int mcp add`` writes one)::

    id = "sentry"
    name = "Sentry"

    [mcp]
    url = "https://mcp.sentry.dev/mcp"
    transport = "http"          # or "sse"
    authorization = "oauth"     # MCP authorization (the default without headers);
                                # "none": the headers are all it needs
    client_id = "..."           # optional: a client registered beforehand
    [mcp.headers]               # optional: templates of fields, never values
    X-Api-Key = "{{headerXApiKey}}"

With ``authorization = "oauth"`` it is :func:`~navi_integrations.hosted_mcp_provider`'s
provider (``navi-int connect`` discovers, registers and signs in).

A file that cannot be read or is invalid is reported with its path and line
(``navi-int plugins``); the other files still load. So is a URL that cannot
work (``base_url`` or an absolute ``health.path`` that is not http(s)).

A file that loads but looks risky also gets a warning with its path and line
(:class:`ProviderDefinitionWarning`, shown among the problems of
``navi-int plugins`` and ``doctor``): credentials sent over plain
``http://`` to a host that is not the local machine, a health URL on another
host than ``base_url`` (the check sends the credentials there), a link that
is not http(s), and a ``pattern`` that can backtrack catastrophically (see
:func:`backtracking_risk`). Each provider remembers its file
(:attr:`UserDefinedProvider.source`), so a clash with an installed
provider's id can name the file, and its ``icon`` is found relative to the
file's directory (checked like a plugin's, see
:mod:`navi_integrations.plugins.icons`; a refused icon is reported with the
file's path).
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ..errors import ProviderDefinitionError, ProviderDefinitionWarning
from ..hookspecs import hookimpl
from ..models import (
    ApiAuth,
    ApiConfig,
    CredentialField,
    HealthCheckConfig,
    IntegrationProvider,
    ProviderDefaults,
    SetupGuide,
    SetupStep,
)
from ..paths import custom_providers_dir
from .pattern_risk import backtracking_risk

__all__ = [
    "CustomProviderFile",
    "ProviderDefinitionWarning",
    "UserDefinedProvider",
    "backtracking_risk",
    "describe",
    "load_file",
    "load_file_with_warnings",
]


class UserDefinedProvider(IntegrationProvider):
    """A provider declared by a TOML file: an :class:`IntegrationProvider` that knows its file."""

    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The TOML file declaring this provider (e.g. to name it when its id clashes)."""
        return self._source


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _FieldSpec(_Strict):
    key: str
    label: str
    secret: bool = True
    required: bool = True
    placeholder: str | None = None
    help_url: str | None = None
    pattern: str | None = None
    pattern_hint: str | None = None


class _AuthSpec(_Strict):
    header: str | None = None
    query: str | None = None
    template: str | None = None


class _HealthSpec(_Strict):
    path: str = "/"
    method: Literal["GET", "POST"] = "GET"
    expected_status: int = 200
    timeout_seconds: float = 10.0


class _StepSpec(_Strict):
    title: str
    detail: str = ""
    url: str | None = None


class _DefaultsSpec(_Strict):
    enabled_globally: bool = True
    skill_enabled: bool = True


class _McpSpec(_Strict):
    url: str
    transport: Literal["http", "sse"] = "http"
    #: "oauth": the server authorizes with MCP authorization (the default without headers);
    #: "none": the headers (templates naming fields) are all it needs.
    authorization: Literal["oauth", "none"] | None = None
    client_id: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @property
    def oauth(self) -> bool:
        return self.authorization == "oauth" or (self.authorization is None and not self.headers)


class CustomProviderFile(_Strict):
    """Schema of one user-defined provider file."""

    id: str
    name: str
    description: str = ""
    base_url: str | None = None
    mcp: _McpSpec | None = None
    docs_url: str | None = None
    icon: str = ""
    color: str = "gray"
    fields: list[_FieldSpec] = Field(
        default_factory=lambda: [_FieldSpec(key="apiKey", label="API key")]
    )
    auth: _AuthSpec = Field(default_factory=_AuthSpec)
    health: _HealthSpec | None = None
    setup: list[_StepSpec] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    defaults: _DefaultsSpec = Field(default_factory=_DefaultsSpec)

    @model_validator(mode="after")
    def _api_or_mcp(self) -> CustomProviderFile:
        if self.mcp is None and self.base_url is None:
            raise ValueError(
                "missing required key 'base_url': give base_url (an HTTP API) or an [mcp] "
                "table (an MCP server)"
            )
        if self.mcp is not None and self.base_url is not None:
            raise ValueError(
                "base_url and [mcp] cannot be combined: declare the HTTP API and the MCP "
                "server as two providers"
            )
        return self

    def to_provider(self) -> UserDefinedProvider:
        """Build the :class:`IntegrationProvider` this file declares."""
        if self.mcp is not None:
            return self._mcp_provider(self.mcp)
        assert self.base_url is not None  # checked by _api_or_mcp
        first_key = self.fields[0].key if self.fields else "apiKey"
        if self.auth.query is not None:
            auth = ApiAuth(
                header=None,
                query=self.auth.query,
                template=self.auth.template or f"{{{{{first_key}}}}}",
            )
        else:
            header = self.auth.header or "Authorization"
            default = (
                f"Bearer {{{{{first_key}}}}}"
                if header == "Authorization"
                else f"{{{{{first_key}}}}}"
            )
            auth = ApiAuth(header=header, template=self.auth.template or default)
        health = None
        if self.health is not None:
            health = HealthCheckConfig(
                endpoint=self.health.path,
                method=self.health.method,
                expected_status=self.health.expected_status,
                timeout_seconds=self.health.timeout_seconds,
            )
        return UserDefinedProvider(
            id=self.id,
            name=self.name,
            description=self.description or f"{self.name} (user-defined)",
            icon=self.icon,
            color=self.color,
            auth_type="api_key",
            credentials=self._fields(),
            api=ApiConfig(base_url=self.base_url, auth=auth, docs_url=self.docs_url),
            health_check=health,
            setup_guide=SetupGuide(
                summary=f"{self.name} is a user-defined provider.",
                steps=[SetupStep(title=s.title, detail=s.detail, url=s.url) for s in self.setup],
            ),
            defaults=ProviderDefaults(
                enabled_globally=self.defaults.enabled_globally,
                mcp_enabled=False,
                skill_enabled=self.defaults.skill_enabled,
            ),
            env=self.env,
        )

    def _fields(self) -> list[CredentialField]:
        # An MCP server's file declares only the fields its headers name.
        given = self.fields if "fields" in self.model_fields_set or self.mcp is None else []
        return [
            CredentialField(
                key=f.key,
                label=f.label,
                type="password" if f.secret else "text",
                required=f.required,
                placeholder=f.placeholder,
                help_url=f.help_url,
                pattern=f.pattern,
                pattern_hint=f.pattern_hint,
            )
            for f in given
        ]

    def _mcp_provider(self, mcp: _McpSpec) -> UserDefinedProvider:
        from ..hosted_mcp import hosted_mcp_provider

        defaults = ProviderDefaults(
            enabled_globally=self.defaults.enabled_globally,
            mcp_enabled=True,
            skill_enabled=self.defaults.skill_enabled,
        )
        if mcp.oauth:
            provider = hosted_mcp_provider(
                self.id,
                self.name,
                mcp.url,
                description=self.description,
                transport=mcp.transport,
                client_id=mcp.client_id,
                headers=mcp.headers,
                credentials=self._fields(),
                docs_url=self.docs_url,
                icon=self.icon,
                color=self.color,
                defaults=defaults,
                provider_class=UserDefinedProvider,
            )
            assert isinstance(provider, UserDefinedProvider)
            return provider
        fields = self._fields()
        server = {"transport": mcp.transport, "url": mcp.url, "headers": mcp.headers}
        return UserDefinedProvider(
            id=self.id,
            name=self.name,
            description=self.description or f"{self.name} (user-defined MCP server)",
            icon=self.icon,
            color=self.color,
            auth_type="api_key" if any(f.secret for f in fields) else "none",
            credentials=fields,
            mcp=server,
            setup_guide=SetupGuide(
                summary=f"{self.name} is a user-defined MCP server at {mcp.url}.",
                steps=[SetupStep(title=s.title, detail=s.detail, url=s.url) for s in self.setup],
            ),
            defaults=defaults,
            env=self.env,
        )


def load_file(path: Path) -> UserDefinedProvider:
    """Read one provider file; :class:`ProviderDefinitionError` says where it is wrong."""
    return load_file_with_warnings(path)[0]


def load_file_with_warnings(
    path: Path,
) -> tuple[UserDefinedProvider, list[ProviderDefinitionWarning]]:
    """Read one provider file, with a warning for each risk found in it.

    Raises :class:`ProviderDefinitionError` saying where the file is wrong.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProviderDefinitionError(str(path), f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = match.group(1) if match else "1"
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ProviderDefinitionError(f"{path}:{line}", f"invalid TOML: {reason}") from None
    try:
        spec = CustomProviderFile.model_validate(data)
        provider = spec.to_provider()
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        line = _line_of(text, loc)
        where = ".".join(str(p) for p in loc) or "file"
        message = f"{where}: {error['msg']}"
        if error["type"] == "extra_forbidden":
            message = f"unknown key '{where}'"
        elif error["type"] == "missing":
            message = f"missing required key '{where}'"
        elif error["type"] == "value_error":  # a validator's sentence, without pydantic's prefix
            reason = str(error.get("ctx", {}).get("error", error["msg"]))
            message = reason if not loc else f"{where}: {reason}"
        raise ProviderDefinitionError(f"{path}:{line}", message) from None
    if path.stem != provider.id:
        raise ProviderDefinitionError(
            f"{path}:{_line_of(text, ('id',))}",
            f"id '{provider.id}' does not match the file name (expected {provider.id}.toml)",
        )
    warnings = _risks(spec, path, text)
    provider._source = path
    return provider, warnings


def _line_of(text: str, loc: tuple[Any, ...]) -> int:
    """Best line for a validation error at ``loc`` (1-based): the key, else its table."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    parts = list(loc)
    if len(parts) > 1 and isinstance(parts[0], str):
        table = parts.pop(0)
        index = parts.pop(0) if parts and isinstance(parts[0], int) else 0
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        seen = -1
        for i, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if seen == index:
                    start = i
                    break
        else:
            return _key_line(lines, 0, len(lines), table) or 1
        end = next(
            (j for j in range(start + 1, len(lines)) if lines[j].lstrip().startswith("[")),
            len(lines),
        )
    else:
        end = next((j for j, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    key = next((p for p in parts if isinstance(p, str)), None)
    return (_key_line(lines, start, end, key) if key else None) or start + 1


def _key_line(lines: list[str], start: int, end: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for i in range(start, end):
        if pattern.match(lines[i]):
            return i + 1
    return None


@hookimpl
def describe() -> list[IntegrationProvider | ProviderDefinitionError]:
    """Every provider declared in the user's provider directory, and each file's error."""
    folder = custom_providers_dir()
    if not folder.is_dir():
        return []
    found: list[IntegrationProvider | ProviderDefinitionError] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            provider, warnings = load_file_with_warnings(path)
        except ProviderDefinitionError as exc:
            found.append(exc)
            continue
        found.append(provider)
        found.extend(warnings)
    return found


# -- risky definitions ----------------------------------------------------

_WEB_SCHEMES = ("http", "https")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scheme_of(url: SplitResult) -> str:
    return f"'{url.scheme}:'" if url.scheme else "no scheme"


def _risks(spec: CustomProviderFile, path: Path, text: str) -> list[ProviderDefinitionWarning]:
    """Warnings for a valid file; raises for a URL that cannot work."""

    def at(*loc: Any) -> str:
        return f"{path}:{_line_of(text, loc)}"

    secret = any(f.secret for f in spec.fields)
    what = "credentials" if len(spec.fields) > 1 else (spec.fields[0].label if spec.fields else "")
    loc: tuple[str, ...]
    if spec.mcp is not None:
        name, loc, target = "mcp.url", ("mcp", "url"), spec.mcp.url
        if spec.mcp.oauth:
            secret, what = True, "access token"
        elif "fields" not in spec.model_fields_set:
            secret = False
    else:
        name, loc, target = "base_url", ("base_url",), spec.base_url or ""
    warnings: list[ProviderDefinitionWarning] = []
    base = urlsplit(target)
    if base.scheme not in _WEB_SCHEMES or not base.hostname:
        raise ProviderDefinitionError(
            at(*loc),
            f"{name} must be an http:// or https:// URL with a host ({_scheme_of(base)})",
        )
    sent: list[tuple[str, SplitResult, tuple[str, ...]]] = [(name, base, loc)]
    if spec.health is not None and "://" in spec.health.path:
        health = urlsplit(spec.health.path)
        if health.scheme not in _WEB_SCHEMES or not health.hostname:
            raise ProviderDefinitionError(
                at("health", "path"),
                "health.path must be a path relative to base_url or an http(s):// URL "
                f"({_scheme_of(health)})",
            )
        sent.append(("health.path", health, ("health", "path")))
        if health.hostname != base.hostname:
            warnings.append(
                ProviderDefinitionWarning(
                    at("health", "path"),
                    f"health.path is on {health.hostname}, not on the base_url's host "
                    f"{base.hostname}: the health check sends the {what} there",
                )
            )
    for name, url, where in sent:
        if secret and url.scheme == "http" and not _is_loopback(url.hostname or ""):
            warnings.append(
                ProviderDefinitionWarning(
                    at(*where),
                    f"{name} uses plain http://, so the {what} would cross the network "
                    "unencrypted: use https://",
                )
            )
    links: list[tuple[str | None, tuple[Any, ...]]] = [(spec.docs_url, ("docs_url",))]
    links += [(f.help_url, ("fields", i, "help_url")) for i, f in enumerate(spec.fields)]
    links += [(step.url, ("setup", i, "url")) for i, step in enumerate(spec.setup)]
    for link, link_loc in links:
        if link and urlsplit(link).scheme not in _WEB_SCHEMES:
            name = ".".join(str(part) for part in link_loc)
            warnings.append(
                ProviderDefinitionWarning(
                    at(*link_loc),
                    f"{name} is not an http(s) link ({_scheme_of(urlsplit(link))}); "
                    "it is shown to users as one",
                )
            )
    for i, field in enumerate(spec.fields):
        if field.pattern and backtracking_risk(field.pattern):
            warnings.append(
                ProviderDefinitionWarning(
                    at("fields", i, "pattern"),
                    f"fields.{i}.pattern can take exponential time on some values (a repeated "
                    "part that can match in several ways, like (a+)+): values are refused when "
                    "it runs too long, and other tools may hang on it; rewrite it",
                )
            )
    return warnings
