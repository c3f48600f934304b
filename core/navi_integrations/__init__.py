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

__version__ = "0.1.0"

# Public name -> defining module. Loaded on first access (PEP 562), so that
# `navi-int list` and plugin discovery do not pay for pydantic model building.
_LAZY = {
    **dict.fromkeys(
        [
            "CredentialsInvalid",
            "DecryptionFailed",
            "FieldProblem",
            "IntegrationDisabled",
            "MasterKeyError",
            "NotConnected",
            "StoreError",
            "NaviError",
            "PluginError",
            "ProviderDefinitionError",
            "ProviderNotFound",
            "UnsupportedAuthType",
        ],
        "errors",
    ),
    **dict.fromkeys(
        [
            "ApiAuth",
            "ApiConfig",
            "CliConfig",
            "CredentialField",
            "Credentials",
            "HealthCheckConfig",
            "HttpMcpServer",
            "IntegrationProvider",
            "McpServer",
            "OAuthConfig",
            "ProviderDefaults",
            "SetupGuide",
            "SetupStep",
            "SkillConfig",
            "SseMcpServer",
            "StdioMcpServer",
        ],
        "models",
    ),
    **dict.fromkeys(["hookimpl"], "hookspecs"),  # lazy too: pluggy is for loading plugins
    **dict.fromkeys(["ENTRY_POINT_GROUP"], "plugins.discovery"),
    **dict.fromkeys(["LoadProblem", "PluginInfo"], "plugins.catalog"),
    **dict.fromkeys(["Registry"], "plugins.registry"),
    **dict.fromkeys(["IntegrationService"], "service"),
    **dict.fromkeys(["ProviderStatus", "Token"], "documents"),
    **dict.fromkeys(["HealthResult"], "results"),
    **dict.fromkeys(["ProviderFailure"], "health.checks"),
    **dict.fromkeys(["GrantRevoked", "OAuthFailed", "OAuthSignIn", "SignInResult"], "auth.oauth"),
    **dict.fromkeys(["ChangeEvent", "HealthRecord"], "health.tracker"),
    **dict.fromkeys(
        ["IntegrationError", "RecoveryPolicy", "acall_with_recovery", "call_with_recovery"],
        "health.recovery",
    ),
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "ApiAuth",
    "ApiConfig",
    "ChangeEvent",
    "CliConfig",
    "CredentialField",
    "Credentials",
    "CredentialsInvalid",
    "DecryptionFailed",
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
    "LoadProblem",
    "MasterKeyError",
    "McpServer",
    "NaviError",
    "NotConnected",
    "OAuthConfig",
    "OAuthFailed",
    "OAuthSignIn",
    "PluginError",
    "PluginInfo",
    "ProviderDefaults",
    "ProviderDefinitionError",
    "ProviderFailure",
    "ProviderNotFound",
    "ProviderStatus",
    "RecoveryPolicy",
    "Registry",
    "SetupGuide",
    "SetupStep",
    "SignInResult",
    "SkillConfig",
    "SseMcpServer",
    "StdioMcpServer",
    "StoreError",
    "Token",
    "UnsupportedAuthType",
    "__version__",
    "acall_with_recovery",
    "call_with_recovery",
    "hookimpl",
]

if TYPE_CHECKING:
    from .auth.oauth import GrantRevoked, OAuthFailed, OAuthSignIn, SignInResult
    from .documents import ProviderStatus, Token
    from .errors import (
        CredentialsInvalid,
        DecryptionFailed,
        FieldProblem,
        IntegrationDisabled,
        MasterKeyError,
        NaviError,
        NotConnected,
        PluginError,
        ProviderDefinitionError,
        ProviderNotFound,
        StoreError,
        UnsupportedAuthType,
    )
    from .health.checks import ProviderFailure
    from .health.recovery import (
        IntegrationError,
        RecoveryPolicy,
        acall_with_recovery,
        call_with_recovery,
    )
    from .health.tracker import ChangeEvent, HealthRecord
    from .hookspecs import hookimpl
    from .models import (
        ApiAuth,
        ApiConfig,
        CliConfig,
        CredentialField,
        Credentials,
        HealthCheckConfig,
        HttpMcpServer,
        IntegrationProvider,
        McpServer,
        OAuthConfig,
        ProviderDefaults,
        SetupGuide,
        SetupStep,
        SkillConfig,
        SseMcpServer,
        StdioMcpServer,
    )
    from .plugins.catalog import LoadProblem, PluginInfo
    from .plugins.discovery import ENTRY_POINT_GROUP
    from .plugins.registry import Registry
    from .results import HealthResult
    from .service import IntegrationService


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
