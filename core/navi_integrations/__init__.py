"""navi-integrations: connect an AI-agent host app to external services through plugins.

A provider plugin writes::

    from navi_integrations import IntegrationProvider, hookimpl

    @hookimpl
    def describe():
        return IntegrationProvider(id="acme", name="Acme", ...)

A host app writes::

    from navi_integrations import Registry

    registry = Registry().load()
    for provider in registry.providers():
        print(provider.id, provider.name)

Importing this package is cheap on purpose: HTTP, OAuth, database and
cryptography libraries load only when a feature needs them.
"""

from typing import TYPE_CHECKING, Any

from . import _deprecation
from ._version import __version__

# Public name -> defining module. Loaded on first access (PEP 562), so that
# `navi-int list` and plugin discovery do not pay for pydantic model building.
_LAZY = {
    "Advice": "errors",
    "ConfigurationError": "errors",
    "CredentialsError": "errors",
    "CredentialsInvalid": "errors",
    "DecryptionFailed": "errors",
    "FieldProblem": "errors",
    "GrantRevoked": "errors",
    "IntegrationDisabled": "errors",
    "IntegrationError": "errors",
    "InvalidInput": "errors",
    "MasterKeyError": "errors",
    "NaviError": "errors",
    "NotConnected": "errors",
    "OAuthFailed": "errors",
    "PluginError": "errors",
    "ProviderDefinitionError": "errors",
    "ProviderDefinitionWarning": "errors",
    "ProviderError": "errors",
    "ProviderFailure": "errors",
    "ProviderNotFound": "errors",
    "SkillWarning": "errors",
    "StoreBusy": "errors",
    "StoreError": "errors",
    "AdviceAction": "errors",
    "MasterKeyMissing": "errors",
    "StoreProblem": "errors",
    "StoreCorrupt": "errors",
    "StoreFull": "errors",
    "StoreReadOnly": "errors",
    "StoreUnavailable": "errors",
    "UnsupportedAuthType": "errors",
    "UpstreamCrashed": "errors",
    "ApiAuth": "_model_sections",
    "ApiConfig": "_model_sections",
    "CliConfig": "_model_sections",
    "CredentialField": "models",
    "Credentials": "models",
    "HealthCheckConfig": "_model_sections",
    "HttpMcpServer": "_model_sections",
    "IntegrationProvider": "models",
    "McpServer": "_model_sections",
    "MissingValue": "models",
    "OAuthConfig": "_model_sections",
    "ProviderDefaults": "_model_sections",
    "SetupGuide": "_model_sections",
    "SetupStep": "_model_sections",
    "SkillConfig": "_model_sections",
    "SseMcpServer": "_model_sections",
    "StdioMcpServer": "_model_sections",
    "env_url_name": "models",
    "hosted_mcp_provider": "hosted_mcp",
    "ConnectResult": "results",
    "HealthResult": "results",
    "TestResult": "results",
    "Effective": "scopes",
    "Scope": "scopes",
    "ProviderStatus": "documents",
    "Token": "documents",
    "hookimpl": "hookspecs",  # lazy too: pluggy is for loading plugins, not for every command
    "ENTRY_POINT_GROUP": "plugins.discovery",
    "LoadProblem": "plugins.info",
    "PluginInfo": "plugins.info",
    "Registry": "plugins.registry",
    "http_check": "health.checks",
    "failure_of": "health.checks",
    "parse_retry_after": "health.checks",
    "ChangeEvent": "health.events",
    "HealthRecord": "health.tracker",
    "RecoveryPolicy": "health.recovery",
    "SignInResult": "auth.oauth",
    "McpConfig": "agent.mcp",
    "McpSkipped": "agent.mcp",
    "fill_mcp_server": "agent.mcp",
    "Skill": "agent._skill_spec",
    "IntegrationService": "service",
    "create_app": "server",
    "acall_with_recovery": "service",
    "build_mcp_config": "service",
    "call_with_recovery": "service",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "Advice",
    "AdviceAction",
    "ApiAuth",
    "ApiConfig",
    "ChangeEvent",
    "CliConfig",
    "ConfigurationError",
    "ConnectResult",
    "CredentialField",
    "Credentials",
    "CredentialsError",
    "CredentialsInvalid",
    "DecryptionFailed",
    "Effective",
    "FieldProblem",
    "GrantRevoked",
    "HealthCheckConfig",
    "HealthRecord",
    "HealthResult",
    "HttpMcpServer",
    "IntegrationDisabled",
    "IntegrationError",
    "IntegrationProvider",
    "IntegrationService",
    "InvalidInput",
    "LoadProblem",
    "MasterKeyError",
    "MasterKeyMissing",
    "McpConfig",
    "McpServer",
    "McpSkipped",
    "MissingValue",
    "NaviError",
    "NotConnected",
    "OAuthConfig",
    "OAuthFailed",
    "PluginError",
    "PluginInfo",
    "ProviderDefaults",
    "ProviderDefinitionError",
    "ProviderDefinitionWarning",
    "ProviderError",
    "ProviderFailure",
    "ProviderNotFound",
    "ProviderStatus",
    "RecoveryPolicy",
    "Registry",
    "Scope",
    "SetupGuide",
    "SetupStep",
    "SignInResult",
    "Skill",
    "SkillConfig",
    "SkillWarning",
    "SseMcpServer",
    "StdioMcpServer",
    "StoreBusy",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreProblem",
    "StoreReadOnly",
    "StoreUnavailable",
    "TestResult",
    "Token",
    "UnsupportedAuthType",
    "UpstreamCrashed",
    "__version__",
    "acall_with_recovery",
    "build_mcp_config",
    "call_with_recovery",
    "create_app",
    "env_url_name",
    "failure_of",
    "fill_mcp_server",
    "hookimpl",
    "hosted_mcp_provider",
    "http_check",
    "parse_retry_after",
]

