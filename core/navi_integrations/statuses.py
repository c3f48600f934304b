"""What applies to providers in a scope, computed from stored rows and provider documents.

Pure functions: they take provider documents (the catalog's dicts) and rows
read from the store as mappings by column name, whoever read them — the
service through SQLAlchemy (``row._mapping``) or the direct reader through
the DB-API driver — so that ``navi-int list`` and ``token`` answer the same
whichever path read the rows. Every inheritance rule comes from
:func:`navi_integrations.scopes.resolve`.

Row shapes (columns by name; ``project_id`` is ``""`` for the user scope):

* credentials: ``id, provider, project_id, account, enabled`` (one row per
  account);
* switches (``integration_defaults``): ``provider, project_id, enabled,
  mcp_enabled, skill_enabled, account`` (the account the scope uses);
* health (``integration_status``): ``provider, project_id, account, status,
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
    from .documents import AccountStatus, ProviderDocument, ProviderStatus
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
    "pick_accounts",
    "provider_statuses",
    "status_document",
    "token_field",
]

Row = Mapping[str, Any]
_Key = tuple[str, str]
#: A credential row's key: (provider, project_id column, account).
RowKey = tuple[str, str, str]

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
    "account",
    "value",
    "key_id",
    "enabled",
    "last_used_at",
    "project_enabled",
    "global_enabled",
    "project_account",
    "global_account",
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


def _by_row(rows: Iterable[Row]) -> dict[RowKey, Row]:
    return {(str(r["provider"]), str(r["project_id"]), str(r["account"])): r for r in rows}


def pick_accounts(
    rows: Sequence[Row],
    project_id: str | None,
    *,
    account: str | None = None,
    project_account: str | None = None,
    global_account: str | None = None,
) -> tuple[Row | None, Row | None, str | None]:
    """Which of a provider's accounts each scope offers: ``(user row, project row, wanted)``.

    ``rows`` are the provider's credential rows in the user scope and
    ``project_id`` (``project_id``, ``account``, ``id`` columns). The account
    wanted is ``account`` if named, else the project's binding
    (``project_account``, with a project), else the user scope's default
    (``global_account``). A wanted account is looked for by name in both
    scopes; without one, a scope offers its oldest account. A user-scope
    default that names an account no longer there falls back to the oldest
    (deleting the default account leaves the next one as default); a named or
    bound account that is missing is not replaced: ``wanted`` says which.
    """
    pid = project_id or ""
    wanted = account or (project_account if project_id else None) or None
    user_name = wanted or global_account or None

    def pick(key: str, name: str | None) -> Row | None:
        mine = [r for r in rows if r["project_id"] == key]
        if name is not None:
            return next((r for r in mine if r["account"] == name), None)
        return min(mine, key=lambda r: int(r["id"]), default=None)

    project_row = pick(pid, wanted) if project_id else None
    user_row = pick("", user_name)
    if user_row is None and wanted is None:
        user_row = pick("", None)  # a stale default: the oldest account is the default now
    return user_row, project_row, wanted


def _switch_rows(
    provider_id: str, project_id: str | None, switches: Mapping[_Key, Row]
) -> tuple[Row | None, Row | None]:
    return switches.get((provider_id, "")), (
        switches.get((provider_id, project_id)) if project_id else None
    )


def _account_of(row: Row | None) -> str | None:
    return None if row is None or row.get("account") is None else str(row["account"])


def _in_effect_rows(
    provider_id: str,
    project_id: str | None,
    credentials: Sequence[Row],
    switches: Mapping[_Key, Row],
    account: str | None = None,
) -> tuple[Row | None, Row | None, str | None]:
    global_row, project_row = _switch_rows(provider_id, project_id, switches)
    return pick_accounts(
        [r for r in credentials if r["provider"] == provider_id],
        project_id,
        account=account,
        project_account=_account_of(project_row),
        global_account=_account_of(global_row),
    )


def _effective(
    doc: ProviderDocument,
    provider_id: str,
    project_id: str | None,
    picked: tuple[Row | None, Row | None],
    switches: Mapping[_Key, Row],
) -> Effective:
    def switch_row(pid: str) -> Switches | None:
        row = switches.get((provider_id, pid))
        if row is None:
            return None
        return Switches(
            _bool(row["enabled"]), _bool(row["mcp_enabled"]), _bool(row["skill_enabled"])
        )

    user_row, project_row = picked
    return resolve(
        defaults_of(doc),
        switch_row(""),
        switch_row(project_id) if project_id else None,
        None if user_row is None else bool(user_row["enabled"]),
        None if project_row is None else bool(project_row["enabled"]),
    )


def _row_in_effect(state: Effective, picked: tuple[Row | None, Row | None]) -> Row | None:
    if state.credential_scope is None:
        return None
    return picked[1] if state.credential_scope == "project" else picked[0]


def _health_row(provider_id: str, row: Row | None, health: Mapping[RowKey, Row]) -> Row | None:
    """The health row of the credentials in effect (health is kept per credential row)."""
    if row is None:
        return None
    return health.get((provider_id, str(row["project_id"]), str(row["account"])))


def _health(
    provider_id: str, state: Effective, row: Row | None, health: Mapping[RowKey, Row]
) -> Health:
    if not state.enabled:
        return "disabled"
    found = _health_row(provider_id, row, health)
    if found is None:
        return "unknown"
    status: Health = found["status"]
    return status


def _accounts(
    provider_id: str,
    project_id: str | None,
    credentials: Sequence[Row],
    health: Mapping[RowKey, Row],
    in_use: Row | None,
    user_default: Row | None,
    project_default: Row | None,
) -> tuple[AccountStatus, ...]:
    from .documents import AccountStatus

    found = []
    keys = ("", project_id) if project_id else ("",)
    mine = sorted(
        (r for r in credentials if r["provider"] == provider_id and r["project_id"] in keys),
        key=lambda r: (bool(r["project_id"]), int(r["id"])),
    )
    for row in mine:
        status = health.get((provider_id, str(row["project_id"]), str(row["account"])))
        meta = json.loads(status["metadata"]) if status is not None and status["metadata"] else {}
        default = row is (project_default if row["project_id"] else user_default)
        found.append(
            AccountStatus(
                name=str(row["account"]),
                scope="project" if row["project_id"] else "global",
                default=default,
                in_use=row is in_use,
                enabled=bool(row["enabled"]),
                health=status["status"] if status is not None else "unknown",
                identity=meta.get("account"),
                last_used_at=row.get("last_used_at"),
            )
        )
    return tuple(found)


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

    cred_rows = list(credentials)
    switch_rows, health_rows = _by_scope(switches), _by_row(health)
    result = []
    for provider_id, doc in documents.items():
        user_row, _, _ = _in_effect_rows(provider_id, None, cred_rows, switch_rows)
        global_state = _effective(doc, provider_id, None, (user_row, None), switch_rows)
        global_row = _row_in_effect(global_state, (user_row, None))
        state, row = global_state, global_row
        picked: tuple[Row | None, Row | None] = (user_row, None)
        project: dict[str, Any] = {}
        if project_id:
            p_user, p_project, _ = _in_effect_rows(provider_id, project_id, cred_rows, switch_rows)
            picked = (p_user, p_project)
            state = _effective(doc, provider_id, project_id, picked, switch_rows)
            row = _row_in_effect(state, picked)
            project = {
                "project_id": project_id,
                "project_state": state,
                "project_health": _health(provider_id, state, row, health_rows),
            }
        health_row = _health_row(provider_id, row, health_rows)
        until = health_row["rate_limited_until"] if health_row is not None else None
        own = [r for r in cred_rows if r["provider"] == provider_id and r["project_id"]]
        own_default = min(own, key=lambda r: int(r["id"]), default=None) if project_id else None
        result.append(
            ProviderStatus(
                provider=provider_id,
                name=doc["name"],
                auth_type=doc["authType"],
                global_state=global_state,
                global_health=_health(provider_id, global_state, global_row, health_rows),
                rate_limited_until=int(until) if until is not None and until > now_ms else None,
                account_in_use=None if row is None else str(row["account"]),
                accounts=_accounts(
                    provider_id, project_id, cred_rows, health_rows, row, user_row, own_default
                ),
                **project,
            )
        )
    return result


def credential_key(status: ProviderStatus) -> RowKey | None:
    """``(provider, project_id column, account)`` of the credentials in effect for a status
    entry (their health row and credential row have that key); ``None`` when not connected."""
    scope = status.effective.credential_scope
    if scope is None or status.account_in_use is None:
        return None
    pid = (status.project_id or "") if scope == "project" else ""
    return status.provider, pid, status.account_in_use


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
    account: str | None = None,
) -> tuple[CredentialScope, Row]:
    """Whose credentials apply to one provider in a scope, and their row.

    ``rows`` has the :data:`CREDENTIAL_COLUMNS` (one row per stored account,
    each carrying both scopes' switches and the account each uses). The
    account is ``account`` if named, else the project's binding, else the
    default (:func:`pick_accounts`); between the scopes, the project's own
    enabled row wins over the user's (the rules of
    :func:`~navi_integrations.scopes.resolve`, for ``enabled`` alone: this is
    every token read). Raises :class:`NotConnected` when no enabled
    credentials apply (naming a missing account), and
    :class:`IntegrationDisabled` when the provider is switched off there and
    ``require_enabled``.
    """
    first = rows[0] if rows else None
    user_row, project_row, wanted = pick_accounts(
        rows,
        project_id,
        account=account,
        project_account=None if first is None else first["project_account"],
        global_account=None if first is None else first["global_account"],
    )
    scope = credential_scope(
        None if user_row is None else bool(user_row["enabled"]),
        None if project_row is None else bool(project_row["enabled"]),
    )
    if scope is None:
        bound = account is None and wanted is not None
        raise NotConnected(provider_id, project_id, account=wanted, bound=bound)
    if require_enabled:
        assert first is not None  # a scope is named only when a row exists
        enabled = switch_value(
            first["project_enabled"] if project_id else None,
            first["global_enabled"],
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
