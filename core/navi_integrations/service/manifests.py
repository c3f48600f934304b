"""A project's manifest against the store: apply its switches (``navi-int sync``) and say,
for each integration it names, whether it is ready and the one command that fixes it
(``navi-int check``).

The manifest itself is a plain value (:mod:`navi_integrations.manifest`); this module
reads each provider's status document in the project's scope (the same one ``navi-int
list --json`` prints) and words what is missing from it. Advice is data: an unhealthy
integration's fix is the advice its status carries, never parsed from a message.

Statuses, in the order they are looked for (an entry gets the first that applies):

=====================  ===================================================================
``unknown_provider``   no installed plugin provides it
``unknown_service``    it names a service or scope the provider cannot grant
``disabled``           switched off in the project (the manifest does not ask for that)
``missing``            not connected: no credentials apply in the project
``missing_account``    the account to prefer does not exist
``account_not_in_use`` the account exists but another is in use (``sync`` binds it)
``unhealthy``          its last check or call failed (health ``failed`` or ``degraded``)
``missing_services``   connected without a service or scope the manifest needs
``not_synced``         a switch differs from the manifest's (``sync`` sets it)
``ok``                 ready
=====================  ===================================================================
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import Advice, NaviError, ProviderNotFound, scope_flag
from ..statuses import status_document

if TYPE_CHECKING:
    from ..documents import ProviderDocument
    from ..manifest import Manifest, ManifestEntry
    from ._parts import Parts
    from .health import HealthChecks
    from .switches import Switches

__all__ = ["Applied", "ItemStatus", "ManifestItem", "ManifestReport", "ProjectManifests"]

ItemStatus = Literal[
    "ok",
    "missing",
    "unhealthy",
    "disabled",
    "unknown_provider",
    "unknown_service",
    "missing_account",
    "account_not_in_use",
    "missing_services",
    "not_synced",
]

#: Binds an account to a provider in a scope: ``use_account(provider_id, account,
#: project_id=...)`` (the accounts collaborator's method).
UseAccount = Callable[..., object]

#: Each manifest switch, its key in a status block, and how messages name it.
_SWITCHES = (
    ("enabled", "enabled", "enabled"),
    ("mcp", "mcpEnabled", "MCP"),
    ("skill", "skillEnabled", "skill"),
)


@dataclass(frozen=True)
class ManifestItem:
    """One integration of a manifest, as it stands in the project."""

    provider: str
    required: bool
    status: ItemStatus
    #: What the project's status says: ``healthy``, ``failed``, ``unknown``…; ``None`` for a
    #: provider that is not installed.
    health: str | None
    #: The name of the account in effect, if the provider has named accounts.
    account: str | None
    #: Who the credentials belong to, as the last check saw it ("Connected as …").
    connected_as: str | None
    message: str
    #: What fixes it: the one command (or a hint where no command can); ``None`` when ok.
    fix: Advice | None = None

    @property
    def ok(self) -> bool:
        """Whether the integration is ready."""
        return self.status == "ok"

    def to_document(self) -> dict[str, Any]:
        """JSON form (camelCase), one entry of :meth:`ManifestReport.to_document`."""
        return {
            "provider": self.provider,
            "required": self.required,
            "status": self.status,
            "health": self.health,
            "account": self.account,
            "connectedAs": self.connected_as,
            "message": self.message,
            "fix": None if self.fix is None else self.fix.to_document(),
        }


@dataclass(frozen=True)
class Applied:
    """What ``sync`` set for one provider: the project's switches and the account bound."""

    provider: str
    #: ``enabled`` / ``mcp`` / ``skill`` -> the value set (only those the manifest sets).
    switches: Mapping[str, bool]
    account: str | None = None

    def to_document(self) -> dict[str, Any]:
        """JSON form (camelCase)."""
        return {"provider": self.provider, "switches": dict(self.switches), "account": self.account}


