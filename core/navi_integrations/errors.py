"""The exception tree of navi-integrations.

Every error the library raises on purpose derives from :class:`NaviError`::

    NaviError
    ├── ConfigurationError          something the user or a plugin declared is wrong
    │   ├── ProviderNotFound          an unknown provider id was asked for
    │   ├── ProviderDefinitionError   a provider definition (plugin model, TOML file) is invalid
    │   │   └── ProviderDefinitionWarning   a risk in a provider file that still loads
    │   ├── PluginError               a plugin failed to load, raised or answered wrongly in a hook
    │   ├── UnsupportedAuthType       the provider needs an auth type we do not support yet
    │   └── InvalidInput              a value given to a command is malformed (project id, format…)
    ├── CredentialsError            the credentials in a scope cannot be used
    │   ├── CredentialsInvalid        values were refused by validation (field problems)
    │   ├── NotConnected              no credentials in the asked scope
    │   ├── IntegrationDisabled       the provider is switched off in the asked scope
    │   └── DecryptionFailed          a stored credential cannot be decrypted
    ├── ProviderError               the provider (or its sign-in) answered with a failure
    │   ├── ProviderFailure           raised by host-app code inside ``call_with_recovery``
    │   │   └── UpstreamCrashed         an MCP server's connection ended under a request
    │   ├── IntegrationError          a recovered call gave up: carries the recovery action
    │   └── OAuthFailed               a sign-in or refresh did not complete
    │       └── GrantRevoked          the provider refused to renew access (``invalid_grant``)
    └── StoreError                  the database cannot be opened, migrated, read or written
        ├── MasterKeyError            the master key is missing, malformed or cannot be stored
        │   └── MasterKeyMissing        stored credentials need a key we cannot find (none is made)
        ├── StoreProblem              a database failure, naming the file or URL and the fix
        │   ├── StoreCorrupt            the database is damaged
        │   ├── StoreFull               the disk is full
        │   ├── StoreReadOnly           the database cannot be written
        │   └── StoreUnavailable        the database cannot be opened or reached
        ├── StoreBusy                 another connection holds the write lock (``wait=False``)
        └── InvalidCiphertext         a value did not authenticate (surfaces as DecryptionFailed)

One warning category stands beside the tree: :class:`SkillWarning` (a
:class:`UserWarning`), for a skill that works but should change.

Advice is data: each error carries :attr:`NaviError.advice` (an :class:`Advice`
with the action that fixes it and, where one exists, the ``navi-int`` command),
and :attr:`NaviError.message` (what failed, without the advice). ``str(error)``
joins them in one line for a terminal; the HTTP API and the MCP gateway word
them for their medium. No code parses these messages.

Messages never contain a secret value: credential values travel as
:class:`pydantic.SecretStr` and are never formatted into a message.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [  # sorted; the tree in the docstring shows how they relate
    "Advice",
    "AdviceAction",
    "ConfigurationError",
    "CredentialsError",
    "CredentialsInvalid",
    "DecryptionFailed",
    "FieldProblem",
    "GrantRevoked",
    "IntegrationDisabled",
    "IntegrationError",
    "InvalidCiphertext",
    "InvalidInput",
    "MasterKeyError",
    "MasterKeyMissing",
    "NaviError",
    "NotConnected",
    "OAuthFailed",
    "PluginError",
    "ProviderDefinitionError",
    "ProviderDefinitionWarning",
    "ProviderError",
    "ProviderFailure",
    "ProviderNotFound",
    "SkillWarning",
    "StoreBusy",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreProblem",
    "StoreReadOnly",
    "StoreUnavailable",
    "UnsupportedAuthType",
    "UpstreamCrashed",
]  # fmt: skip

#: What fixes a failure: ``connect`` (sign in or enter credentials again), ``enable``
#: (switch the provider on), ``login`` (a CLI's own login, e.g. ``gh auth login``),
#: ``wait`` (rate limited), ``retry_later`` (the provider is down), ``fix_input`` (the
#: value given was wrong), ``fix_plugin`` (update or remove a plugin), ``fix_store``
#: (the database or the key needs attention), ``none`` (nothing the user can do here).
AdviceAction = Literal[
    "connect", "enable", "login", "wait", "retry_later", "fix_input", "fix_plugin", "fix_store",
    "none",
]  # fmt: skip


@dataclass(frozen=True)
class Advice:
    """What fixes a failure: an action, and the command that performs it when there is one."""

    action: AdviceAction
    command: str | None = None
    #: A sentence for humans when there is no command (or beside it).
    hint: str | None = None

    def __str__(self) -> str:
        hint = self.hint[:1].upper() + self.hint[1:] if self.hint else ""
        parts = [hint if not hint or hint[-1] in ".?!" else hint + ".", ""]
        if self.command:
            parts[1] = f"Run: {self.command}"
        return " ".join(p for p in parts if p)

    def to_document(self) -> dict[str, Any]:
        """JSON form (camelCase) for the HTTP API and agents."""
        return {"action": self.action, "command": self.command, "hint": self.hint}


def scope_label(project_id: str | None) -> str:
    """How a scope is named in messages: "user scope" or "project P"."""
    return f"project {project_id}" if project_id else "user scope"


def scope_flag(project_id: str | None) -> str:
    """The CLI option selecting a scope, for "Run: ..." advice (shell-quoted)."""
    if not project_id:
        return ""
    import shlex

    return f" --project {shlex.quote(project_id)}"


def connect_advice(provider_id: str, project_id: str | None, account: str | None = None) -> Advice:
    """Advice to (re)connect a provider in a scope (one of its accounts, when named)."""
    flag = f" --account {account}" if account else ""
    return Advice("connect", f"navi-int connect {provider_id}{flag}{scope_flag(project_id)}")


class NaviError(Exception):
    """Base class of every error raised by navi-integrations on purpose.

    ``message`` says what failed; ``advice`` (optional) what fixes it.
    """

    #: Exit code the CLI uses for this error: 1 = operation failed, 2 = bad input.
    exit_code: int = 1

    def __init__(self, message: str, *, advice: Advice | None = None) -> None:
        self.message = message
        self.advice = advice
        text = message
        if advice is not None and str(advice):
            text = f"{message.rstrip('.')}. {advice}"
        super().__init__(text)

    def to_document(self) -> dict[str, Any]:
        """JSON form for the HTTP API and agents: the error class, message and advice."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "advice": None if self.advice is None else self.advice.to_document(),
        }


