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
* a write the store's SQLAlchemy code owns is due. Two single-statement
  writes are made here, by the statements the service runs too: a row's
  ``last_used_at`` (:data:`~navi_integrations.store.reads.TOUCH_SQL`, at
  most once a minute per row: the first read after ``connect`` answers
  here like every later one) and the audit entry of a token read
  (:data:`AUDIT_INSERT_SQL`), each through a connection of its own;
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
PostgreSQL), writes going through a connection of their own — and closed before returning,
so that a fallback in the same process starts from a clean state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from ..errors import NaviError
from ..placeholders import MissingValue, env_url_name, fill, same_resource
from ..statuses import (
    NO_DETAILS,
    credential_key,
    granted_services,
    health_detail,
    project_switches,
    provider_statuses,
    token_field,
)
from ..statuses import status_document as status_document_of
from . import reads
from .driver import CannotAnswer, Keys, Reader, checked_project, connect, expand
from .queries.statements import (
    AUDIT_INSERT_SQL,
    CREDENTIAL_VIEW_SQL,
    CREDENTIALS_IN_SCOPE_SQL,
    HEALTH_IN_SCOPE_SQL,
    SWITCHES_IN_SCOPE_SQL,
)
from .reads import LAST_USED_RESOLUTION_MS, now_ms

# Imported where used: `list` decrypts nothing, and plain `token` builds no document
# (each frozen dataclass a module defines costs about 2 % of the whole process).
if TYPE_CHECKING:
    from pydantic import SecretStr

    from ..documents import ProviderStatus, Token
    from ..provider_document import ProviderDocument

__all__ = [
    "LAST_USED_RESOLUTION_MS",
    "credentials",
    "env_for",
    "mcp_headers",
    "status_document",
    "statuses",
    "token",
    "token_value",
]

Row = Mapping[str, Any]
Document: TypeAlias = "ProviderDocument"  # a name only: the fast path imports no TypedDict


def _credential_rows(reader: Reader, doc: Document, project_id: str | None) -> list[Row]:
    """Both scopes' credential rows of one provider (:data:`CREDENTIAL_VIEW_SQL`)."""
    return list(reader.fetch(CREDENTIAL_VIEW_SQL, {"provider": doc["id"], "pid": project_id or ""}))


def _credentials(
    reader: Reader,
    keys: Keys,
    doc: Document,
    project_id: str | None,
    environ: Mapping[str, str],
    account: str | None = None,
) -> dict[str, str]:
    """The credentials ``get_credentials`` would return, by the service's rules
    (:mod:`navi_integrations.store.reads`), when no refresh or hook is needed."""
    if doc["authType"] == "cli":
        raise CannotAnswer  # the token comes from the provider's runtime_credentials hook
    rows = _credential_rows(reader, doc, project_id)
    row, values = reads.open_in_effect(
        keys.by_id,
        doc,
        project_id,
        rows,
        require_enabled=True,
        current=keys.current,
        account=account,
    )
    now = reads.now_ms()
    if reads.refresh_due(doc["authType"], values, reads.refresh_margin(environ), now):
        raise CannotAnswer  # the refresher renews it, once across callers
    if reads.touch_due(row["last_used_at"], now):
        reader.write(reads.TOUCH_SQL, {"now": now, "id": row["id"]})
    return values


