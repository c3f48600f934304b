"""One test per hookspec, named ``test_hook_<name>``, through the surface a host app uses.

Each test registers a small plugin object implementing that hook for its own
provider and checks what the service (or registry) does with the answer. The
last test keeps the habit honest: a new hookspec without its test fails it.
"""

from __future__ import annotations

import inspect
import time

import pytest
from navi_integrations import (
    ApiAuth,
    ApiConfig,
    CliConfig,
    CredentialField,
    Credentials,
    CredentialsInvalid,
    FieldProblem,
    HealthResult,
    IntegrationProvider,
    IntegrationService,
    McpServer,
    OAuthConfig,
    ProviderDefinitionError,
    Registry,
    Scope,
    StdioMcpServer,
    hookimpl,
    hookspecs,
)
from navi_integrations.testing import LocalHTTPServer
from navi_integrations.testing.pytest_plugin import Register

KEY = "acme_" + "K3y" * 8

ACME = IntegrationProvider(
    id="acme",
    name="Acme",
    description="A provider for hook tests",
    auth_type="api_key",
    credentials=[CredentialField(key="apiKey", label="API key")],
    mcp=StdioMcpServer(command="acme-mcp", env={"ACME_KEY": "{{apiKey}}"}),
)


def _service(registry: Registry) -> IntegrationService:
    return IntegrationService(registry=registry)


def test_hook_describe(navi_registry: Registry, navi_register: Register) -> None:
    class Describes:
        @hookimpl
        def describe(self) -> list[IntegrationProvider | ProviderDefinitionError]:
            return [ACME, ProviderDefinitionError("acme-broken.toml", "no 'name'")]

    navi_register(Describes(), "describes")
    assert navi_registry.get("acme").name == "Acme"
    assert "acme" in [p.id for p in navi_registry.providers()]
    problems = [str(p) for p in navi_registry.problems()]
    assert any("acme-broken.toml" in p and "no 'name'" in p for p in problems), problems
    owned = [i.providers for i in navi_registry.plugins() if i.name == "describes"]
    assert owned == [("acme",)]


def test_hook_validate(navi_registry: Registry, navi_register: Register) -> None:
    class Validates:
        @hookimpl
        def describe(self) -> IntegrationProvider:
            return ACME

        @hookimpl
        def validate(
            self, provider: IntegrationProvider, credentials: Credentials
        ) -> list[FieldProblem]:
            if credentials.reveal("apiKey").startswith("Bearer "):
                return [FieldProblem("apiKey", "paste the key alone")]
            return []

    navi_register(Validates(), "validates")
    service = _service(navi_registry)
    with pytest.raises(CredentialsInvalid, match="paste the key alone") as caught:
        service.connect("acme", {"apiKey": "Bearer " + KEY})
    assert KEY not in str(caught.value)
    [status] = service.status(providers=["acme"])
    assert not status.effective.connected  # nothing stored on a refusal
    assert service.connect("acme", {"apiKey": KEY}).saved


def test_hook_health_check(navi_registry: Registry, navi_register: Register) -> None:
    seen: list[tuple[str, float]] = []

    class Checks:
        @hookimpl
        def describe(self) -> IntegrationProvider:
            return ACME

        @hookimpl
        def health_check(
            self, provider: IntegrationProvider, credentials: Credentials, timeout: float
        ) -> HealthResult:
            seen.append((credentials.reveal("apiKey"), timeout))
            return HealthResult.healthy("ada@acme.example")

    navi_register(Checks(), "checks")
    service = _service(navi_registry)
    result = service.connect("acme", {"apiKey": KEY}, test=True, timeout=4.0)
    assert result.saved and result.check is not None and result.check.account == "ada@acme.example"
    assert seen == [(KEY, 4.0)]
    assert service.test("acme").ok