if TYPE_CHECKING:
    from ._model_sections import (
        ApiAuth,
        ApiConfig,
        CliConfig,
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
    from .agent._skill_spec import (
        Skill,
    )
    from .agent.mcp import (
        McpConfig,
        McpSkipped,
        fill_mcp_server,
    )
    from .auth.oauth import (
        SignInResult,
    )
    from .documents import (
        ProviderStatus,
        Token,
    )
    from .errors import (
        Advice,
        AdviceAction,
        ConfigurationError,
        CredentialsError,
        CredentialsInvalid,
        DecryptionFailed,
        FieldProblem,
        GrantRevoked,
        IntegrationDisabled,
        IntegrationError,
        InvalidInput,
        MasterKeyError,
        MasterKeyMissing,
        NaviError,
        NotConnected,
        OAuthFailed,
        PluginError,
        ProviderDefinitionError,
        ProviderDefinitionWarning,
        ProviderError,
        ProviderFailure,
        ProviderNotFound,
        SkillWarning,
        StoreBusy,
        StoreCorrupt,
        StoreError,
        StoreFull,
        StoreProblem,
        StoreReadOnly,
        StoreUnavailable,
        UnsupportedAuthType,
        UpstreamCrashed,
    )
    from .health.checks import (
        failure_of,
        http_check,
        parse_retry_after,
    )
    from .health.events import (
        ChangeEvent,
    )
    from .health.recovery import (
        RecoveryPolicy,
    )
    from .health.tracker import (
        HealthRecord,
    )
    from .hookspecs import hookimpl
    from .hosted_mcp import hosted_mcp_provider
    from .models import (
        CredentialField,
        Credentials,
        IntegrationProvider,
        env_url_name,
    )
    from .plugins.discovery import (
        ENTRY_POINT_GROUP,
    )
    from .plugins.info import (
        LoadProblem,
        PluginInfo,
    )
    from .plugins.registry import (
        Registry,
    )
    from .results import (
        ConnectResult,
        HealthResult,
        TestResult,
    )
    from .scopes import (
        Effective,
        Scope,
    )
    from .server import create_app
    from .service import (
        IntegrationService,
        acall_with_recovery,
        build_mcp_config,
        call_with_recovery,
    )


# Retired top-level names: name -> "module:attr" where it lives now (until 0.5.0).
_MOVED = {"OAuthSignIn": f"{__name__}.auth.oauth:OAuthSignIn"}

_deprecation.install_finder()  # 0.1's module paths (navi_integrations.registry…) still import


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if name in _MOVED:
            return _deprecation.moved(__name__, name, _MOVED[name])
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
