"""Agent Skills: the framework's own and each provider's, and which are enabled in a scope.

A skill is a folder holding ``SKILL.md`` whose YAML frontmatter has a
``name`` (1-64 characters of a-z, 0-9 and single hyphens, equal to the
folder name) and a ``description`` (1-1024 characters saying what it does
and when to use it), plus the PRD's optional ``triggers`` and ``mcp``.

In a scope, the enabled skills are the framework's, and for each provider
whose skills are switched on: its setup skill (``connect-<id>``) while it is
not connected, its usage skill once it is. Disabled providers offer none.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Skill",
    "framework_skills_dir",
    "install",
    "read_skill",
    "select_skills",
    "skill_problems",
]

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_MARKER = ".navi-integrations"


@dataclass(frozen=True)
class Skill:
    """One skill folder and what its frontmatter says."""

    name: str
    description: str
    path: Path
    provider: str | None = None
    role: str = "framework"  # "framework", "setup" or "usage"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """JSON document."""
        return {
            "name": self.name,
            "description": self.description,
            "provider": self.provider,
            "role": self.role,
            "triggers": self.meta.get("triggers", []),
            "mcp": self.meta.get("mcp"),
        }


def _frontmatter(text: str) -> dict[str, Any]:
    """The YAML subset skills use: ``key: value``, ``key: []`` and ``- item`` lists."""
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    if not match:
        raise ValueError("SKILL.md must start with a '---' frontmatter block")
    data: dict[str, Any] = {}
    current: str | None = None
    for line in match.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = re.match(r"^\s+-\s+(.*)$", line)
        if item and current is not None:
            data.setdefault(current, [])
            data[current].append(item.group(1).strip().strip("\"'"))
            continue
        pair = re.match(r"^([A-Za-z_][\w-]*):\s*(.*)$", line)
        if not pair:
            raise ValueError(f"cannot read frontmatter line: {line.strip()!r}")
        key, value = pair.group(1), pair.group(2).split(" #")[0].strip()
        current = key
        if value in ("", "|", ">"):
            data[key] = [] if value == "" else ""
        elif value == "[]":
            data[key] = []
        elif value == "null":
            data[key] = None
        else:
            data[key] = value.strip("\"'")
    return data


def read_skill(folder: Path, *, provider: str | None = None, role: str = "framework") -> Skill:
    """Read a skill folder (no validation beyond reading; see :func:`skill_problems`)."""
    meta = _frontmatter((folder / "SKILL.md").read_text(encoding="utf-8"))
    return Skill(
        str(meta.get("name", "")),
        str(meta.get("description", "")),
        folder,
        provider,
        role,
        meta,
    )


def skill_problems(folder: Path) -> list[str]:
    """What breaks the Agent Skills rules in a skill folder (empty when it follows them)."""
    path = folder / "SKILL.md"
    if not path.is_file():
        return [f"{folder.name}: no SKILL.md"]
    try:
        meta = _frontmatter(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{folder.name}: {exc}"]
    problems = []
    name = meta.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not _NAME.match(name):
        problems.append(f"{folder.name}: name must be 1-64 of a-z, 0-9 and single hyphens")
    elif name != folder.name:
        problems.append(f"{folder.name}: name '{name}' must equal the folder name")
    description = meta.get("description")
    if not isinstance(description, str) or not 1 <= len(description) <= 1024:
        problems.append(f"{folder.name}: description must be 1-1024 characters")
    triggers = meta.get("triggers", [])
    if not isinstance(triggers, list) or not all(isinstance(t, str) and t for t in triggers):
        problems.append(f"{folder.name}: triggers must be a list of phrases")
    return problems


def framework_skills_dir() -> Path:
    """The framework's own skills: in the installed package, or the checkout's ``skills/``."""
    package = Path(__file__).parent
    shipped = package / "skills"
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
    for provider_id, role, folder in offers:
        if role is not None and folder is not None:
            path = Path(folder)
            if (path / "SKILL.md").is_file():
                found.append(read_skill(path, provider=provider_id, role=role))
    return found


def install(skills: list[Skill], directory: Path) -> list[str]:
    """Copy the skills into ``directory``; skills we installed before and that are no
    longer enabled are removed (folders we did not install are left alone)."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {s.name for s in skills}
    for old in directory.iterdir():
        if (old / _MARKER).exists() and old.name not in wanted:
            shutil.rmtree(old)
    for skill in skills:
        target = directory / skill.name
        if target.exists() and (target / _MARKER).exists():
            shutil.rmtree(target)
        shutil.copytree(skill.path, target, dirs_exist_ok=True)
        (target / _MARKER).write_text("installed by navi-int skills install\n")
    return sorted(wanted)