def credentials(
    doc: Document,
    *,
    project_id: str | None = None,
    environ: Mapping[str, str] | None = None,
    account: str | None = None,
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
            return _credentials(reader, Keys(env), doc, project_id, env, account)
    except CannotAnswer:
        return None


def _read_token(
    doc: Document,
    project_id: str | None,
    field: str | None,
    caller: str | None,
    environ: Mapping[str, str] | None,
    account: str | None = None,
) -> tuple[str, int | None] | None:
    """The value ``get_token`` hands out and its expiry, audited as the service audits a
    read by ``caller`` (refused or not); ``None`` when only the service can answer."""

    def chosen(values: dict[str, str]) -> tuple[str, int | None]:
        value = values[token_field(doc, str(doc["id"]), values, field)]
        expires = values.get("expiresAt")
        return value, int(expires) if expires else None

    return _read_audited(doc, project_id, caller, environ, chosen, account)


_T = TypeVar("_T")


def _read_audited(
    doc: Document,
    project_id: str | None,
    caller: str | None,
    environ: Mapping[str, str] | None,
    use: Callable[[dict[str, str]], _T],
    account: str | None = None,
) -> _T | None:
    """What ``use`` makes of the credentials, the read audited for ``caller`` as the
    service audits a token read (refused or not); ``None`` when only the service can answer."""
    env = os.environ if environ is None else environ
    provider_id = str(doc["id"])
    project_id = checked_project(project_id)
    try:
        with connect(env, writes=caller is not None) as reader:
            try:
                result = use(_credentials(reader, Keys(env), doc, project_id, env, account))
            except NaviError as exc:
                if caller is not None:
                    _audit(reader, provider_id, project_id, caller, type(exc).__name__)
                raise
            if caller is not None:
                _audit(reader, provider_id, project_id, caller, "ok")
    except CannotAnswer:
        return None
    return result


def mcp_headers(
    doc: Document,
    *,
    project_id: str | None = None,
    caller: str | None = None,
    environ: Mapping[str, str] | None = None,
    account: str | None = None,
) -> dict[str, str] | None:
    """The headers of the provider's remote MCP server, filled from fresh credentials
    (``navi-int token NAME --headers``, a Claude Code ``headersHelper``), audited as a token
    read; ``None`` when only the service can answer (a token to refresh, a value missing)."""
    server = doc.get("mcp") or {}
    headers: dict[str, str] = dict(server.get("headers") or {})
    fields = doc.get("credentials") or []
    defaults = {f["key"]: f["default"] for f in fields if f.get("default")}
    optional = {f["key"] for f in fields if not f.get("required", True)}
    oauth = doc.get("oauth")
    if oauth is not None and oauth.get("discovery") == "mcp":
        optional.add("accessToken")  # a server that asked for no authorization

    def filled(values: dict[str, str]) -> dict[str, str]:
        if values.get("accessToken") and values.get("resource"):
            env = os.environ if environ is None else environ
            url = env.get(env_url_name(str(doc["id"]), "mcp")) or str(server.get("url", ""))
            if "{{" in url or not same_resource(values["resource"], url):
                raise CannotAnswer  # a filled URL, or one the grant is not for: the service
        out: dict[str, str] = {}
        for name, template in headers.items():
            try:
                value = fill(template, values.get, defaults=defaults, optional=optional)
            except MissingValue:
                raise CannotAnswer from None  # the service words it
            if value is not None:
                out[name] = value
        return out

    return _read_audited(doc, project_id, caller, environ, filled, account)


def _audit(
    reader: Reader, provider_id: str, project_id: str | None, caller: str, outcome: str
) -> None:
    """The entry the service's ``audit_token_read`` records (never the value)."""
    entry = reads.audit_entry("token_read", provider_id, project_id, caller, outcome=outcome)
    reader.write(AUDIT_INSERT_SQL, entry)


def token_value(
    doc: Document,
    *,
    project_id: str | None = None,
    field: str | None = None,
    caller: str | None = None,
    environ: Mapping[str, str] | None = None,
    account: str | None = None,
) -> str | None:
    """The plain value of :func:`token` (what ``navi-int token`` prints), without building
    the token document; ``None`` when only the service can answer."""
    found = _read_token(doc, project_id, field, caller, environ, account)
    return None if found is None else found[0]


def token(
    doc: Document,
    *,
    project_id: str | None = None,
    field: str | None = None,
    caller: str | None = None,
    environ: Mapping[str, str] | None = None,
    account: str | None = None,
) -> Token | None:
    """What the service's ``get_token`` returns for the provider ``doc`` describes, with
    the same audit entry for ``caller``; ``None`` when only the service can answer.

    Raises the service's errors for what it can tell alone: :class:`NotConnected`,
    :class:`IntegrationDisabled`, :class:`DecryptionFailed`, a missing field or token.
    """
    from ..documents import Token

    found = _read_token(doc, project_id, field, caller, environ, account)
    if found is None:
        return None
    value, expires = found
    # Token.value is a SecretStr; RevealedSecret reads the same and keeps pydantic unloaded.
    return Token(doc["authType"], cast("SecretStr", reads.RevealedSecret(value)), expires)


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

    Each entry is a provider id, or ``provider:account`` for one of its
    accounts (else the account the scope uses). Providers are taken in order,
    as the slow path takes them: ``document`` (the catalog's) raises for an
    unknown id, and the first provider that is
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
            for entry in provider_ids:
                provider_id, _, account = entry.partition(":")
                doc = document(provider_id)
                values = _credentials(reader, keys, doc, project_id, env, account or None)
                fields = doc.get("credentials") or []
                defaults = {f["key"]: f["default"] for f in fields if f.get("default")}
                optional = {f["key"] for f in fields if not f.get("required", True)}
                for var, template in (doc.get("env") or {}).items():
                    value = fill(template, values.get, defaults=defaults, optional=optional)
                    if value is not None:
                        filled[var] = value
    except (CannotAnswer, MissingValue):  # a required value missing: `run` words it
        return None
    return filled


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
            by_key = {
                (str(r["provider"]), str(r["project_id"]), str(r["account"])): r for r in health
            }
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
        rows = reader.fetch(
            CREDENTIAL_VIEW_SQL, {"provider": doc["id"], "pid": item.project_id or ""}
        )
        _, values = reads.open_in_effect(
            keys.by_id,
            doc,
            item.project_id,
            rows,
            require_enabled=False,
            current=keys.current,
            account=item.account_in_use,
        )
    except NaviError:
        return []
    return granted_services(doc, values.get("scope"))


# 0.2's names that moved: name -> "module:attr" (until 0.5.0).
_MOVED = {"REFRESH_MARGIN_SECONDS": "navi_integrations.store.reads:DEFAULT_REFRESH_MARGIN"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from .. import _deprecation

        return _deprecation.moved(__name__, name, _MOVED[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
