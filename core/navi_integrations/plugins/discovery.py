"""Finding plugins without importing them: entry points, env switches, and a fingerprint.

Kept free of pydantic so that commands which can answer from the provider
cache (``navi-int plugins``, ``list``, ``show``) never build a model class.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ..paths import custom_providers_dir

__all__ = [
    "ENTRY_POINT_GROUP",
    "Candidate",
    "discover",
    "env_list",
    "fingerprint",
    "path_stamp",
    "saved_candidates",
]

ENTRY_POINT_GROUP = "navi_integrations"
CORE_DISTRIBUTION = "navi-integrations"

# Built-in plugins, registered through the same manager as external ones.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("custom-providers", "navi_integrations.plugins.custom_providers"),
    ("http-health", "navi_integrations.health.http_health"),
    ("oauth-refresh", "navi_integrations.auth.oauth_refresh"),
    ("mcp-defaults", "navi_integrations.agent.mcp_defaults"),
)


class Candidate:
    """An entry point that is allowed to load, with its distribution (read lazily).

    Reading a distribution's name and version parses its METADATA file; the
    cache check below avoids that, so these are properties, computed once.
    """

    def __init__(self, entry_point: Any) -> None:
        self.entry_point = entry_point
        self.name: str = entry_point.name
        self.value: str = entry_point.value
        self._dist: tuple[str, str] | None = None

    def _read_dist(self) -> tuple[str, str]:
        if self._dist is None:
            dist = self.entry_point.dist
            self._dist = (dist.name, dist.version) if dist is not None else ("<unknown>", "?")
        return self._dist

    @property
    def distribution(self) -> str:
        """The distribution's name, e.g. ``navi-linear``."""
        return self._read_dist()[0]

    @property
    def version(self) -> str:
        """The distribution's version."""
        return self._read_dist()[1]

    @property
    def module(self) -> str:
        """The module the entry point names."""
        return str(self.value.split(":")[0].strip())

    @property
    def dist_path(self) -> str | None:
        """The distribution's ``.dist-info`` folder, when it has one."""
        path = getattr(self.entry_point.dist, "_path", None)
        return None if path is None else str(path)

    def stamp(self) -> list[Any]:
        """What identifies the installed distribution without parsing its metadata."""
        path = self.dist_path
        if path is None:
            return [self.distribution, self.version]
        try:
            return [path, os.stat(path).st_mtime_ns]
        except OSError:
            return [path, None]

    def to_saved(self) -> list[str] | None:
        """``[name, value, dist-info folder]`` for :func:`saved_candidates` (None: no folder)."""
        path = self.dist_path
        return None if path is None else [self.name, self.value, path]


class _SavedCandidate(Candidate):
    """A candidate remembered by the catalog cache: enough to recompute its fingerprint part."""

    def __init__(self, name: str, value: str, dist_path: str) -> None:
        self.name = name
        self.value = value
        self._dist_path = dist_path

    @property
    def dist_path(self) -> str | None:
        return self._dist_path


def saved_candidates(saved: Sequence[Sequence[str]]) -> list[Candidate]:
    """Candidates from their :meth:`Candidate.to_saved` forms, without reading entry points."""
    return [_SavedCandidate(str(name), str(value), str(path)) for name, value, path in saved]


def path_stamp(empty: Mapping[str, int] | None = None) -> tuple[list[Any], dict[str, int]]:
    """The ``sys.path`` entries that hold distributions, each with its modification time.

    Installing, upgrading or removing a distribution adds, renames or removes
    a ``.dist-info`` folder in one of these directories, which changes its
    time; so while this stamp holds, :func:`discover` would find the same
    entry points, and the catalog cache can skip it (reading every installed
    distribution's entry points is most of the cost of a cache check).
    Entries holding no distribution (the script's folder, the working
    directory of ``python -m``) are left out, so that the stamp does not
    depend on where the command runs from.

    ``empty`` maps folders found to hold no distribution to their time then:
    while that time holds they are not listed again. Returns the stamp and
    that map for the next call.
    """
    stamp: list[Any] = []
    none: dict[str, int] = {}
    known = empty or {}
    for entry in sys.path:
        folder = os.path.abspath(entry or ".")
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            continue  # missing or unreadable: it holds nothing discover could read
        if known.get(folder) == mtime:
            none[folder] = mtime
            continue
        try:
            holds = any(n.endswith((".dist-info", ".egg-info")) for n in os.listdir(folder))
        except NotADirectoryError:
            holds = True  # a zip or egg file: its time says whether it changed
        except OSError:
            continue
        if holds:
            stamp.append([folder, mtime])
        else:
            none[folder] = mtime
    return stamp, none


