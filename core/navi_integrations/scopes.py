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

from dataclasses import dataclass
from typing import Literal

__all__ = ["CredentialScope", "Effective", "Switches", "resolve"]

CredentialScope = Literal["user", "project"]


@dataclass(frozen=True)
class Switches:
    """Switch values stored for one scope; ``None`` = unset (inherit)."""

    enabled: bool | None = None
    mcp_enabled: bool | None = None
    skill_enabled: bool | None = None


@dataclass(frozen=True)
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

    def pick(name: str) -> bool:
        for layer in (project_switches, global_switches, defaults):
            if layer is not None and getattr(layer, name) is not None:
                return bool(getattr(layer, name))
        raise ValueError(f"defaults must set {name}")

    scope: CredentialScope | None = None
    if project_credentials:
        scope = "project"
    elif user_credentials:
        scope = "user"
    return Effective(pick("enabled"), pick("mcp_enabled"), pick("skill_enabled"), scope)