# -- configuration -------------------------------------------------------------


class ConfigurationError(NaviError):
    """Something the user or a plugin declared is wrong."""


class InvalidInput(ConfigurationError):
    """A value given to a command or method is malformed (a project id, a format name)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, advice=Advice("fix_input", hint=hint) if hint else None)


class ProviderNotFound(ConfigurationError):
    """Raised when a provider id is not registered. ``suggestion``: the closest registered id, if
    any is close; ``refused``: why a provider with that id was not loaded (e.g. declared twice)."""

    exit_code = 2

    def __init__(
        self, provider_id: str, suggestion: str | None = None, *, refused: str | None = None
    ) -> None:
        self.provider_id = provider_id
        self.suggestion = suggestion
        self.refused = refused
        if refused:
            super().__init__(
                f"provider '{provider_id}' is not loaded: {refused}",
                advice=Advice("fix_plugin", "navi-int plugins"),
            )
            return
        hint = f"Did you mean '{suggestion}'?" if suggestion else None
        super().__init__(
            f"unknown provider '{provider_id}'",
            advice=Advice("fix_input", "navi-int list", hint=hint),
        )

    @classmethod
    def among(cls, provider_id: str, known: Iterable[str]) -> ProviderNotFound:
        """The error for ``provider_id``, suggesting the closest of ``known`` ids."""
        import difflib

        close = difflib.get_close_matches(provider_id, list(known), n=1, cutoff=0.6)
        return cls(provider_id, close[0] if close else None)


class ProviderDefinitionError(ConfigurationError):
    """Raised (or returned by ``describe``) when a provider definition is invalid; ``source``
    names where it came from: a file path, optionally with ``:line``, or a distribution name."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")
        self.message = message


