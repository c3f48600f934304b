"""A skill folder as the Agent Skills specification defines it: reading and checking SKILL.md.

The frontmatter rules (its keys, their lengths, strict YAML) are described in
:mod:`navi_integrations.agent.skills`, which re-exports the public names here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PRD_KEYS",
    "SKILL_NAME",
    "Skill",
    "exported_skill_md",
    "read_skill",
    "skill_problems",
    "skill_warnings",
]

#: What a skill's name (and so its folder's) may be: a-z, 0-9 and single hyphens.
SKILL_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_FIELDS = ("name", "description", "license", "compatibility", "allowed-tools", "metadata")
#: The PRD's frontmatter keys, which the specification does not have: each is read as
#: ``metadata.<key>`` (a warning says to move it there) and exported there.
PRD_KEYS = ("tools", "triggers", "mcp")
#: How a PRD key's list becomes the specification's string value.
_JOIN = {"triggers": ", ", "tools": " ", "mcp": " "}


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


def _moved_prd_keys(meta: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The frontmatter with the PRD's top-level keys moved under ``metadata``, and those keys.

    A list becomes one string (triggers comma-separated, tools space-separated),
    an empty value is dropped, and a key already under ``metadata`` wins. The
    PRD put triggers beside the description, but agents match on the
    description alone: moved triggers it does not mention are appended to it
    ("Use when asked to: …"), while it stays within the specification's 1024
    characters.
    """
    moved = [key for key in PRD_KEYS if key in meta]
    if not moved:
        return meta, []
    found = meta.get("metadata")
    metadata = dict(found) if isinstance(found, dict) else {}
    for key in moved:
        value = meta[key]
        text = _JOIN[key].join(map(str, value)) if isinstance(value, list) else str(value)
        if text.strip() and key not in metadata:
            metadata[key] = text.strip()
    normal = {k: v for k, v in meta.items() if k not in PRD_KEYS}
    if metadata or "metadata" in meta:
        normal["metadata"] = metadata
    description = normal.get("description")
    if "triggers" in moved and isinstance(description, str):
        triggers = [t.strip() for t in str(metadata.get("triggers", "")).split(",")]
        unsaid = [t for t in triggers if t and t.lower() not in description.lower()]
        longer = f"{description.rstrip()} Use when asked to: {', '.join(unsaid)}."
        if unsaid and len(longer) <= 1024:
            normal["description"] = longer
    return normal, moved


#: A PRD key written as a YAML flow list (``tools: []``, ``triggers: [a, b]``), which
#: strict YAML refuses: read as the block list it means.
_FLOW_LIST = re.compile(rf"^({'|'.join(PRD_KEYS)}):[ \t]*\[([^\]\n]*)\][ \t]*(#.*)?$", re.MULTILINE)


def _block_list(match: re.Match[str]) -> str:
    items = [i.strip().strip("\"'") for i in match.group(2).split(",") if i.strip()]
    if not items:
        return ""  # an empty list says nothing: dropped
    return match.group(1) + ":" + "".join(f"\n  - {item}" for item in items)


def _read(path: Path) -> tuple[str, dict[str, Any], list[str]]:
    """SKILL.md's text, its frontmatter as the specification has it, and the PRD keys moved."""
    text = path.read_text(encoding="utf-8")
    parts = text.split("---", 2)
    if len(parts) == 3 and _FLOW_LIST.search(parts[1]):
        text = "---".join([parts[0], _FLOW_LIST.sub(_block_list, parts[1]), parts[2]])
    meta, moved = _moved_prd_keys(_frontmatter(text))
    return text, meta, moved


def exported_skill_md(path: Path) -> bytes:
    """SKILL.md as it is exported: as shipped, or with the PRD's keys moved under
    ``metadata`` (so the exported skill passes ``agentskills validate``)."""
    text, meta, moved = _read(path)
    if not moved:
        return text.encode("utf-8")
    import strictyaml

    body = text.split("---", 2)[2]
    return f"---\n{strictyaml.as_document(meta).as_yaml()}---{body}".encode()


def read_skill(folder: Path, *, provider: str | None = None, role: str = "framework") -> Skill:
    """Read a skill folder (no validation beyond reading; see :func:`skill_problems`).

    Raises ``ValueError`` (naming the file) when the frontmatter cannot be read.
    """
    path = folder / "SKILL.md"
    try:
        _text, meta, _moved = _read(path)
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
    the folder's name. The PRD's keys (:data:`PRD_KEYS`) are not problems but
    :func:`skill_warnings`: they are read, and exported, under ``metadata``.
    """
    path = folder / "SKILL.md"
    if not path.is_file():
        return [f"{folder.name}: no SKILL.md"]
    try:
        _text, meta, _moved = _read(path)
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


def skill_warnings(folder: Path) -> list[str]:
    """What a skill folder should change though it works: each line names the fix.

    Today, the PRD's frontmatter keys (``tools``, ``triggers``, ``mcp``) at the
    top level, which the Agent Skills specification does not have: they are
    read as ``metadata.<key>`` and exported there, and should be written there.
    Empty for an unreadable skill (:func:`skill_problems` says why).
    """
    try:
        _text, meta, moved = _read(folder / "SKILL.md")
    except (OSError, ValueError):
        return []
    metadata = meta.get("metadata", {})
    return [
        f"{folder.name}: '{key}' is a PRD key the Agent Skills specification does not have;"
        f" it is read and exported as metadata.{key}. Fix: move it under metadata as"
        f" {key}: {metadata.get(key, '')!r}"
        + (" and say the triggers in the description (agents match on it)" * (key == "triggers"))
        for key in moved
    ]