def env_list(name: str, environ: Mapping[str, str]) -> set[str] | None:
    """A comma-separated env var as a set of names; ``None`` when unset."""
    raw = environ.get(name)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def blocked(environ: Mapping[str, str]) -> set[str]:
    """Plugin names listed in ``NAVI_INTEGRATIONS_BLOCK_PLUGINS``."""
    return env_list("NAVI_INTEGRATIONS_BLOCK_PLUGINS", environ) or set()


def discover(environ: Mapping[str, str]) -> list[Candidate]:
    """Entry points of the group that the allow/block switches let through (not imported)."""
    import importlib_metadata

    block = blocked(environ)
    allowed = env_list("NAVI_INTEGRATIONS_PLUGINS", environ)
    found: list[Candidate] = []
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        candidate = Candidate(ep)
        if block or allowed is not None:  # names may be distribution names: read them
            names = {candidate.name, candidate.distribution}
            if names & block or (allowed is not None and not names & allowed):
                continue
        found.append(candidate)
    return found


def _source_stamp(module: str) -> list[Any]:
    """Modification times of a module's source files, found without importing it."""
    top = module.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return [top, None]
    if spec is None or spec.origin is None:
        return [top, None]
    files = [spec.origin]
    if os.path.basename(spec.origin) == "__init__.py":
        files = []
        # os.walk rather than Path.rglob: this runs on every cache check (token, run).
        for folder, subfolders, names in os.walk(os.path.dirname(spec.origin)):
            subfolders[:] = [d for d in subfolders if d != "__pycache__"]
            files.extend(os.path.join(folder, n) for n in names if n.endswith(".py"))
    stamp: list[Any] = [top]
    for path in sorted(files):
        try:
            st = os.stat(path)
        except OSError:
            continue
        stamp.append([path, st.st_mtime_ns, st.st_size])
    return stamp


def fingerprint(environ: Mapping[str, str], candidates: list[Candidate]) -> str:
    """Everything ``describe`` answers may depend on, as one text.

    The allowed entry points with their distributions, versions and source
    file stamps; the core's own sources; the switches; and each user-defined
    provider file. Two processes with the same fingerprint see the same
    providers, so the second can answer from the cache. The text is compared
    whole rather than digested: exact, and one import less on every check
    (``token`` and ``run`` pay for each in agents' loops).
    """
    parts: list[Any] = [
        sorted(blocked(environ)),
        sorted(env_list("NAVI_INTEGRATIONS_PLUGINS", environ) or ["*"]),
        _source_stamp("navi_integrations"),
    ]
    for c in candidates:
        parts.append([c.name, c.value, c.stamp(), _source_stamp(c.module)])
    folder = str(custom_providers_dir())
    try:  # os.listdir, not Path.glob: no pattern to compile on every check
        entries = sorted(n for n in os.listdir(folder) if n.endswith(".toml"))
    except OSError:
        entries = []
    for name in entries:
        path = os.path.join(folder, name)
        try:
            st = os.stat(path)
        except OSError:
            continue
        parts.append([path, st.st_mtime_ns, st.st_size])
    return json.dumps(parts, sort_keys=True, default=str)


def cache_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``NAVI_INTEGRATIONS_NO_CACHE`` asks to skip the provider cache."""
    env = os.environ if environ is None else environ
    return env.get("NAVI_INTEGRATIONS_NO_CACHE", "") not in ("", "0")