@dataclass(frozen=True)
class ManifestReport:
    """A manifest checked against a project: each integration's state and fix.

    ``ok`` is false when any required integration is not ready; optional ones
    are reported and never make it false.
    """

    project_id: str
    manifest: Path
    items: tuple[ManifestItem, ...]
    #: What ``sync`` set (empty for ``check``).
    applied: tuple[Applied, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether every required integration is ready."""
        return all(item.ok for item in self.items if item.required)

    @property
    def problems(self) -> tuple[ManifestItem, ...]:
        """The integrations that are not ready, required or optional."""
        return tuple(item for item in self.items if not item.ok)

    def to_document(self) -> dict[str, Any]:
        """``{projectId, manifest, ok, integrations: [...], applied: [...]}``; no secret."""
        return {
            "projectId": self.project_id,
            "manifest": str(self.manifest),
            "ok": self.ok,
            "integrations": [item.to_document() for item in self.items],
            "applied": [a.to_document() for a in self.applied],
        }


class ProjectManifests:
    """Apply a manifest to its project's scope and report what each integration needs."""

    def __init__(
        self,
        parts: Parts,
        switches: Switches,
        checks: HealthChecks,
        use_account: UseAccount | None = None,
    ) -> None:
        self._parts = parts
        self._switches = switches
        self._checks = checks
        self._use_account = use_account

    def plan(self, manifest: Manifest, *, project_id: str | None = None) -> ManifestReport:
        """Each integration of ``manifest`` in the project: ready, or the one command that
        fixes it. Changes nothing. ``project_id`` overrides the manifest's (and the one
        derived from the repository)."""
        return self._report(manifest, manifest.resolved_project_id(project_id), project_id)

    def sync(self, manifest: Manifest, *, project_id: str | None = None) -> ManifestReport:
        """Set the manifest's switches in the project's scope (only those it sets: an unset
        switch keeps inheriting), bind each preferred account that exists, then
        :meth:`plan`. Providers that are not installed are reported, not an error."""
        pid = manifest.resolved_project_id(project_id)
        applied: list[Applied] = []
        for entry in manifest.integrations:
            if isinstance(self._document(entry.provider), ProviderNotFound):
                continue
            switches = entry.switches
            if "enabled" in switches:
                on = switches["enabled"]
                (self._switches.enable if on else self._switches.disable)(
                    entry.provider, project_id=pid
                )
            if "mcp" in switches or "skill" in switches:
                self._switches.update_settings(
                    entry.provider,
                    project_id=pid,
                    mcp_enabled=entry.mcp,
                    skill_enabled=entry.skill,
                )
            bound = self._bind_account(entry, pid) if entry.account else None
            if switches or bound:
                applied.append(Applied(entry.provider, switches, bound))
        return replace(self._report(manifest, pid, project_id), applied=tuple(applied))

    def _report(self, manifest: Manifest, pid: str, override: str | None) -> ManifestReport:
        # `sync` run in the repository finds this project again, unless --project chose another.
        again = override is not None and override != manifest.resolved_project_id()
        sync_command = "navi-int sync" + (scope_flag(pid) if again else "")
        statuses = self._statuses(pid, manifest.integrations)
        items = tuple(
            _item(
                entry,
                pid,
                self._document(entry.provider),
                statuses.get(entry.provider),
                sync_command,
            )
            for entry in manifest.integrations
        )
        return ManifestReport(pid, manifest.path, items)

    # -- reading -------------------------------------------------------------------------

    def _document(self, provider_id: str) -> ProviderDocument | ProviderNotFound:
        """The provider's document, or the error saying why there is none."""
        try:
            return self._parts.catalog.document(provider_id)
        except ProviderNotFound as exc:
            return exc

    def _statuses(
        self, project_id: str, entries: Sequence[ManifestEntry]
    ) -> dict[str, dict[str, Any]]:
        """The status document's entries (``navi-int list --project ID --json``) by provider."""
        known = self._parts.catalog.provider_ids()
        wanted = [e.provider for e in entries if e.provider in known]
        if not wanted:
            return {}
        items = self._switches.status(project_id=project_id, providers=wanted)
        details = self._checks.health_details(items, project_id=project_id)
        document = status_document(items, details)
        return {entry["provider"]: entry for entry in document["integrations"]}

    def _bind_account(self, entry: ManifestEntry, project_id: str) -> str | None:
        """Make the preferred account the one in use in the project, when it exists and
        another is in use; the account bound, or ``None`` (the plan says what is missing)."""
        assert entry.account is not None
        if self._use_account is None:
            return None
        status = self._statuses(project_id, [entry]).get(entry.provider, {})
        names = {a.get("name") for a in status.get("accounts") or []}
        if entry.account not in names or status.get("accountInUse") == entry.account:
            return None
        try:
            self._use_account(entry.provider, entry.account, project_id=project_id)
        except NaviError:  # e.g. removed meanwhile: the plan reports it missing
            return None
        return entry.account


# -- one entry -----------------------------------------------------------------------------


def _item(
    entry: ManifestEntry,
    project_id: str,
    doc: ProviderDocument | ProviderNotFound,
    status: Mapping[str, Any] | None,
    sync_command: str,
) -> ManifestItem:
    def item(
        state: ItemStatus, message: str, fix: Advice | None = None, health: str | None = None
    ) -> ManifestItem:
        found = status or {}
        return ManifestItem(
            entry.provider,
            entry.required,
            state,
            health if health is not None else _health(found),
            found.get("accountInUse"),
            found.get("account"),
            message,
            fix,
        )

    provider = entry.provider
    if isinstance(doc, ProviderNotFound) or status is None:
        return _unknown_provider(entry, doc if isinstance(doc, ProviderNotFound) else None)
    name = doc["name"]
    needed, problem = _needed_services(doc, entry)
    if problem is not None:
        hint = f"fix integrations.{provider} in the manifest; navi-int show {provider} lists them"
        return item("unknown_service", problem, Advice("fix_input", hint=hint))
    block = status["status"].get("project") or status["status"]["global"]
    scope = f"project {project_id}"
    if not block["enabled"]:
        if entry.enabled is False:
            return item("ok", f"{name} is switched off in {scope}, as the manifest says")
        command = f"navi-int enable {provider}{scope_flag(project_id)}"
        return item("disabled", f"{name} is disabled in {scope}", Advice("enable", command))
    connect = f"navi-int connect {provider}{scope_flag(project_id)}"
    if entry.account:
        connect += f" --account {shlex.quote(entry.account)}"
    if not status["hasCredentials"]:
        fix = Advice("connect", connect + "".join(f" --service {s}" for s in needed))
        return item("missing", f"{name} is not connected in {scope}", fix)
    if entry.account:
        accounts = [a for a in status.get("accounts") or [] if isinstance(a, Mapping)]
        names = [str(a.get("name")) for a in accounts]
        if entry.account not in names:
            have = f" (it has: {', '.join(names)})" if names else ""
            fix = Advice("connect", connect + "".join(f" --service {s}" for s in needed))
            message = f"{name} has no account '{entry.account}'{have}"
            return item("missing_account", message, fix)
        if status.get("accountInUse") != entry.account:
            in_use = status.get("accountInUse")
            command = (
                f"navi-int use {provider} {shlex.quote(entry.account)}{scope_flag(project_id)}"
            )
            message = f"{name} uses account '{in_use}', not '{entry.account}', in {scope}"
            return item("account_not_in_use", message, Advice("enable", command))
    if block["health"] in ("failed", "degraded"):
        error = status.get("lastError") or {}
        advice = _advice(error.get("advice")) or Advice("connect", connect)
        reason = error.get("message") or "its last check failed"
        message = f"{name} is unhealthy ({block['health']}): {reason}"
        return item("unhealthy", message, advice)
    granted = set(status.get("services") or [])
    lacking = [s for s in needed if s not in granted]
    if lacking:
        fix = Advice("connect", connect + "".join(f" --service {s}" for s in lacking))
        return item("missing_services", f"{name} lacks {', '.join(lacking)} in {scope}", fix)
    differs = [
        label
        for key, doc_key, label in _SWITCHES
        if getattr(entry, key) is not None and bool(block[doc_key]) != getattr(entry, key)
    ]
    if differs:
        message = f"{name}'s {' and '.join(differs)} switch differs from the manifest in {scope}"
        return item("not_synced", message, Advice("enable", sync_command))
    who = f" as {status['account']}" if status.get("account") else ""
    checked = "never checked" if block["health"] == "unknown" else block["health"]
    return item("ok", f"{name} is connected{who}; {checked}")


def _unknown_provider(entry: ManifestEntry, error: ProviderNotFound | None) -> ManifestItem:
    provider = entry.provider
    if error is not None and error.refused:  # installed, but refused at load
        message, fix = error.message, error.advice
    else:
        message = (
            f"unknown provider '{provider}': not installed (navi-int plugins lists what is); "
            "pip install the plugin that provides it"
        )
        if error is not None and error.suggestion:
            message += f"; did you mean '{error.suggestion}'?"
        hint = f"pip install the plugin that provides '{provider}', then run navi-int sync"
        fix = Advice("fix_plugin", hint=hint)
    return ManifestItem(
        provider, entry.required, "unknown_provider", None, None, None, message, fix
    )


def _needed_services(doc: ProviderDocument, entry: ManifestEntry) -> tuple[list[str], str | None]:
    """The OAuth services the entry needs (its services, and those granting its scopes), or
    what the manifest names that the provider cannot grant."""
    if not entry.services and not entry.scopes:
        return [], None
    oauth = doc.get("oauth")
    if oauth is None:
        return [], f"{doc['name']} has no OAuth services or scopes ({doc['authType']} auth)"
    services = list(oauth.get("services", []))
    by_service = oauth.get("serviceScopes", {})
    unknown = [s for s in entry.services if s not in services]
    if unknown:
        listed = ", ".join(services) or "none"
        return [], f"{doc['name']} has no service '{unknown[0]}' (its services: {listed})"
    needed = list(entry.services)
    always = set(oauth.get("baseScopes", []))
    declared = set(oauth.get("scopes", {}))
    for scope in entry.scopes:
        granting = next((s for s in services if scope in by_service.get(s, [])), None)
        if granting is not None:
            needed += [granting] if granting not in needed else []
        elif scope not in always and not (scope in declared and not services):
            return [], f"{doc['name']} grants no service with the scope {scope}"
    return needed, None


def _advice(document: Mapping[str, Any] | None) -> Advice | None:
    if not document:
        return None
    return Advice(document["action"], document.get("command"), document.get("hint"))


def _health(status: Mapping[str, Any]) -> str | None:
    blocks = status.get("status") or {}
    block = blocks.get("project") or blocks.get("global")
    return None if block is None else str(block["health"])
