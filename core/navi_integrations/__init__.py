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

from .errors import (
    CredentialsInvalid,
    FieldProblem,
    NaviError,
    PluginError,
    ProviderDefinitionError,
    ProviderNotFound,
    UnsupportedAuthType,
)
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
from .registry import ENTRY_POINT_GROUP, LoadProblem, PluginInfo, Registry
from .results import HealthResult

__version__ = "0.1.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "ApiAuth",
    "ApiConfig",
    "CliConfig",
    "CredentialField",
    "Credentials",
    "CredentialsInvalid",
    "FieldProblem",
    "HealthCheckConfig",
    "HealthResult",
    "HttpMcpServer",
    "IntegrationProvider",
    "LoadProblem",
    "McpServer",
    "NaviError",
    "OAuthConfig",
    "PluginError",
    "PluginInfo",
    "ProviderDefaults",
    "ProviderDefinitionError",
    "ProviderNotFound",
    "Registry",
    "SetupGuide",
    "SetupStep",
    "SkillConfig",
    "SseMcpServer",
    "StdioMcpServer",
    "UnsupportedAuthType",
    "__version__",
    "hookimpl",
]
