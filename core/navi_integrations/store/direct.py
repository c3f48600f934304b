"""The fast read path: ``token``, ``run`` and ``list`` through the DB-API driver alone.

Agents call ``navi-int token`` and ``navi-int run`` in loops, and most of
their cost was importing SQLAlchemy, SQLModel and pydantic to run one
``SELECT``. This module reads the tables that SQLModel and alembic own with
the driver directly (``sqlite3``; ``psycopg`` for PostgreSQL), decrypts with
:mod:`navi_integrations.store.crypto`, and applies the same rules as the
service (:mod:`navi_integrations.statuses`).

Each reader returns ``None`` when it cannot answer alone, and the caller then
asks the service (the full path: SQLAlchemy, pydantic, plugins) instead:

* the URL is neither ``sqlite:///…`` nor PostgreSQL through psycopg, the
  database does not exist yet, or its schema is not at
  :data:`~navi_integrations.store.schema.SCHEMA_REVISION` (the service
  creates or migrates it);
* a write is due: ``last_used_at`` is recorded at most once a minute per
  credential, and writes stay with the store's SQLAlchemy code (one owner of
  the schema, one locking discipline) — so a loop pays the full path at
  most once a minute. The one exception is the audit entry of a token read
  (:data:`AUDIT_INSERT_SQL`): written on every read, it would otherwise send
  every read down the full path; it is a single-statement append that no
  other code reads back to modify;
* an OAuth token expires within ``NAVI_INTEGRATIONS_REFRESH_MARGIN``
  seconds (default 300) and must be refreshed;
* the provider authenticates through a CLI (its token comes from a hook);
* ``list --json`` where a provider's last error needs advice (worded by the
  service's recovery rules);
* any error it is not sure about (driver errors, a malformed key or margin).

What it can answer itself it answers exactly as the service does: the same
:class:`~navi_integrations.errors.NotConnected`,
:class:`~navi_integrations.errors.IntegrationDisabled`,
:class:`~navi_integrations.errors.DecryptionFailed` and field errors, with the
same text and advice, audited alike. Connections are opened with the
engine's settings — read-only (SQLite ``mode=ro``, a read-only snapshot on
PostgreSQL) unless a token read is audited — and closed before returning,
so that a fallback in the same process starts from a clean state.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..errors import NaviError
from ..statuses import (
    NO_DETAILS,
    credential_in_effect,
    credential_key,
    granted_services,
    health_detail,
    project_switches,
    provider_statuses,
    token_field,
)
from ..statuses import status_document as status_document_of
from .driver import CannotAnswer, Keys, Reader, checked_project, connect, expand, now_ms, open_row
from .queries.statements import (
    AUDIT_INSERT_SQL,
    CREDENTIAL_VIEW_SQL,
    CREDENTIALS_IN_SCOPE_SQL,
    HEALTH_IN_SCOPE_SQL,
    SWITCHES_IN_SCOPE_SQL,
)

# Imported where used: `list` decrypts nothing, and plain `token` builds no document
# (each frozen dataclass a module defines costs about 2 % of the whole process).
if TYPE_CHECKING:
    from pydantic import SecretStr

    from ..documents import ProviderStatus, Token

__all__ = [
    "LAST_USED_RESOLUTION_MS",
    "REFRESH_MARGIN_SECONDS",
    "credentials",
    "env_for",
    "status_document",
    "statuses",
    "token",
    "token_value",
]

#: ``last_used_at`` is written at most this often per credential (milliseconds).
LAST_USED_RESOLUTION_MS = 60_000
#: Default of ``NAVI_INTEGRATIONS_REFRESH_MARGIN`` (the token refresher's margin, seconds).
REFRESH_MARGIN_SECONDS = 300.0

Row = Mapping[str, Any]
Document = Mapping[str, Any]


def _refresh_margin_ms(environ: Mapping[str, str]) -> float:
    raw = environ.get("NAVI_INTEGRATIONS_REFRESH_MARGIN")
    try:
        return (float(raw) if raw else REFRESH_MARGIN_SECONDS) * 1000
    except ValueError:
        raise CannotAnswer from None


def _row_values(
    reader: Reader,
    keys: Keys,
    doc: Document,
    project_id: str | None,
    *,
    require_enabled: bool,
) -> tuple[Row, dict[str, str]]:
    """The credential row in effect and its values, decrypted (the service's errors)."""
    provider_id = str(doc["id"])
    rows = reader.fetch(CREDENTIAL_VIEW_SQL, {"provider": provider_id, "pid": project_id or ""})
    scope, row = credential_in_effect(
        doc, provider_id, project_id, rows, require_enabled=require_enabled
    )
    return row, open_row(keys, provider_id, scope, row)


def _credentials(
    reader: Reader,
    keys: Keys,
    doc: Document,
    project_id: str | None,
    environ: Mapping[str, str],
) -> dict[str, str]:
    """The credentials ``get_credentials`` would return, when no write or hook is needed."""
    if doc["authType"] == "cli":
        raise CannotAnswer  # the token comes from the provider's runtime_credentials hook
    row, values = _row_values(reader, keys, doc, project_id, require_enabled=True)
    now = now_ms()
    if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_RESOLUTION_MS:
        raise CannotAnswer  # last_used_at is due: the service writes it
    if doc["authType"] == "oauth" and "accessToken" in values and "expiresAt" in values:
        try:
            expires_ms = int(values["expiresAt"])
        except ValueError:
            raise CannotAnswer from None
        if expires_ms - now < _refresh_margin_ms(environ):
            raise CannotAnswer  # the refresher renews it, once across callers
    return values


class _Revealed:
    """A secret with :class:`pydantic.SecretStr`'s reading interface, without pydantic."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The plain value (only ``navi-int token`` prints it)."""
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"


def credentials(
    doc: Document,
    *,
    project_id: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str] | None:
    """The values the service's ``get_credentials`` returns for the provider ``doc``
    describes, as plain strings; ``None`` when only the service can answer (see the module
    docstring).

    Raises the service's errors for what it can tell alone: :class:`NotConnected`,
    :class:`IntegrationDisabled`, :class:`DecryptionFailed`.
    """
    env = os.environ if environ is None else environ
    project_id = checked_project(project_id)
    try:
        with connect(env) as reader:
            return _credentials(reader, Keys(env), doc, project_id, env)
    except CannotAnswer:
        return None


def _read_token(
    doc: Document,
    project_id: str | None,
    field: str | None,
    caller: str | None,
    environ: Mapping[str, str] | None,
) -> tuple[str, int | None] | None:
    """The value ``get_token`` hands out and its expiry, audited as the service audits a
    read by ``caller`` (refused or not); ``None`` when only the service can answer."""
    env = os.environ if environ is None else environ
    provider_id = str(doc["id"])
    project_id = checked_project(project_id)
    try:
        with connect(env, writes=caller is not None) as reader:
            try:
                values = _credentials(reader, Keys(env), doc, project_id, env)
                chosen = token_field(doc, provider_id, values, field)
            except NaviError as exc:
                if caller is not None:
                    _audit(reader, provider_id, project_id, caller, type(exc).__name__)
                raise
            if caller is not None:
                _audit(reader, provider_id, project_id, caller, "ok")
    except CannotAnswer:
        return None
    expires = values.get("expiresAt")
    return values[chosen], int(expires) if expires else None


def _audit(
    reader: Reader, provider_id: str, project_id: str | None, caller: str, outcome: str
) -> None:
    """The entry the service's ``audit_token_read`` records (never the value)."""
    entry = {
        "kind": "token_read",
        "provider": provider_id,
        "project_id": project_id or "",
        "caller": caller[:255],
        "tool": None,
        "duration_ms": None,
        "outcome": outcome[:32],
        "at": now_ms(),
    }
    reader.write(AUDIT_INSERT_SQL, entry)


def token_value(
    doc: Document,
    *,
    project_id: str | None = None,
    field: str | None = None,
    caller: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The plain value of :func:`token` (what ``navi-int token`` prints), without building
    the token document; ``None`` when only the service can answer."""
    found = _read_token(doc, project_id, field, caller, environ)
    return None if found is None else found[0]


def token(
    doc: Document,
    *,
    project_id: str | None = None,
    field: str | None = None,
    caller: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Token | None:
    """What the service's ``get_token`` returns for the provider ``doc`` describes, with
    the same audit entry for ``caller``; ``None`` when only the service can answer.

    Raises the service's errors for what it can tell alone: :class:`NotConnected`,
    :class:`IntegrationDisabled`, :class:`DecryptionFailed`, a missing field or token.
    """
    from ..documents import Token

    found = _read_token(doc, project_id, field, caller, environ)
    if found is None:
        return None
    value, expires = found
    # Token.value is a SecretStr; _Revealed reads the same and keeps pydantic unloaded.
    return Token(doc["authType"], cast("SecretStr", _Revealed(value)), expires)


# As credentials._PLACEHOLDER; a pattern string, compiled (and cached by re) only by `run`.
_PLACEHOLDER = r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}"


def env_for(
    provider_ids: Sequence[str],
    project_id: str | None,
    document: Callable[[str], Document],
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str] | None:
    """The variables ``navi-int run --with`` sets: each provider's ``env`` templates filled
    from its credentials, an empty value taking its field's default, and a variable whose
    optional field has neither left out; ``None`` when only the service can answer.

    Providers are taken in order, as the slow path takes them: ``document``
    (the catalog's) raises for an unknown id, and the first provider that is
    not connected or disabled raises the service's error. A template naming a
    required value the credentials lack also returns ``None``, so that ``run``
    reports it in its own words.
    """
    env = os.environ if environ is None else environ
    project_id = checked_project(project_id)
    filled: dict[str, str] = {}
    try:
        with connect(env) as reader:
            keys = Keys(env)
            for provider_id in provider_ids:
                doc = document(provider_id)
                values = _credentials(reader, keys, doc, project_id, env)
                fields = doc.get("credentials") or []
                defaults = {f["key"]: f["default"] for f in fields if f.get("default")}
                optional = {f["key"] for f in fields if not f.get("required", True)}
                for var, template in (doc.get("env") or {}).items():
                    value = _fill(template, values, defaults, optional)
                    if value is not None:
                        filled[var] = value
    except CannotAnswer:
        return None
    return filled


def _fill(
    template: str, values: Mapping[str, str], defaults: Mapping[str, str], optional: set[str]
) -> str | None:
    """``Credentials.fill_or_omit`` without pydantic: ``None`` leaves the variable out; a
    required value with no default leaves the answer to ``run``."""
    omitted = False

    def value(match: re.Match[str]) -> str:
        nonlocal omitted
        key = match.group(1)
        found = values.get(key) or defaults.get(key)
        if found:
            return found
        if key in optional:
            omitted = True
            return ""
        raise CannotAnswer

    text = re.sub(_PLACEHOLDER, value, template)
    return None if omitted else text


def _scope_rows(
    reader: Reader, ids: Sequence[str], project_id: str | None
) -> tuple[Sequence[Row], Sequence[Row], Sequence[Row]]:
    params: dict[str, Any] = {"pid": project_id or ""}
    found: list[list[dict[str, Any]]] = []
    for sql in (CREDENTIALS_IN_SCOPE_SQL, SWITCHES_IN_SCOPE_SQL, HEALTH_IN_SCOPE_SQL):
        text, names = expand(sql, ids)
        found.append(reader.fetch(text, {**params, **names}))
    return found[0], found[1], found[2]


def statuses(
    documents: Mapping[str, Document],
    project_id: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> list[ProviderStatus] | None:
    """What the service's ``status`` returns for these providers (id -> document, in
    order), or ``None`` when only the service can answer."""
    env = os.environ if environ is None else environ
    project_id = checked_project(project_id)
    if not documents:
        return []
    try:
        with connect(env) as reader:
            credentials, switches, health = _scope_rows(reader, list(documents), project_id)
    except CannotAnswer:
        return None
    return provider_statuses(documents, project_id, credentials, switches, health, now_ms())


def status_document(
    documents: Mapping[str, Document],
    project_id: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """What the service's ``status_document`` returns (``navi-int list --json``), or
    ``None`` when only the service can answer — notably when a provider's last error needs
    the advice the service's recovery rules word."""
    env = os.environ if environ is None else environ
    project_id = checked_project(project_id)
    try:
        with connect(env) as reader:
            credentials, switches, health = _scope_rows(reader, list(documents), project_id)
            items = provider_statuses(
                documents, project_id, credentials, switches, health, now_ms()
            )
            by_key = {(str(r["provider"]), str(r["project_id"])): r for r in health}
            details: dict[str, dict[str, Any]] = {}
            keys: Keys | None = None
            own = {str(r["provider"]): r for r in switches if project_id and r["project_id"]}
            for item in items:
                key = credential_key(item)
                if project_id:  # the project's own switches, for every provider
                    details[item.provider] = {
                        **NO_DETAILS,
                        "projectSwitches": project_switches(own.get(item.provider)),
                    }
                if key is None:
                    continue  # not connected: no more details
                detail = health_detail(by_key.get(key))
                if detail is None:
                    raise CannotAnswer
                if item.auth_type == "oauth":
                    keys = keys or Keys(env)
                    detail["services"] = _services(reader, keys, documents[item.provider], item)
                own_switches = details.get(item.provider, NO_DETAILS)["projectSwitches"]
                details[item.provider] = {**detail, "projectSwitches": own_switches}
    except CannotAnswer:
        return None
    return status_document_of(items, details)


def _services(reader: Reader, keys: Keys, doc: Document, item: ProviderStatus) -> list[str]:
    """The OAuth services the stored token was granted (none when it cannot be read)."""
    try:
        _, values = _row_values(reader, keys, doc, item.project_id, require_enabled=False)
    except NaviError:
        return []
    return granted_services(doc, values.get("scope"))
