"""The exception tree of navi-integrations.

Every error the library raises on purpose derives from :class:`NaviError`::

    NaviError
    ├── ProviderNotFound          an unknown provider id was asked for
    ├── ProviderDefinitionError   a provider definition (plugin model, TOML file) is invalid
    ├── PluginError               a plugin failed to load or raised inside a hook
    ├── CredentialsInvalid        credentials were refused by ``validate``
    └── UnsupportedAuthType       the provider needs an auth type we do not support yet

Messages say what happened and what to do, and never contain a secret value:
credential values travel as :class:`pydantic.SecretStr` and are never
formatted into a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CredentialsInvalid",
    "FieldProblem",
    "NaviError",
    "PluginError",
    "ProviderDefinitionError",
    "ProviderNotFound",
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
