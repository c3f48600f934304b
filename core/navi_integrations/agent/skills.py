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

In a scope, the enabled skills are the framework's, and for each provider
whose skills are switched on: its setup skill (``connect-<id>``) while it is
not connected, its usage skill once it is. Disabled providers offer none.

:func:`install` never touches a user's files: see its docstring.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = [
    "Clash",
    "InstallReport",
    "Skill",
    "framework_skills_dir",
    "install",
    "read_skill",
    "select_skills",
    "skill_problems",
]

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_FIELDS = ("name", "description", "license", "compatibility", "allowed-tools", "metadata")
_MARKER = ".navi-integrations"  # in each folder install created: the files it wrote, hashed
_SKIP = {_MARKER, "__pycache__", ".DS_Store"}


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
    if not isinstance(name, str) or not 1 <= len(name) <= 64 or not _NAME.match(name):
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
    for provider_id, role, folder in offers:
        if role is not None and folder is not None:
            path = Path(folder)
            if (path / "SKILL.md").is_file():
                found.append(read_skill(path, provider=provider_id, role=role))
    return found


# --- installing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clash:
    """A skill folder :func:`install` left alone, and why (one line, saying what to do)."""

    name: str
    path: Path
    reason: str

    def to_document(self) -> dict[str, Any]:
        """JSON document."""
        return {"name": self.name, "path": str(self.path), "reason": self.reason}


@dataclass(frozen=True)
class InstallReport:
    """What :func:`install` did.

    ``installed``: skills written or refreshed; ``removed``: skills installed
    before and no longer enabled, whose files were deleted; ``kept``: for a
    removed skill whose folder also held the user's own files, those files
    (kept, with the folder); ``skipped``: clashes, where nothing was touched.
    """

    directory: Path
    installed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[Clash] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        """JSON document (``navi-int skills install --json``)."""
        return {
            "directory": str(self.directory),
            "installed": self.installed,
            "removed": self.removed,
            "kept": self.kept,
            "skipped": [c.to_document() for c in self.skipped],
        }


def install(skills: list[Skill], directory: Path) -> InstallReport:
    """Make ``directory`` hold exactly these skills among the folders this function created.

    Each folder it creates gets a marker file listing the files it wrote with
    their SHA-256. A folder without the marker is the user's: it is never
    replaced or deleted, and a wanted skill of the same name is reported as a
    clash and skipped. In a marked folder only the files it wrote are
    replaced or deleted: the user's other files stay (a stale skill's folder
    is then kept for them), and a file it wrote that the user has since
    changed (or a user file where a new version of the skill would write)
    makes it leave the whole folder alone and report it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    report = InstallReport(directory)
    wanted = {s.name: s for s in skills}
    for entry in sorted(directory.iterdir()):
        if entry.name not in wanted and _is_marked(entry):
            _remove_stale(entry, report)
    for skill in skills:
        target = directory / skill.name
        if not _NAME.match(skill.name):  # it names the folder: never a path of its own
            reason = f"'{skill.name}' is not a skill name (run skill_problems on {skill.path})"
            report.skipped.append(Clash(skill.name, target, reason))
        elif not os.path.lexists(target):
            _create(skill, target, report)
        elif not _is_marked(target):
            report.skipped.append(
                Clash(
                    skill.name,
                    target,
                    "a folder navi-int did not create is there; rename or remove it to install"
                    f" the {skill.name} skill",
                )
            )
        else:
            _refresh(skill, target, report)
    return report


def _is_marked(entry: Path) -> bool:
    """A real folder (not a link) holding our marker."""
    return entry.is_dir() and not entry.is_symlink() and (entry / _MARKER).is_file()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source_files(folder: Path) -> dict[str, Path]:
    """A skill's files by relative POSIX path (caches and any marker left out)."""
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not _SKIP.intersection(relative.parts):
            files[relative.as_posix()] = path
    return files


def _recorded(folder: Path) -> dict[str, str] | None:
    """The files our marker says we wrote (relative path to SHA-256), or None if unreadable.

    Paths that would leave the folder are refused: the marker lives in a
    folder others can write, and we delete what it lists.
    """
    try:
        data = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(files, dict):
        return None
    for relative, digest in files.items():
        parts = PurePosixPath(relative).parts
        if (
            not isinstance(digest, str)
            or not parts
            or PurePosixPath(relative).is_absolute()
            or ".." in parts
            or _MARKER in parts
        ):
            return None
    return {str(k): str(v) for k, v in files.items()}


