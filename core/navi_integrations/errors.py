"""The exception tree of navi-integrations.

Every error the library raises on purpose derives from :class:`NaviError`::

    NaviError
    ├── ProviderNotFound          an unknown provider id was asked for
    ├── ProviderDefinitionError   a provider definition (plugin model, TOML file) is invalid
    ├── PluginError               a plugin failed to load or raised inside a hook
    ├── CredentialsInvalid        credentials were refused by ``validate``
    ├── UnsupportedAuthType       the provider needs an auth type we do not support yet
    ├── NotConnected              no usable credentials in the asked scope
    ├── IntegrationDisabled       the provider is disabled in the asked scope
    ├── StoreError                the database cannot be opened, migrated or written
    ├── MasterKeyError            the master key is missing, malformed or cannot be stored
    └── DecryptionFailed          a stored credential cannot be decrypted

Messages say what happened and what to do, and never contain a secret value:
credential values travel as :class:`pydantic.SecretStr` and are never
formatted into a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CredentialsInvalid",
    "DecryptionFailed",
    "FieldProblem",
    "IntegrationDisabled",
    "MasterKeyError",
    "NaviError",
    "NotConnected",
    "PluginError",
    "ProviderDefinitionError",
    "ProviderNotFound",
    "StoreError",
    "UnsupportedAuthType",
]


class NaviError(Exception):
    """Base class of every error raised by navi-integrations on purpose."""

    #: Exit code the CLI uses for this error: 1 = operation failed, 2 = bad input.
    exit_code: int = 1


class ProviderNotFound(NaviError):
    """Raised when a provider id is not registered.

    ``suggestion`` holds the closest registered id, if any is close enough.
    """

    exit_code = 2

    def __init__(self, provider_id: str, suggestion: str | None = None) -> None:
        self.provider_id = provider_id
        self.suggestion = suggestion
        hint = f" Did you mean '{suggestion}'?" if suggestion else ""
        super().__init__(
            f"unknown provider '{provider_id}'.{hint} Run 'navi-int list' to see every provider."
        )

    @classmethod
    def among(cls, provider_id: str, known: Iterable[str]) -> ProviderNotFound:
        """The error for ``provider_id``, suggesting the closest of ``known`` ids."""
        import difflib

        close = difflib.get_close_matches(provider_id, list(known), n=1, cutoff=0.6)
        return cls(provider_id, close[0] if close else None)


class ProviderDefinitionError(NaviError):
    """Raised (or returned by ``describe``) when a provider definition is invalid.

    ``source`` names where the definition came from: a file path, optionally
    with ``:line``, or a distribution name.
    """

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


class PluginError(NaviError):
    """Raised when a plugin fails to import, to register, or raises inside a hook.

    Carries the plugin's entry-point name and its distribution name and
    version, so the user knows which package to update or remove.
    """

    def __init__(
        self,
        plugin: str,
        message: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        self.plugin = plugin
        self.distribution = distribution
        self.version = version
        self.message = message
        origin = f"{distribution} {version}" if distribution else f"plugin '{plugin}'"
        super().__init__(f"{origin}: {message}")


@dataclass(frozen=True)
class FieldProblem:
    """One reason a credential value was refused: which field, and what is expected."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class CredentialsInvalid(NaviError):
    """Raised when credentials fail validation; ``problems`` lists each field's problem."""

    exit_code = 2

    def __init__(self, provider_id: str, problems: Sequence[FieldProblem]) -> None:
        self.provider_id = provider_id
        self.problems = tuple(problems)
        detail = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid {provider_id} credentials: {detail}")


class UnsupportedAuthType(NaviError):
    """Raised when a provider declares an auth type that is not supported yet."""

    def __init__(self, provider_id: str, auth_type: str) -> None:
        self.provider_id = provider_id
        self.auth_type = auth_type
        super().__init__(
            f"provider '{provider_id}' uses {auth_type} auth: {auth_type} auth is not supported yet"
        )


def scope_label(project_id: str | None) -> str:
    """How a scope is named in messages: "user scope" or "project P"."""
    return f"project {project_id}" if project_id else "user scope"


def scope_flag(project_id: str | None) -> str:
    """The CLI option selecting a scope, for "run: ..." advice."""
    return f" --project {project_id}" if project_id else ""


class NotConnected(NaviError):
    """Raised when a provider has no usable credentials in the asked scope."""

    def __init__(self, provider_id: str, project_id: str | None) -> None:
        self.provider_id = provider_id
        self.project_id = project_id
        super().__init__(
            f"{provider_id} is not connected ({scope_label(project_id)}). "
            f"Run: navi-int connect {provider_id}{scope_flag(project_id)}"
        )


class IntegrationDisabled(NaviError):
    """Raised when credentials are asked for a provider that is disabled in that scope."""

    def __init__(self, provider_id: str, project_id: str | None) -> None:
        self.provider_id = provider_id
        self.project_id = project_id
        super().__init__(
            f"{provider_id} is disabled ({scope_label(project_id)}). "
            f"Run: navi-int enable {provider_id}{scope_flag(project_id)}"
        )


class StoreError(NaviError):
    """Raised when the database cannot be opened, migrated or written."""


class MasterKeyError(NaviError):
    """Raised when the master key is missing, malformed, or cannot be stored or rotated."""


class DecryptionFailed(NaviError):
    """Raised when a stored credential cannot be decrypted.

    ``reason`` is ``"key"`` when the row was sealed with a key we do not have
    (the master key does not match) and ``"damaged"`` when the key is right but
    the value was altered or copied from another provider or scope.
    """

    def __init__(self, provider_id: str, scope: str, reason: str) -> None:
        self.provider_id = provider_id
        self.scope = scope
        self.reason = reason
        detail = {
            "key": "the master key does not match",
            "damaged": "the stored value is damaged or was copied from another provider or scope",
        }.get(reason, reason)
        super().__init__(f"cannot decrypt the {provider_id} credentials ({scope}): {detail}")