def test_hook_mcp_config(navi_registry: Registry, navi_register: Register) -> None:
    class Configures:
        @hookimpl
        def describe(self) -> IntegrationProvider:
            return ACME

        @hookimpl
        def mcp_config(
            self, provider: IntegrationProvider, credentials: Credentials
        ) -> McpServer | None:
            if "region" not in credentials:
                return None  # the core fills provider.mcp
            assert isinstance(provider.mcp, StdioMcpServer)
            return provider.mcp.model_copy(update={"args": ["--region", "eu"]})

    navi_register(Configures(), "configures")
    service = _service(navi_registry)
    service.connect("acme", {"apiKey": KEY})
    default = service.mcp_config(runtime="claude-code").servers["acme"]
    assert default["command"] == "acme-mcp" and default["env"] == {"ACME_KEY": KEY}
    service.store_credentials("acme", {"apiKey": KEY, "region": "eu"})
    assert service.mcp_config(runtime="claude-code").servers["acme"]["args"] == ["--region", "eu"]


def test_hook_refresh(
    navi_registry: Registry, navi_register: Register, local_http_server: LocalHTTPServer
) -> None:
    provider = IntegrationProvider(
        id="acme-oauth",
        name="Acme OAuth",
        description="An OAuth provider with its own refresh",
        auth_type="oauth",
        oauth=OAuthConfig(
            auth_url=local_http_server.url + "/authorize",
            token_url=local_http_server.url + "/token",
            scopes={"read": "Read"},
        ),
    )
    calls: list[str] = []

    class Refreshes:
        @hookimpl
        def describe(self) -> IntegrationProvider:
            return provider

        @hookimpl
        def refresh(self, provider: IntegrationProvider, credentials: Credentials) -> Credentials:
            calls.append(credentials.reveal("refreshToken"))
            later = str(int(time.time() * 1000) + 3_600_000)
            kept = {k: credentials.reveal(k) for k in credentials}
            return Credentials({**kept, "accessToken": "fresh-at", "expiresAt": later})

    navi_register(Refreshes(), "refreshes")
    service = _service(navi_registry)
    expired = str(int(time.time() * 1000) - 1000)
    values = {"accessToken": "old-at", "refreshToken": "rt-1", "expiresAt": expired}
    values |= {"clientId": "cid"}
    service.store_credentials("acme-oauth", values)
    assert service.get_credentials("acme-oauth").reveal("accessToken") == "fresh-at"
    assert service.get_credentials("acme-oauth").reveal("accessToken") == "fresh-at"
    assert calls == ["rt-1"]  # stored: the second read did not refresh again
    assert local_http_server.requests == []  # the plugin's refresh replaced the core's


def test_hook_runtime_credentials(navi_registry: Registry, navi_register: Register) -> None:
    provider = IntegrationProvider(
        id="acme-cli",
        name="Acme CLI",
        description="A provider whose token lives in its CLI",
        auth_type="cli",
        cli=CliConfig(command="acme", auth_command="acme auth login"),
        api=ApiConfig(
            base_url="https://api.acme.example", auth=ApiAuth(template="Bearer {{token}}")
        ),
        env={"ACME_TOKEN": "{{token}}"},
    )

    class FromCli:
        @hookimpl
        def describe(self) -> IntegrationProvider:
            return provider

        @hookimpl
        def runtime_credentials(
            self, provider: IntegrationProvider, credentials: Credentials
        ) -> Credentials:
            kept = {k: credentials.reveal(k) for k in credentials}
            return Credentials({**kept, "token": "cli-" + KEY})

    navi_register(FromCli(), "from-cli")
    service = _service(navi_registry)
    service.store_credentials("acme-cli", {})
    assert service.get_credentials("acme-cli").reveal("token") == "cli-" + KEY
    # The runtime value is handed out, never stored.
    [row] = service.queries.credentials.credential_rows("acme-cli", Scope.of(None))
    stored = service.vault.open("acme-cli", Scope.of(None), row["key_id"], row["value"])
    assert stored == {}


def test_every_hookspec_has_a_test_named_after_it() -> None:
    specs = sorted(
        name
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, "navi_integrations_spec")
    )
    tests = {name for name, fn in globals().items() if callable(fn) and name.startswith("test_")}
    missing = [name for name in specs if f"test_hook_{name}" not in tests]
    assert specs and missing == [], f"hookspecs without a test_hook_<name> here: {missing}"
    stale = sorted(t for t in tests if t.startswith("test_hook_") and t[10:] not in specs)
    assert stale == [], f"tests named after hookspecs that do not exist: {stale}"