class ProviderDefinitionWarning(ProviderDefinitionError):
    """A risk in a provider file that still loads; ``source`` is ``path:line``."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(source, f"warning: {message} (loaded anyway)")


class SkillWarning(UserWarning):
    """A skill that works but should change (e.g. the PRD's frontmatter keys at the top
    level); the message names the skill folder and the fix."""


class PluginError(ConfigurationError):
    """Raised when a plugin fails to import or register, or raises inside a hook; carries its
    entry-point name, distribution and version: the package to update or remove."""

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
        name = distribution or plugin
        super().__init__(
            f"{self.origin}: {message}",
            advice=Advice("fix_plugin", hint=f"update or uninstall {name}; this is its bug"),
        )
        self.message = message

    @property
    def origin(self) -> str:
        """The distribution and version (or the plugin name) to blame."""
        if not self.distribution:
            return f"plugin '{self.plugin}'"
        return f"{self.distribution} {self.version}" if self.version else self.distribution


class UnsupportedAuthType(ConfigurationError):
    """Raised when a provider declares an auth type that is not supported yet."""

    def __init__(self, provider_id: str, auth_type: str) -> None:
        self.provider_id = provider_id
        self.auth_type = auth_type
        super().__init__(
            f"provider '{provider_id}' uses {auth_type} auth: {auth_type} auth is not supported yet"
        )


# -- credentials ---------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """One reason a credential value was refused: which field, and what is expected."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class CredentialsError(NaviError):
    """The credentials of a provider in a scope cannot be used."""

    def __init__(self, provider_id: str, message: str, *, advice: Advice | None = None) -> None:
        self.provider_id = provider_id
        super().__init__(message, advice=advice)


class CredentialsInvalid(CredentialsError):
    """Raised when credentials fail validation; ``problems`` lists each field's problem."""

    exit_code = 2

    def __init__(self, provider_id: str, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        detail = "; ".join(str(p) for p in self.problems)
        super().__init__(provider_id, f"invalid {provider_id} credentials: {detail}")


class NotConnected(CredentialsError):
    """Raised when a provider has no usable credentials in the asked scope, or not the
    account asked for (``account``; ``bound``: the one the project is bound to)."""

    def __init__(
        self,
        provider_id: str,
        project_id: str | None,
        *,
        account: str | None = None,
        bound: bool = False,
    ) -> None:
        self.project_id = project_id
        self.account = account
        if account is None:
            message = f"{provider_id} is not connected ({scope_label(project_id)})"
            advice = connect_advice(provider_id, project_id)
        elif bound:
            message = (
                f"{provider_id} account '{account}', which {scope_label(project_id)} uses,"
                " is not connected"
            )
            advice = Advice(
                "connect",
                f"navi-int connect {provider_id} --account {account}",
                hint=f"or choose another: navi-int use {provider_id} ACCOUNT"
                f"{scope_flag(project_id)}",
            )
        else:
            message = (
                f"{provider_id} has no account '{account}' ({scope_label(project_id)}"
                " or the user scope)"
                if project_id
                else f"{provider_id} has no account '{account}' (user scope)"
            )
            advice = Advice(
                "connect",
                f"navi-int connect {provider_id} --account {account}",
                hint=f"navi-int list{scope_flag(project_id)} shows every account",
            )
        super().__init__(provider_id, message, advice=advice)


class IntegrationDisabled(CredentialsError):
    """Raised when credentials are asked for a provider that is disabled in that scope."""

    def __init__(self, provider_id: str, project_id: str | None) -> None:
        self.project_id = project_id
        super().__init__(
            provider_id,
            f"{provider_id} is disabled ({scope_label(project_id)})",
            advice=Advice("enable", f"navi-int enable {provider_id}{scope_flag(project_id)}"),
        )


class DecryptionFailed(CredentialsError):
    """Raised when a stored credential cannot be decrypted. ``reason``: ``"key"`` (sealed with a
    key we do not have) or ``"damaged"`` (altered, or copied from another provider or scope)."""

    def __init__(self, provider_id: str, scope: str, reason: str) -> None:
        self.scope = scope
        self.reason = reason
        detail = {
            "key": "the master key does not match",
            "damaged": "the stored value is damaged or was copied from another provider or scope",
        }.get(reason, reason)
        hint = (
            "restore the master key this store was sealed with (see navi-int doctor)"
            if reason == "key"
            else "connect it again to replace the damaged value"
        )
        super().__init__(
            provider_id,
            f"cannot decrypt the {provider_id} credentials ({scope}): {detail}",
            advice=Advice("fix_store", hint=hint),
        )


# -- providers -----------------------------------------------------------------


class ProviderError(NaviError):
    """The provider (or its sign-in) answered with a failure."""


class ProviderFailure(ProviderError):
    """Raise it from a call wrapped by ``call_with_recovery`` to say how the provider failed:
    ``kind`` is a :data:`~navi_integrations.results.FailureKind`, ``retry_after`` in seconds.
    httpx errors need no wrapping: they are classified as they are."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        advice: Advice | None = None,
    ) -> None:
        self.kind = kind
        self.http_status = http_status
        self.retry_after = retry_after
        super().__init__(message, advice=advice)


class UpstreamCrashed(ProviderFailure):
    """The MCP gateway's connection to a provider's MCP server ended under a request (a stdio
    child that exited); the gateway restarts it once per request."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(
            "unavailable",
            f"the {name} MCP server stopped ({detail})",
            advice=Advice("retry_later", hint=f"check that {name}'s MCP server starts"),
        )


