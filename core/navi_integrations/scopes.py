"""The one resolver of "what is effective for provider P in project X".

Rules (every consumer — CLI, Python API, MCP configs, skills — goes through
:func:`resolve`, so they never disagree):

* **Credentials**: a project's own enabled credentials override the user's;
  otherwise the user's enabled credentials apply; otherwise none.
* **Switches** (``enabled``, ``mcp_enabled``, ``skill_enabled``), each on
  its own: the project's value if set, else the global value if set, else
  the provider's ``defaults`` (``enabledGlobally``, ``mcpEnabled``,
  ``skillEnabled``).
* Without a project, only the global values and the defaults apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_ACCOUNT",
    "CredentialScope",
    "Effective",
    "Scope",
    "Switches",
    "account_name_from",
    "check_account_name",
    "check_project_id",
    "credential_scope",
    "resolve",
    "switch_value",
]

CredentialScope = Literal["user", "project"]


@dataclass(frozen=True, slots=True)
class Switches:
    """Switch values stored for one scope; ``None`` = unset (inherit)."""

    enabled: bool | None = None
    mcp_enabled: bool | None = None
    skill_enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class Effective:
    """What applies in a scope after inheritance."""

    enabled: bool
    mcp_enabled: bool
    skill_enabled: bool
    credential_scope: CredentialScope | None

    @property
    def connected(self) -> bool:
        """Whether usable credentials exist in this scope."""
        return self.credential_scope is not None


def resolve(
    defaults: Switches,
    global_switches: Switches | None,
    project_switches: Switches | None,
    user_credentials: bool | None,
    project_credentials: bool | None,
) -> Effective:
    """Resolve the effective state.

    :param defaults: the provider's defaults (all three set).
    :param global_switches: the global row, if any.
    :param project_switches: the project's row, if any (``None`` without a project).
    :param user_credentials: ``None`` if no user-scope row, else whether it is enabled.
    :param project_credentials: the same for the project's row.
    """
    project = project_switches or _UNSET
    global_ = global_switches or _UNSET
    return Effective(
        switch_value(project.enabled, global_.enabled, defaults.enabled),
        switch_value(project.mcp_enabled, global_.mcp_enabled, defaults.mcp_enabled),
        switch_value(project.skill_enabled, global_.skill_enabled, defaults.skill_enabled),
        credential_scope(user_credentials, project_credentials),
    )


def switch_value(project: bool | None, global_: bool | None, default: bool | None) -> bool:
    """One switch: the project's value if set, else the global value if set, else the default.

    (:func:`resolve` applies it to each switch; the hot read of a token to
    ``enabled`` alone.)
    """
    if project is not None:
        return bool(project)
    if global_ is not None:
        return bool(global_)
    if default is None:
        raise ValueError("defaults must set every switch")
    return bool(default)


def credential_scope(
    user_credentials: bool | None, project_credentials: bool | None
) -> CredentialScope | None:
    """Whose credentials apply: the project's own enabled ones, else the user's, else none.

    Each argument is ``None`` when that scope has no row, else whether the row is enabled.
    """
    if project_credentials:
        return "project"
    if user_credentials:
        return "user"
    return None


_PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}$")


@dataclass(frozen=True)
class Scope:
    """The user scope or one project's: the one word for "where" across the library.

    ``Scope.user()`` / ``Scope.project("acme")`` / ``Scope.of(project_id)``.
    ``key`` is how the store names it (``''`` for the user scope, else the
    project id); ``kind`` is ``"user"`` or ``"project"``.

    A provider can hold several named connections (accounts) in a scope.
    ``account`` names one of them: in a scope a caller asks about, ``None``
    means the account that scope uses (the project's binding, else the
    scope's default: see :func:`navi_integrations.statuses.credential_in_effect`);
    in the scope of a stored row it is that row's account. Switches are per
    scope, never per account.
    """

    project_id: str | None = None
    account: str | None = None

    def __post_init__(self) -> None:
        if self.project_id is not None:
            check_project_id(self.project_id)
        if self.account is not None:
            check_account_name(self.account)

    @classmethod
    def user(cls) -> Scope:
        """The user scope (every project inherits it)."""
        return _USER

    @classmethod
    def project(cls, project_id: str) -> Scope:
        """One project's scope."""
        return cls(project_id)

    @classmethod
    def of(cls, project_id: str | None, account: str | None = None) -> Scope:
        """The scope a ``project_id`` argument names (``None``: the user scope), with
        ``account`` when one is named."""
        if account is not None:
            return cls(project_id, account)
        if project_id is None:
            return _USER
        found = _KNOWN.get(project_id)  # every token read names one: validated once
        if found is None:
            found = cls(project_id)
            if len(_KNOWN) < _KNOWN_MAX:
                _KNOWN[project_id] = found
        return found

    @classmethod
    def from_key(cls, key: str) -> Scope:
        """The scope a stored ``project_id`` column names (``''``: the user scope)."""
        return cls.of(key or None)

    def with_account(self, account: str | None) -> Scope:
        """The same place, naming ``account`` (``None``: whichever the scope uses)."""
        if account == self.account:
            return self
        return Scope(self.project_id, account) if account is not None else Scope.of(self.project_id)

    @property
    def key(self) -> str:
        """The store's ``project_id`` column value."""
        return self.project_id or ""

    @property
    def kind(self) -> CredentialScope:
        """``"user"`` or ``"project"``."""
        return "project" if self.project_id else "user"

    @property
    def is_user(self) -> bool:
        """Whether this is the user scope."""
        return self.project_id is None

    def label(self) -> str:
        """How messages name it: "user scope" or "project P" (the place, not the account)."""
        return f"project {self.project_id}" if self.project_id else "user scope"

    def __str__(self) -> str:
        return self.label()


def check_project_id(project_id: str) -> str:
    """``project_id`` if it is a valid project id, else :class:`InvalidInput`.

    1-128 characters: letters, digits and ``. _ : @ / + -``, starting with a
    letter or digit. An empty id is refused (it is not the user scope: omit
    the project for that).
    """
    if isinstance(project_id, str) and _PROJECT_ID.fullmatch(project_id):
        return project_id
    from .errors import InvalidInput

    raise InvalidInput(
        f"invalid project id{_length(project_id)}: {_what_is_wrong(project_id)}",
        hint="use 1-128 letters, digits and . _ : @ / + -, starting with a letter or digit;"
        " omit --project for the user scope",
    )


def _length(project_id: object) -> str:
    return f" ({len(project_id)} characters)" if isinstance(project_id, str) and project_id else ""


def _what_is_wrong(project_id: object) -> str:
    if isinstance(project_id, Scope):
        return "a Scope where a project id (a string) is expected: pass its .project_id"
    if not isinstance(project_id, str):
        return f"a value of type {type(project_id).__name__}, not a string"
    if not project_id:
        return "an empty id"
    if len(project_id) > 128:
        return "longer than 128 characters"
    if not project_id[0].isascii() or not project_id[0].isalnum():
        return f"it starts with {project_id[0]!r}"
    bad = next(c for c in project_id if not _PROJECT_ID.fullmatch("a" + c))
    return f"{bad!r} is not allowed"


#: The account a connection gets when neither ``--account`` nor its health check names one.
DEFAULT_ACCOUNT = "default"
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def check_account_name(account: str) -> str:
    """``account`` if it is a valid account name, else :class:`InvalidInput`.

    1-64 characters: letters, digits and ``. _ @ + -``, starting with a letter
    or digit (an e-mail address is one; ``linear:work`` splits at the colon).
    """
    if isinstance(account, str) and _ACCOUNT.fullmatch(account):
        return account
    from .errors import InvalidInput

    what = (
        f"a value of type {type(account).__name__}"
        if not isinstance(account, str)
        else "an empty name"
        if not account
        else "longer than 64 characters"
        if len(account) > 64
        else "it has characters other than letters, digits and . _ @ + -, or starts with one"
    )
    raise InvalidInput(
        f"invalid account name: {what}",
        hint="use 1-64 letters, digits and . _ @ + -, starting with a letter or digit",
    )


def account_name_from(identity: str | None) -> str:
    """The account name a connection gets from the identity its health check reported
    (``ada@example.com`` stays as it is; ``Ada Lovelace`` becomes ``Ada-Lovelace``), or
    :data:`DEFAULT_ACCOUNT` when there is none to use."""
    if not identity:
        return DEFAULT_ACCOUNT
    slug = re.sub(r"[^A-Za-z0-9._@+-]+", "-", identity.strip()).strip("-._@+")[:64]
    return slug if slug and _ACCOUNT.fullmatch(slug) else DEFAULT_ACCOUNT


_USER = Scope(None)
#: Scopes already built, by project id (they are immutable; a bounded number is kept).
_KNOWN: dict[str, Scope] = {}
_KNOWN_MAX = 4096
_UNSET = Switches()
