"""A skill folder as the Agent Skills specification defines it: reading and checking SKILL.md.

The frontmatter rules (its keys, their lengths, strict YAML) are described in
:mod:`navi_integrations.agent.skills`, which re-exports the public names here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SKILL_NAME", "Skill", "read_skill", "skill_problems"]

#: What a skill's name (and so its folder's) may be: a-z, 0-9 and single hyphens.
SKILL_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_FIELDS = ("name", "description", "license", "compatibility", "allowed-tools", "metadata")


@dataclass(frozen=True)
class Skill:
    """One skill folder and what its frontmatter says (``meta``: the frontmatter as read)."""

    name: str
    description: str
    path: Path
    provider: str | None = None
    role: str = "framework"  # "framework", "setup" or "usage"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> dict[str, str]:
        """The specification's ``metadata`` map (empty when absent)."""
        found = self.meta.get("metadata")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    @property
    def triggers(self) -> list[str]:
        """The PRD's trigger phrases (``metadata.triggers``, comma-separated)."""
        return [t.strip() for t in self.metadata.get("triggers", "").split(",") if t.strip()]

    @property
    def mcp(self) -> str | None:
        """The MCP server whose tools the skill uses (``metadata.mcp``), if any."""
        return self.metadata.get("mcp") or None

    @property
    def allowed_tools(self) -> list[str]:
        """The tools the skill may use without asking (``allowed-tools``, space-delimited)."""
        value = self.meta.get("allowed-tools")
        return value.split() if isinstance(value, str) else []

    def to_document(self) -> dict[str, Any]:
        """JSON document (``navi-int skills list --json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "provider": self.provider,
            "role": self.role,
            "allowedTools": self.allowed_tools,
            "triggers": self.triggers,
            "mcp": self.mcp,
        }


def _frontmatter(text: str) -> dict[str, Any]:
    """The frontmatter, split off and parsed the way the reference library does."""
    import strictyaml

    if not text.startswith("---"):
        raise ValueError("SKILL.md must start with a '---' frontmatter block")
    parts = text.split("---", 2)
    if len(parts) < 3:
        raise ValueError("the frontmatter block is not closed with '---'")
    try:
        data = strictyaml.load(parts[1]).data
    except strictyaml.YAMLError as exc:
        # The block starts right after the opening '---', so its line numbers are the file's.
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[-1]
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(f"frontmatter is not strict YAML: {where}{problem}") from None
    if not isinstance(data, dict):
        raise ValueError("the frontmatter must be a mapping of fields")
    return data


def read_skill(folder: Path, *, provider: str | None = None, role: str = "framework") -> Skill:
    """Read a skill folder (no validation beyond reading; see :func:`skill_problems`).

    Raises ``ValueError`` (naming the file) when the frontmatter cannot be read.
    """
    path = folder / "SKILL.md"
    try:
        meta = _frontmatter(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return _skill(folder, meta, provider, role)


def _skill(folder: Path, meta: dict[str, Any], provider: str | None, role: str) -> Skill:
    return Skill(
        str(meta.get("name", "")),
        str(meta.get("description", "")),
        folder,
        provider,
        role,
        meta,
    )


def skill_problems(folder: Path) -> list[str]:
    """What breaks the Agent Skills specification, or our use of it, in a skill folder.

    Empty when the skill follows them; each problem is one line starting with
    the folder's name.
    """
    path = folder / "SKILL.md"
    if not path.is_file():
        return [f"{folder.name}: no SKILL.md"]
    try:
        meta = _frontmatter(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{folder.name}: {exc}"]
    skill = _skill(folder, meta, None, "framework")
    problems = []
    unknown = sorted(set(meta) - set(_FIELDS))
    if unknown:
        problems.append(
            f"{folder.name}: fields the specification does not have: {', '.join(unknown)}"
            f" (allowed: {', '.join(_FIELDS)}; put others under metadata)"
        )
    name = meta.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not SKILL_NAME.match(name):
        problems.append(f"{folder.name}: name must be 1-64 of a-z, 0-9 and single hyphens")
    elif name != folder.name:
        problems.append(f"{folder.name}: name '{name}' must equal the folder name")
    description = meta.get("description")
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 1024:
        problems.append(f"{folder.name}: description must be 1-1024 characters")
    for key, limit in (("license", None), ("compatibility", 500), ("allowed-tools", None)):
        value = meta.get(key)
        if key in meta and (not isinstance(value, str) or not value.strip()):
            problems.append(f"{folder.name}: {key} must be a non-empty string")
        elif limit is not None and isinstance(value, str) and len(value) > limit:
            problems.append(f"{folder.name}: {key} must be at most {limit} characters")
    metadata = meta.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        problems.append(f"{folder.name}: metadata must map names to strings (no lists or maps)")
    elif isinstance(description, str):
        missing = [t for t in skill.triggers if t.lower() not in description.lower()]
        if missing:
            problems.append(
                f"{folder.name}: triggers missing from the description (agents match on it):"
                f" {', '.join(missing)}"
            )
    return problems
