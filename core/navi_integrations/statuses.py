"""What applies to providers in a scope, computed from stored rows and provider documents.

Pure functions: they take provider documents (the catalog's dicts) and rows
read from the store as mappings by column name, whoever read them — the
service through SQLAlchemy (``row._mapping``) or the direct reader through
the DB-API driver — so that ``navi-int list`` and ``token`` answer the same
whichever path read the rows. Every inheritance rule comes from
:func:`navi_integrations.scopes.resolve`.

Row shapes (columns by name; ``project_id`` is ``""`` for the user scope):

* credentials: ``provider, project_id, enabled``;
* switches (``integration_defaults``): ``provider, project_id, enabled,
  mcp_enabled, skill_enabled``;
* health (``integration_status``): ``provider, project_id, status,
  rate_limited_until``, and for :func:`health_detail` ``error_message,
  last_check_at, metadata``;
* one provider's credential rows for a token (:data:`CREDENTIAL_COLUMNS`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import Advice, CredentialsError, IntegrationDisabled, InvalidInput, NotConnected
from .scopes import CredentialScope, Effective, Switches, credential_scope, resolve, switch_value

if TYPE_CHECKING:
    from .documents import ProviderDocument, ProviderStatus
    from .results import Health

__all__ = [
    "CREDENTIAL_COLUMNS",
    "DEFAULT_KEYS",
    "NO_DETAILS",
    "credential_in_effect",
    "credential_key",
    "defaults_of",
    "granted_services",
    "health_detail",
    "provider_statuses",
    "status_document",
    "token_field",
]

Row = Mapping[str, Any]
_Key = tuple[str, str]

#: The details of a status entry whose provider is not connected.
NO_DETAILS: Mapping[str, Any] = {
    "account": None,
    "lastCheckAt": None,
    "lastError": None,
    "projectSwitches": None,
}

#: Columns of the rows :func:`credential_in_effect` reads: each credential row of the
#: provider in the user scope and the asked project, with both scopes' "enabled" switch.
CREDENTIAL_COLUMNS = (
    "id",
    "project_id",
    "value",
    "key_id",
    "enabled",
    "last_used_at",
    "project_enabled",
    "global_enabled",
)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


#: Each switch's key in a provider document's ``defaults`` (each ``true`` when absent).
DEFAULT_KEYS = {
    "enabled": "enabledGlobally",
    "mcp_enabled": "mcpEnabled",
    "skill_enabled": "skillEnabled",
}


def defaults_of(doc: ProviderDocument) -> Switches:
    """A provider document's ``defaults`` as switches (every one set)."""
    defaults = doc.get("defaults", {})
    return Switches(
        defaults.get("enabledGlobally", True),
        defaults.get("mcpEnabled", True),
        defaults.get("skillEnabled", True),
    )


def _by_scope(rows: Iterable[Row]) -> dict[_Key, Row]:
    return {(str(r["provider"]), str(r["project_id"])): r for r in rows}


def _effective(
    doc: ProviderDocument,
    provider_id: str,
    project_id: str | None,
    credentials: Mapping[_Key, Row],
    switches: Mapping[_Key, Row],
) -> Effective:
    def switch_row(pid: str) -> Switches | None:
        row = switches.get((provider_id, pid))
        if row is None:
            return None
        return Switches(
            _bool(row["enabled"]), _bool(row["mcp_enabled"]), _bool(row["skill_enabled"])
        )

    def credential(pid: str) -> bool | None:
        row = credentials.get((provider_id, pid))
        return None if row is None else bool(row["enabled"])

    return resolve(
        defaults_of(doc),
        switch_row(""),
        switch_row(project_id) if project_id else None,
        credential(""),
        credential(project_id) if project_id else None,
    )


def _health_row(
    provider_id: str, state: Effective, project_id: str | None, health: Mapping[_Key, Row]
) -> Row | None:
    """The health row of the credentials in effect (health is kept per credential scope)."""
    if state.credential_scope is None:
        return None
    pid = (project_id or "") if state.credential_scope == "project" else ""
    return health.get((provider_id, pid))


def _health(
    provider_id: str, state: Effective, project_id: str | None, health: Mapping[_Key, Row]
) -> Health:
    if not state.enabled:
        return "disabled"
    row = _health_row(provider_id, state, project_id, health)
    if row is None:
        return "unknown"
    status: Health = row["status"]
    return status


def provider_statuses(
    documents: Mapping[str, ProviderDocument],
    project_id: str | None,
    credentials: Iterable[Row],
    switches: Iterable[Row],
    health: Iterable[Row],
    now_ms: int,
) -> list[ProviderStatus]:
    """Each provider's state globally and, with ``project_id``, in that project.

    :param documents: provider id -> provider document, in the order to report.
    :param credentials: credential rows of those providers in the user scope and the project.
    :param switches: switch rows of the same.
    :param health: health rows of the same.
    :param now_ms: the time (epoch ms) against which a rate-limit deadline counts as ahead.
    """
    from .documents import ProviderStatus  # here: `navi-int token` needs no document

    creds, switch_rows, health_rows = _by_scope(credentials), _by_scope(switches), _by_scope(health)
    result = []
    for provider_id, doc in documents.items():
        global_state = _effective(doc, provider_id, None, creds, switch_rows)
        state = global_state
        project: dict[str, Any] = {}
        if project_id:
            state = _effective(doc, provider_id, project_id, creds, switch_rows)
            project = {
                "project_id": project_id,
                "project_state": state,
                "project_health": _health(provider_id, state, project_id, health_rows),
            }
        row = _health_row(provider_id, state, project_id, health_rows)
        until = row["rate_limited_until"] if row is not None else None
        result.append(
            ProviderStatus(
                provider=provider_id,
                name=doc["name"],
                auth_type=doc["authType"],
                global_state=global_state,
                global_health=_health(provider_id, global_state, None, health_rows),
                rate_limited_until=int(until) if until is not None and until > now_ms else None,
                **project,
            )
        )
    return result


