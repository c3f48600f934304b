"""Finding plugins without importing them: entry points, env switches, and a fingerprint.

Kept free of pydantic so that commands which can answer from the provider
cache (``navi-int plugins``, ``list``, ``show``) never build a model class.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..paths import custom_providers_dir

__all__ = ["ENTRY_POINT_GROUP", "Candidate", "discover", "env_list", "fingerprint"]

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

    def stamp(self) -> list[Any]:
        """What identifies the installed distribution without parsing its metadata."""
        path = getattr(self.entry_point.dist, "_path", None)  # the .dist-info folder
        if path is None:
            return [self.distribution, self.version]
        try:
            return [str(path), Path(path).stat().st_mtime_ns]
        except OSError:
            return [str(path), None]


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
    origin = Path(spec.origin)
    files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
    stamp: list[Any] = [top]
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        stamp.append([str(path), st.st_mtime_ns, st.st_size])
    return stamp


def fingerprint(environ: Mapping[str, str], candidates: list[Candidate]) -> str:
    """A digest of everything ``describe`` answers may depend on.

    The allowed entry points with their distributions, versions and source
    file stamps; the core's own sources; the switches; and each user-defined
    provider file. Two processes with the same fingerprint see the same
    providers, so the second can answer from the cache.
    """
    parts: list[Any] = [
        sorted(blocked(environ)),
        sorted(env_list("NAVI_INTEGRATIONS_PLUGINS", environ) or ["*"]),
        _source_stamp("navi_integrations"),
    ]
    for c in candidates:
        parts.append([c.name, c.value, c.stamp(), _source_stamp(c.module)])
    folder = custom_providers_dir()
    try:
        entries = sorted(folder.glob("*.toml"))
    except OSError:
        entries = []
    for path in entries:
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append([str(path), st.st_mtime_ns, st.st_size])
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def cache_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``NAVI_INTEGRATIONS_NO_CACHE`` asks to skip the provider cache."""
    env = os.environ if environ is None else environ
    return env.get("NAVI_INTEGRATIONS_NO_CACHE", "") not in ("", "0")
