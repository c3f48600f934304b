"""The service facade: every workflow, for host apps, the CLI, the HTTP API and the gateway.

::

    from navi_integrations import IntegrationService

    service = IntegrationService()
    result = service.connect("linear", {"apiKey": "lin_api_..."}, test=True)  # test, then save
    service.disable("linear", project_id="acme-site")                # one project off
    token = service.get_token("linear", project_id="other-project")  # inherits the user key
    document = service.status_document(project_id="acme-site")       # GET /api/integrations/status

Surfaces only parse input and render the result objects these methods return
(:class:`ConnectResult`, :class:`TestResult`, :class:`McpConfig`…): the same
workflow never lives in two surfaces.

The facade owns no workflow itself. Each belongs to a collaborator with a
name of its own, reachable as an attribute and handed only the
:class:`~navi_integrations.service._parts.Parts` (store, vault, queries,
registry…) and the other collaborators it uses:

=================  ===========================================================
``connections``    connect (validate, test, save), disconnect, key rotation
``credentials``    the credentials in effect, opened, touched, refreshed; tokens
``switches``       enable/disable, MCP and skill switches, status reads
``checks``         health: record, check live, test with advice, details
``advisor``        what fixes a failure (the recovery rules' advice)
``sign_ins``       OAuth sign-in, in the CLI and through a server's callback
``agent``          MCP configs, skills, recovered calls
``audit``          token reads and tool calls, the change marker
=================  ===========================================================

Each public method below is one of theirs (:class:`navi_integrations._delegate.delegate`),
with its signature and docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._delegate import delegate
from ._parts import Parts
from .advice import Advisor
from .agent import AgentAccess
from .audit import AuditTrail
from .connections import Connections
from .credentials import CredentialReads
from .health import HealthChecks
from .manifests import ProjectManifests
from .refresh_due import DueRefresh
from .sign_in import SignIns
from .switches import Switches

if TYPE_CHECKING:
    from ..auth.refresh import TokenRefresher
    from ..health.events import ChangeEvent, EventBus
    from ..health.tracker import HealthTracker
    from ..plugins.catalog import Catalog
    from ..plugins.registry import Registry
    from ..store.crypto import KeySource
    from ..store.engine import Store
    from ..store.queries import Queries
    from ..store.vault import Vault

__all__ = ["IntegrationService"]

#: The health details of a provider that is not connected.
_NO_DETAILS: Mapping[str, Any] = {"account": None, "lastCheckAt": None, "lastError": None}


class IntegrationService:
    """Connect, switch, read and track integrations, in the user scope or a project's."""

    def __init__(
        self,
        *,
        store: Store | None = None,
        registry: Registry | None = None,
        catalog: Catalog | None = None,
        keys: KeySource | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.parts = parts = Parts(
            store=store, registry=registry, catalog=catalog, keys=keys, environ=environ
        )
        self.audit = AuditTrail(parts)
        self.switches = Switches(parts)
        self.advisor = Advisor(parts)
        self.credentials = CredentialReads(parts, self.audit)
        self.checks = HealthChecks(parts, self.credentials, self.advisor, self.switches)
        self.connections = Connections(parts, self.checks, self.advisor)
        self.sign_ins = SignIns(parts, self.credentials, self.connections, self.checks)
        self.manifests = ProjectManifests(
            parts, self.switches, self.checks, self.connections.use_account
        )
        self.agent = AgentAccess(parts, self.credentials, self.switches)
        self.due = DueRefresh(parts)

    # -- the shared parts ----------------------------------------------------

    @property
    def events(self) -> EventBus:
        """Health and connection changes made through this service (:meth:`subscribe`)."""
        return self.parts.events

    @property
    def store(self) -> Store:
        """The database (opened and migrated on first use)."""
        return self.parts.store

    @property
    def registry(self) -> Registry:
        """The loaded plugin registry (imports every plugin: only for validate and hooks)."""
        return self.parts.registry

    @property
    def catalog(self) -> Catalog:
        """Provider documents (from the cache when nothing changed)."""
        return self.parts.catalog

    @property
    def keys(self) -> KeySource:
        """Where the master key comes from."""
        return self.parts.keys

    @property
    def vault(self) -> Vault:
        """Seals and opens credential sets with the master key."""
        return self.parts.vault

    @property
    def queries(self) -> Queries:
        """Every SQL statement, bound to this service's store."""
        return self.parts.queries

    @property
    def health(self) -> HealthTracker:
        """The health tracker over this service's store."""
        return self.parts.health

    @property
    def tokens(self) -> TokenRefresher:
        """Refreshes OAuth tokens ahead of expiry, once across callers."""
        return self.parts.tokens

    # -- connecting ----------------------------------------------------------

    connect = delegate("connections", Connections.connect)
    store_credentials = delegate("connections", Connections.store_credentials)
    disconnect = delegate("connections", Connections.disconnect)
    use_account = delegate("connections", Connections.use_account)
    bound_projects = delegate("connections", Connections.bound_projects)
    forget_provider = delegate("connections", Connections.forget_provider)
    rotate_keys = delegate("connections", Connections.rotate_keys)

    # -- reading credentials -------------------------------------------------

    get_credentials = delegate("credentials", CredentialReads.get_credentials)
    credentials_in_scope = delegate("credentials", CredentialReads.credentials_in_scope)
    refresh_credentials = delegate("credentials", CredentialReads.refresh_credentials)
    get_token = delegate("credentials", CredentialReads.get_token)
    refresh_due = delegate("due", DueRefresh.refresh_due)
    sync_manifest = delegate("manifests", ProjectManifests.sync)
    check_manifest = delegate("manifests", ProjectManifests.plan)
    mcp_headers = delegate("credentials", CredentialReads.mcp_headers)

    # -- switches and status -------------------------------------------------

    enable = delegate("switches", Switches.enable)
    disable = delegate("switches", Switches.disable)
    update_settings = delegate("switches", Switches.update_settings)
    reset_switches = delegate("switches", Switches.reset_switches)
    effective = delegate("switches", Switches.effective)
    status = delegate("switches", Switches.status)
    project_ids = delegate("switches", Switches.project_ids)

    def status_document(
        self, *, project_id: str | None = None, providers: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """The PRD's ``GET /api/integrations/status`` document (of some ``providers``), each
        entry with the health details a settings page shows (:meth:`health_details`)."""
        items = self.switches.status(project_id=project_id, providers=providers)
        details = self.checks.health_details(items, project_id=project_id)
        return {
            "integrations": [
                {**s.to_document(), **details.get(s.provider, _NO_DETAILS)} for s in items
            ]
        }

    # -- health --------------------------------------------------------------

    health_record = delegate("checks", HealthChecks.health_record)
    record_success = delegate("checks", HealthChecks.record_success)
    record_error = delegate("checks", HealthChecks.record_error)
    check = delegate("checks", HealthChecks.check)
    check_values = delegate("checks", HealthChecks.check_values)
    test = delegate("checks", HealthChecks.test)
    test_all = delegate("checks", HealthChecks.test_all)
    health_details = delegate("checks", HealthChecks.health_details)
    advice_for = delegate("advisor", Advisor.advice_for)
    classify = delegate("advisor", Advisor.classify)

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` on every health or connection change this service makes.

        Returns a function that unsubscribes. A subscriber that raises is
        logged and does not stop the others or the operation.
        """
        return self.parts.events.subscribe(callback)

    # -- OAuth sign-in -------------------------------------------------------

    oauth_client = delegate("sign_ins", SignIns.oauth_client)
    sign_in = delegate("sign_ins", SignIns.sign_in)
    begin_sign_in = delegate("sign_ins", SignIns.begin_sign_in)
    complete_sign_in = delegate("sign_ins", SignIns.complete_sign_in)
    authorize_mcp = delegate("sign_ins", SignIns.authorize_mcp)

    @property
    def pending_sign_ins(self) -> Any:
        """Sign-ins begun with :meth:`begin_sign_in` and not completed yet (in memory)."""
        return self.sign_ins.pending_sign_ins

    # -- agent access --------------------------------------------------------

    mcp_config = delegate("agent", AgentAccess.mcp_config)
    skills = delegate("agent", AgentAccess.skills)
    install_skills = delegate("agent", AgentAccess.install_skills)
    claude_plugin = delegate("agent", AgentAccess.claude_plugin)
    recovery_context = delegate("agent", AgentAccess.recovery_context)

    # -- audit ---------------------------------------------------------------

    audit_token_read = delegate("audit", AuditTrail.audit_token_read)
    record_audit = delegate("audit", AuditTrail.record_audit)
    audit_log = delegate("audit", AuditTrail.audit_log)
    change_marker = delegate("audit", AuditTrail.change_marker)
