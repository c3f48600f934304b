"""Built-in plugin: user-defined API-key providers declared in TOML files.

A user drops ``<config dir>/providers/<id>.toml`` (see
:func:`navi_integrations.paths.custom_providers_dir`) and the provider
behaves like one from a package::

    id = "acme"
    name = "Acme CRM"
    description = "Customer records"
    base_url = "https://api.acme.example/v1"

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

A file that cannot be read or is invalid is reported with its path and line
(``navi-int plugins``); the other files still load.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ProviderDefinitionError
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


class CustomProviderFile(_Strict):
    """Schema of one user-defined provider file."""

    id: str
    name: str
    description: str = ""
    base_url: str
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

    def to_provider(self) -> IntegrationProvider:
        """Build the :class:`IntegrationProvider` this file declares."""
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
        return IntegrationProvider(
            id=self.id,
            name=self.name,
            description=self.description or f"{self.name} (user-defined)",
            icon=self.icon,
            color=self.color,
            auth_type="api_key",
            credentials=[
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
                for f in self.fields
            ],
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


def load_file(path: Path) -> IntegrationProvider:
    """Read one provider file; :class:`ProviderDefinitionError` says where it is wrong."""
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
        raise ProviderDefinitionError(f"{path}:{line}", message) from None
    if path.stem != provider.id:
        raise ProviderDefinitionError(
            f"{path}:{_line_of(text, ('id',))}",
            f"id '{provider.id}' does not match the file name (expected {provider.id}.toml)",
        )
    return provider


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
            found.append(load_file(path))
        except ProviderDefinitionError as exc:
            found.append(exc)
    return found
