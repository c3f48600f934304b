"""Agent Skills: the framework's and each provider's, which are enabled in a scope, installing them.

A skill is a folder holding ``SKILL.md`` whose frontmatter follows the Agent
Skills specification (agentskills.io): ``name`` (1-64 characters of a-z, 0-9
and single hyphens, equal to the folder name), ``description`` (1-1024
characters: what it does and when to use it), and optionally ``license``,
``compatibility`` (up to 500 characters), ``allowed-tools`` (space-delimited)
and ``metadata`` (a map of strings to strings). No other key is allowed. The
frontmatter is read with strictyaml, the parser of the specification's
reference library (``skills-ref``, whose ``agentskills validate`` CI runs on
every shipped skill), so a skill reads here exactly when it reads there: no
flow style (``[]``, ``{}``), anchors or duplicate keys.

The PRD's own fields map onto the specification: its ``tools`` is
``allowed-tools``; its ``triggers`` are phrases written into the description
(what agents match on) and listed, comma-separated, in ``metadata.triggers``
(every one must appear in the description); its ``mcp`` is ``metadata.mcp``.

A skill written with the PRD's keys at the top level (``tools``,
``triggers``, ``mcp``, even as ``tools: []``) still works, with a
:class:`~navi_integrations.errors.SkillWarning` from the conformance check
(:func:`skill_warnings`) naming the fix: each is read as ``metadata.<key>``,
moved triggers the description does not say are appended to it, and on export
(:func:`install`, :func:`exported_skill_md`) SKILL.md is written that way, so
it passes ``agentskills validate``. A top-level ``tools`` goes to
``metadata.tools``, not ``allowed-tools``: pre-approving tools is a permission
the author must grant in so many words.

In a scope, the enabled skills are the framework's, and for each provider
whose skills are switched on: its setup skill (``connect-<id>``) while it is
not connected, its usage skill once it is, and the setup skill beside it again
while the connection's health is ``failed`` (a revoked key, a grant to
authorize again), until a connect or test heals it. Disabled providers offer
none.

:func:`install` never touches a user's files: see its docstring.

Reading and checking a skill folder live in :mod:`._skill_spec`, installing in
:mod:`._skill_install`; this module chooses the skills a scope offers and
re-exports the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ._skill_install import Clash, InstallReport, install
from ._skill_spec import (
    PRD_KEYS,
    Skill,
    exported_skill_md,
    read_skill,
    skill_problems,
    skill_warnings,
)

__all__ = [
    "PRD_KEYS",
    "Clash",
    "InstallReport",
    "Skill",
    "exported_skill_md",
    "framework_skills_dir",
    "install",
    "read_skill",
    "select_skills",
    "skill_problems",
    "skill_warnings",
]


def framework_skills_dir() -> Path:
    """The framework's own skills: in the installed package, or the checkout's ``skills/``."""
    package = Path(__file__).parents[1]  # navi_integrations/ (this module is in agent/)
    shipped = package / "skills"  # the wheel force-includes the checkout's skills/ here
    if shipped.is_dir():
        return shipped
    return package.parents[1] / "skills"  # a source checkout (editable install)


def skills_dir(module_name: str) -> Path | None:
    """The ``skills`` folder shipped inside a plugin package, if any."""
    import importlib.resources

    try:
        root = importlib.resources.files(module_name)
    except (ModuleNotFoundError, TypeError):
        return None
    candidate = Path(str(root)) / "skills"
    return candidate if candidate.is_dir() else None


def select_skills(
    offers: Iterable[tuple[str, str | None, str | None]],
) -> list[Skill]:
    """The skills to offer agents (see the module docstring).

    ``offers`` gives, for each provider whose skills are on in the scope:
    (provider id, the role to offer — ``"setup"`` or ``"usage"`` — and the
    folder holding that skill, or None when the plugin ships none).
    """
    found: list[Skill] = []
    root = framework_skills_dir()
    if root.is_dir():
        found += [read_skill(d) for d in sorted(root.iterdir()) if (d / "SKILL.md").is_file()]
    seen: set[Path] = set()
    for provider_id, role, folder in offers:
        if role is not None and folder is not None:
            path = Path(folder)
            # Two providers of one plugin may share a skill (Linear's key and its OAuth).
            if path not in seen and (path / "SKILL.md").is_file():
                seen.add(path)
                found.append(read_skill(path, provider=provider_id, role=role))
    return found
