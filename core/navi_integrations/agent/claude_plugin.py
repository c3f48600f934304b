"""A Claude Code plugin of what a scope enables, for a team to install with ``/plugin install``.

``navi-int export claude-plugin DIR`` (the service's ``claude_plugin``) writes
DIR as a plugin and as the marketplace that lists it (Claude Code's plugin
layout)::

    DIR/.claude-plugin/plugin.json       name, description, version
    DIR/.claude-plugin/marketplace.json  one plugin, source "./"
    DIR/.mcp.json                        the MCP servers
    DIR/skills/<name>/SKILL.md           the skills enabled in the scope

No secret is ever written: the plugin is meant to be committed and shared.
``.mcp.json`` holds either one server running ``navi-int gateway`` (the
default), or each provider's own server where remote servers get a
``headersHelper`` (``navi-int token NAME --headers``: fresh headers at each
connect) and a stdio server's secrets are ``${VAR}`` references its users set.
Commands are written as ``navi-int`` (``command``), not by this machine's
path, and without this machine's data dir: each teammate has their own.

The version is the framework's with a digest of what was written as build
metadata (``0.3.0+1a2b3c4d5e``): exporting the same integrations again gives
the same version, a change gives a new one, so Claude Code sees the update.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .mcp import McpSkipped
    from .skills import InstallReport, Skill

__all__ = ["PLUGIN_NAME", "ClaudePlugin", "write_plugin"]

#: Claude Code's plugin and marketplace names: kebab-case.
PLUGIN_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass
class ClaudePlugin:
    """What :func:`write_plugin` wrote."""

    directory: Path
    name: str
    marketplace: str
    version: str
    servers: list[str]
    skills: InstallReport
    #: ``${VAR}`` references in ``.mcp.json`` → the command printing each value.
    env: dict[str, str] = field(default_factory=dict)
    skipped: list[McpSkipped] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        """The JSON document ``export claude-plugin --json`` prints."""
        return {
            "directory": str(self.directory),
            "name": self.name,
            "marketplace": self.marketplace,
            "version": self.version,
            "servers": self.servers,
            "skills": self.skills.to_document(),
            "env": dict(sorted(self.env.items())),
            "skipped": [
                {"provider": s.provider, "reason": s.reason, "advice": s.advice}
                for s in self.skipped
            ],
            "install": [
                f"/plugin marketplace add {self.directory}",
                f"/plugin install {self.name}@{self.marketplace}",
            ],
        }


def write_plugin(
    directory: Path,
    *,
    name: str,
    marketplace: str,
    description: str,
    owner: str,
    framework_version: str,
    servers: dict[str, Any],
    skills: list[Skill],
) -> tuple[str, InstallReport]:
    """Write the plugin into ``directory``; returns its version and the skills' report.

    Only the four paths above are written (each file atomically); anything
    else in ``directory`` is left alone, and so are skill folders navi-int did
    not create (see :func:`~navi_integrations.agent.skills.install`).
    """
    from ..paths import write_atomic
    from .skills import install

    for label, value in (("plugin", name), ("marketplace", marketplace)):
        if not PLUGIN_NAME.match(value):
            raise ValueError(
                f"'{value}' is not a {label} name: lowercase letters, digits and single hyphens"
            )
    meta = directory / ".claude-plugin"
    meta.mkdir(parents=True, exist_ok=True)
    mcp_text = json.dumps({"mcpServers": servers}, indent=2, ensure_ascii=False) + "\n"
    report = install(skills, directory / "skills")
    digest = hashlib.sha256(mcp_text.encode())
    for skill in sorted(skills, key=lambda s: s.name):
        if skill.name in report.installed:
            digest.update(skill.name.encode() + b"\0")
            for path in sorted(p for p in skill.path.rglob("*") if p.is_file()):
                digest.update(path.read_bytes())
    version = f"{framework_version}+{digest.hexdigest()[:10]}"
    plugin = {
        "name": name,
        "description": description,
        "version": version,
        "author": {"name": owner},
    }
    listing = {
        "name": marketplace,
        "owner": {"name": owner},
        "plugins": [{"name": name, "source": "./", "description": description, "version": version}],
    }
    # Each atomically: Claude Code, loading the plugin, sees the old file or the new one.
    write_atomic(directory / ".mcp.json", mcp_text)
    write_atomic(meta / "plugin.json", json.dumps(plugin, indent=2, ensure_ascii=False) + "\n")
    write_atomic(
        meta / "marketplace.json", json.dumps(listing, indent=2, ensure_ascii=False) + "\n"
    )
    return version, report