class IntegrationError(ProviderError):
    """A provider call that could not be recovered: what happened and what to do. ``action``:
    ``wait`` (see ``retry_after``), ``reauth`` (``command`` reconnects), ``retry_later`` or
    ``fail``; ``link``: a settings page when the host app serves one (``None`` otherwise)."""

    def __init__(
        self,
        provider: str,
        action: Literal["retry", "wait", "reauth", "retry_later", "fail"],
        message: str,
        *,
        command: str | None = None,
        retry_after: float | None = None,
        link: str | None = None,
        kind: str | None = None,
        advice: Advice | None = None,
    ) -> None:
        self.provider = provider
        self.action = action
        self.command = command
        self.retry_after = retry_after
        self.link = link
        self.kind = kind
        if advice is None and command:
            advice = Advice("login" if not command.startswith("navi-int") else "connect", command)
        super().__init__(message, advice=advice)

    def to_document(self) -> dict[str, Any]:
        """JSON form for agents and APIs."""
        return {
            **super().to_document(),
            "provider": self.provider,
            "action": self.action,
            "command": self.command,
            "retryAfter": self.retry_after,
            "link": self.link,
        }


class OAuthFailed(ProviderError):
    """The sign-in did not complete (denied, timed out, refused by the token endpoint)."""


class GrantRevoked(OAuthFailed):
    """The provider refused to renew access (``invalid_grant``): the user must sign in again."""

    def __init__(self, provider_id: str, name: str, project_id: str | None) -> None:
        self.provider_id = provider_id
        super().__init__(
            f"{name} refused to renew access (invalid_grant): the sign-in was revoked or expired",
            advice=connect_advice(provider_id, project_id),
        )


# -- store ---------------------------------------------------------------------


class StoreError(NaviError):
    """Raised when the database cannot be opened, migrated, read or written."""


class MasterKeyError(StoreError):
    """Raised when the master key is missing, malformed, or cannot be stored or rotated."""


class MasterKeyMissing(MasterKeyError):
    """Raised instead of creating a key while stored credentials need one we cannot find.

    ``looked_at`` says where the key was looked for (a key file, the OS
    keyring); ``expected`` lists the ids of the keys stored credentials are
    sealed with that no known key matches (empty when no row needs one, e.g.
    ``current(create=False)`` on a new store). A new key is never created
    while ``expected`` is not empty: it would split the store across two keys.
    """

    def __init__(self, looked_at: str, expected: Collection[str], restore: str) -> None:
        self.looked_at = looked_at
        self.expected = tuple(sorted(expected))
        if not self.expected:
            super().__init__(
                f"no master key yet in {looked_at}",
                advice=Advice("connect", hint="one is created on the first connect"),
            )
            return
        super().__init__(
            f"the master key is missing: stored credentials are sealed with key "
            f"{', '.join(self.expected)}, looked for in {looked_at}",
            advice=Advice(
                "fix_store",
                "navi-int keys status",
                hint=f"{restore} (a new key was not created, so they stay readable once it is "
                "back); if it is lost, disconnect the credentials this lists and connect again",
            ),
        )


class StoreBusy(StoreError):
    """Another connection holds the write lock: from ``Store.write(wait=False)`` at once,
    else when the busy timeout runs out (or on a PostgreSQL serialization conflict)."""


class InvalidCiphertext(StoreError):
    """A value did not authenticate under the given key and associated data."""


class StoreProblem(StoreError):
    """A database failure: what failed (``message``), where (``location``: the file, or the URL
    without its password) and what fixes it (``advice``)."""

    def __init__(
        self, location: str, message: str, fix: str, *, action: AdviceAction = "fix_store"
    ) -> None:
        self.location = location
        super().__init__(message, advice=Advice(action, hint=fix))


class StoreCorrupt(StoreProblem):
    """The database file (or, on a server, its data) is damaged."""


class StoreFull(StoreProblem):
    """The disk holding the database (or the server's disk) is full."""


class StoreReadOnly(StoreProblem):
    """The database cannot be written: read-only file system, folder, file or server."""


class StoreUnavailable(StoreProblem):
    """The database cannot be opened or reached, or an I/O error stopped it."""