def credential_key(status: ProviderStatus) -> _Key | None:
    """``(provider, project_id column)`` of the credentials in effect for a status entry
    (their health row and credential row have that key); ``None`` when not connected."""
    scope = status.effective.credential_scope
    if scope is None:
        return None
    return status.provider, (status.project_id or "") if scope == "project" else ""


def error_needs_advice(status: str | None, error_message: str | None) -> bool:
    """Whether a status entry shows its last error, with the advice that fixes it: a
    failed or degraded provider with an error message (the service and the fast path
    both ask this)."""
    return bool(error_message) and status in ("failed", "degraded")


def health_detail(health_row: Row | None) -> dict[str, Any] | None:
    """``account``, ``lastCheckAt`` and ``lastError`` of a connected provider, from the health
    row of its credentials; ``None`` when the last error needs advice, which the service's
    recovery rules word (a failed or degraded provider with an error message)."""
    if health_row is None:
        return dict(NO_DETAILS)  # never checked since connecting
    if error_needs_advice(health_row["status"], health_row["error_message"]):
        return None
    meta = json.loads(health_row["metadata"]) if health_row["metadata"] else {}
    return {
        "account": meta.get("account"),
        "lastCheckAt": health_row["last_check_at"],
        "lastError": None,
    }


def project_switches(row: Row | None) -> dict[str, bool | None]:
    """``projectSwitches`` of a status entry: the switches set for the project itself, from
    its switch row (``None`` where unset: inherited from the global switch)."""
    found = row or {}
    return {
        "enabled": _bool(found.get("enabled")),
        "mcpEnabled": _bool(found.get("mcp_enabled")),
        "skillEnabled": _bool(found.get("skill_enabled")),
    }


def granted_services(doc: ProviderDocument, granted: str | None) -> list[str]:
    """The OAuth services whose scopes are all in ``granted`` (the token's ``scope`` value)."""
    oauth = doc.get("oauth")
    if oauth is None:
        return []
    scopes = set(granted.split()) if granted else set()
    by_service = oauth.get("serviceScopes", {})
    return [name for name in oauth.get("services", []) if set(by_service.get(name, [])) <= scopes]


def status_document(
    statuses: Iterable[ProviderStatus], details: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The PRD's ``GET /api/integrations/status`` document, each entry with its ``details``
    (connected providers: :func:`health_detail`, plus ``services`` for OAuth ones)."""
    found = details or {}
    return {
        "integrations": [{**s.to_document(), **found.get(s.provider, NO_DETAILS)} for s in statuses]
    }


def credential_in_effect(
    doc: ProviderDocument,
    provider_id: str,
    project_id: str | None,
    rows: Sequence[Row],
    *,
    require_enabled: bool,
) -> tuple[CredentialScope, Row]:
    """Whose credentials apply to one provider in a scope, and their row.

    ``rows`` has the :data:`CREDENTIAL_COLUMNS` (one row per stored scope, each
    carrying both scopes' switches). Raises :class:`NotConnected` when no
    enabled credentials apply, and :class:`IntegrationDisabled` when the
    provider is switched off there and ``require_enabled``. The same rules as
    :func:`~navi_integrations.scopes.resolve`, for ``enabled`` alone: this is
    every token read.
    """
    project_row: Row | None = None
    user_row: Row | None = None
    for row in rows:
        if not row["project_id"]:
            user_row = row
        elif row["project_id"] == project_id:
            project_row = row
    scope = credential_scope(
        None if user_row is None else bool(user_row["enabled"]),
        None if project_row is None else bool(project_row["enabled"]),
    )
    if scope is None:
        raise NotConnected(provider_id, project_id)
    if require_enabled:
        switch = rows[0]
        enabled = switch_value(
            switch["project_enabled"] if project_id else None,
            switch["global_enabled"],
            doc.get("defaults", {}).get("enabledGlobally", True),
        )
        if not enabled:
            raise IntegrationDisabled(provider_id, project_id)
    found = project_row if scope == "project" else user_row
    assert found is not None  # a scope is named only when its row exists
    return scope, found


def token_field(
    doc: ProviderDocument, provider_id: str, keys: Collection[str], field: str | None
) -> str:
    """Which credential value ``token`` hands out: ``field`` if named, else the OAuth access
    token, a CLI's token, or the first secret field that has a value.

    ``keys`` are the fields the credentials hold. Raises :class:`InvalidInput` for a
    named field they lack, :class:`CredentialsError` when there is no token to hand out.
    """
    auth_type = doc["authType"]
    if field is not None:
        if field not in keys:
            raise InvalidInput(
                f"{provider_id} has no '{field}' value", hint="fields: " + ", ".join(sorted(keys))
            )
    elif auth_type == "oauth":
        field = "accessToken"
    elif auth_type == "cli":
        field = "token"
    else:
        secret_fields = [f["key"] for f in doc.get("credentials", []) if f["type"] == "password"]
        field = next((k for k in secret_fields if k in keys), "")
    if field not in keys:
        raise CredentialsError(
            provider_id,
            f"{provider_id} has no token to hand out ({auth_type} auth)",
            advice=Advice("fix_input", hint="name the value to print with --field"),
        )
    return field