def _changed(folder: Path, recorded: dict[str, str], new: dict[str, str]) -> list[str]:
    """Files we wrote that now hold something else than what we wrote or are about to write."""
    return [r for r, d in sorted(recorded.items()) if not _holds(folder, r, {d, new.get(r)})]


def _taken(folder: Path, recorded: dict[str, str], new: dict[str, str]) -> list[str]:
    """Paths a new version of the skill would write that hold something of the user's."""
    return [r for r in sorted(set(new) - set(recorded)) if not _holds(folder, r, {new[r]})]


def _holds(folder: Path, relative: str, digests: set[str | None]) -> bool:
    """Whether the path holds nothing, or a plain file with one of these contents."""
    path = folder / relative
    if _linked(folder, relative):
        return False
    if not os.path.lexists(path):
        return True
    return path.is_file() and _digest(path) in digests


def _linked(folder: Path, relative: str) -> bool:
    """Whether the path, or a folder on the way to it, is a symbolic link (the user's doing:
    writing or deleting through it would reach outside the skill's folder)."""
    path = folder
    for part in PurePosixPath(relative).parts:
        path = path / part
        if path.is_symlink():
            return True
    return False


def _write_marker(folder: Path, files: dict[str, str]) -> None:
    document = {"installedBy": "navi-int skills install", "files": files}
    _write_atomic(folder / _MARKER, (json.dumps(document, indent=2) + "\n").encode())


def _write_atomic(path: Path, data: bytes, mode_from: Path | None = None) -> None:
    """Write through a temporary file and a rename: a reader sees the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if mode_from is not None:
            shutil.copymode(mode_from, tmp)  # keep a shipped script executable
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _copy_files(source: dict[str, Path], folder: Path) -> dict[str, str]:
    written = {}
    for relative, path in source.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(target, path.read_bytes(), mode_from=path)
        written[relative] = _digest(target)
    return written


def _create(skill: Skill, target: Path, report: InstallReport) -> None:
    """A new folder, built aside and renamed into place so no half-written skill is seen."""
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        _write_marker(staging, _copy_files(_source_files(skill.path), staging))
        staging.chmod(0o755)  # mkdtemp makes it 0700; a skill folder is an ordinary folder
        os.rename(staging, target)
    except OSError:
        if not os.path.lexists(target):
            raise
        # Something else created the folder meanwhile: it is not ours.
        report.skipped.append(
            Clash(skill.name, target, "the folder appeared while installing; run install again")
        )
        return
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    report.installed.append(skill.name)


def _refresh(skill: Skill, target: Path, report: InstallReport) -> None:
    """Replace the files we wrote in a folder we created with the skill's current ones."""
    recorded = _recorded(target)
    if recorded is None:
        report.skipped.append(_unreadable_marker(skill.name, target))
        return
    source = _source_files(skill.path)
    new = {relative: _digest(path) for relative, path in source.items()}
    changed = _changed(target, recorded, new)
    taken = _taken(target, recorded, new)
    if changed or taken:
        what = ", ".join(changed + taken)
        report.skipped.append(
            Clash(
                skill.name,
                target,
                f"files changed or added by you ({what}) would be overwritten; move them out"
                f" or remove the folder to update the {skill.name} skill",
            )
        )
        return
    for relative in sorted(set(recorded) - set(new)):
        (target / relative).unlink(missing_ok=True)
        _prune_empty(target, (target / relative).parent)
    _write_marker(target, _copy_files(source, target))
    report.installed.append(skill.name)


def _remove_stale(folder: Path, report: InstallReport) -> None:
    """Delete the files we wrote for a skill no longer enabled; the folder goes if then empty."""
    recorded = _recorded(folder)
    if recorded is None:
        report.skipped.append(_unreadable_marker(folder.name, folder))
        return
    changed = _changed(folder, recorded, {})
    if changed:
        report.skipped.append(
            Clash(
                folder.name,
                folder,
                f"no longer enabled, but you changed {', '.join(changed)}; remove the folder"
                " yourself if you no longer want it",
            )
        )
        return
    for relative in recorded:
        (folder / relative).unlink(missing_ok=True)
        _prune_empty(folder, (folder / relative).parent)
    (folder / _MARKER).unlink()
    left = sorted(p.name for p in folder.iterdir())
    if left:
        report.kept[folder.name] = left
    else:
        folder.rmdir()
    report.removed.append(folder.name)


def _prune_empty(root: Path, folder: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``root`` while they are empty."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not there): the user's files stay
        folder = folder.parent


def _unreadable_marker(name: str, folder: Path) -> Clash:
    return Clash(
        name,
        folder,
        f"its {_MARKER} marker cannot be read (an older navi-int, or edited); remove the folder"
        " yourself and install again",
    )
