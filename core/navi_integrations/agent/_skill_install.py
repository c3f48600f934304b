"""Installing skills into an agent's skills folder without ever touching the user's files.

See :func:`install`; :mod:`navi_integrations.agent.skills` re-exports its names.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ._skill_spec import SKILL_NAME, Skill, exported_skill_md

__all__ = ["Clash", "InstallReport", "install"]

_MARKER = ".navi-integrations"  # in each folder install created: the files it wrote, hashed
_SKIP = {_MARKER, "__pycache__", ".DS_Store"}


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
        if not SKILL_NAME.match(skill.name):  # it names the folder: never a path of its own
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


def _exported(relative: str, path: Path) -> bytes:
    """What is written for a skill's file: SKILL.md as exported (the PRD's keys under
    ``metadata``), any other file as shipped."""
    return exported_skill_md(path) if relative == "SKILL.md" else path.read_bytes()


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
        _write_atomic(target, _exported(relative, path), mode_from=path)
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
    new = {
        relative: hashlib.sha256(_exported(relative, path)).hexdigest()
        for relative, path in source.items()
    }
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
