"""`mcp-config --output` merges into the user's config; `--env-refs` hints are safe to source."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from navi_integrations import IntegrationService
from navi_integrations.agent.mcp import env_ref_server

from .cli_helpers import navi

LINEAR_KEY = "lin_api_" + "Merge0Output" * 4
SLACK = {"botToken": "xoxb-111-222-MergeSlackT0ken", "teamId": "T0123ABCD"}


@pytest.fixture
def connected(navi_service: IntegrationService) -> IntegrationService:
    navi_service.connect("linear", {"apiKey": LINEAR_KEY})
    navi_service.connect("slack", SLACK)
    return navi_service


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def test_claude_desktop_config_keeps_its_settings_and_servers(
    connected: IntegrationService, tmp_path: Path
) -> None:
    target = tmp_path / "claude_desktop_config.json"
    user = {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {
            "filesystem": {"command": "npx", "args": ["-y", "fs-server", "/home/me"]},
            "linear": {"command": "old-linear", "args": []},  # ours from an earlier run
        },
        "preferences": {"theme": "dark", "locale": "fr-FR é"},
    }
    _write(target, json.dumps(user, indent=4))
    out = navi("mcp-config", "--format", "claude-desktop", "--output", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == f"Wrote 2 MCP server(s) to {target}, kept its 1 other server(s)."
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["globalShortcut"] == "Ctrl+Space"
    assert written["preferences"] == user["preferences"]
    servers = written["mcpServers"]
    assert list(servers) == ["filesystem", "linear", "slack"]
    assert servers["filesystem"] == user["mcpServers"]["filesystem"]
    assert servers["linear"]["command"] == "npx"  # replaced by ours
    assert servers["slack"]["env"]["SLACK_BOT_TOKEN"] == SLACK["botToken"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it holds secrets now
    before = target.read_text()
    assert navi("mcp-config", "--format", "claude-desktop", "--output", str(target)).returncode == 0
    assert target.read_text() == before  # a second run changes nothing


def test_mcp_json_and_agent_sdk_keep_other_servers(
    connected: IntegrationService, tmp_path: Path
) -> None:
    project = tmp_path / ".mcp.json"
    _write(project, json.dumps({"mcpServers": {"db": {"type": "stdio", "command": "pg-mcp"}}}))
    out = navi("mcp-config", "--format", "claude-code", "--output", str(project), "--env-refs")
    assert out.returncode == 0, out.stderr
    servers = json.loads(project.read_text())["mcpServers"]
    assert servers["db"] == {"type": "stdio", "command": "pg-mcp"}
    assert servers["linear"]["headers"] == {"Authorization": "Bearer ${LINEAR_API_KEY}"}

    sdk = tmp_path / "servers.json"
    _write(sdk, json.dumps({"mine": {"type": "http", "url": "https://example.test/mcp"}}))
    assert navi("mcp-config", "--output", str(sdk)).returncode == 0
    assert set(json.loads(sdk.read_text())) == {"mine", "linear", "slack"}

    fresh = tmp_path / "new" / "empty.json"
    fresh.parent.mkdir()
    _write(fresh, "\n")  # an empty file has nothing to keep
    assert navi("mcp-config", "--output", str(fresh)).returncode == 0
    assert set(json.loads(fresh.read_text())) == {"linear", "slack"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"mcpServers": {"db": {}},}', "is not valid JSON (line 1, column 27)"),
        ('[{"db": {}}]', "holds a JSON list, not an object"),
        ('{"mcpServers": ["db"]}', '"mcpServers" is not an object'),
    ],
)
def test_a_file_we_cannot_merge_into_is_left_alone_unless_forced(
    connected: IntegrationService, tmp_path: Path, content: str, problem: str
) -> None:
    target = tmp_path / "agent" / "config.json"
    target.parent.mkdir()
    _write(target, content)
    out = navi("mcp-config", "--format", "claude-code", "--output", str(target))
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"Error: {target} {problem}; nothing written. Fix it, or pass --force to replace it"
    )
    assert target.read_text() == content and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind
    forced = navi("mcp-config", "--format", "claude-code", "--output", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert set(json.loads(target.read_text())["mcpServers"]) == {"linear", "slack"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_symlinked_config_stays_a_symlink(connected: IntegrationService, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    _write(real, json.dumps({"mcpServers": {"db": {"command": "pg-mcp"}}}))
    link = tmp_path / ".mcp.json"
    link.symlink_to(real)
    out = navi("mcp-config", "--format", "claude-code", "--output", str(link), "--env-refs")
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and link.resolve() == real
    assert set(json.loads(real.read_text())["mcpServers"]) == {"db", "linear", "slack"}


def _source(hint: str, then: str) -> subprocess.CompletedProcess[str]:
    """Run a printed ``export`` line in sh, as a user sourcing it would, navi-int on PATH."""
    bin_dir = str(Path(sys.executable).parent)  # where navi-int is installed
    return subprocess.run(
        ["sh", "-c", f"{hint}\n{then}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]},
        timeout=60,
    )


def test_env_ref_hints_source_to_the_projects_token(navi_service: IntegrationService) -> None:
    project = "team/a+b@host:1.x"  # every kind of character a project id may hold
    navi_service.connect("linear", {"apiKey": LINEAR_KEY}, project_id=project)
    out = navi("mcp-config", "--format", "claude-code", "--project", project, "--env-refs")
    assert out.returncode == 0, out.stderr
    [hint] = [line for line in out.stderr.splitlines() if line.startswith("export ")]
    sourced = _source(hint, 'printf %s "$LINEAR_API_KEY"')
    assert (sourced.returncode, sourced.stdout) == (0, LINEAR_KEY), sourced.stderr


@pytest.mark.parametrize("template", ["a;b$(touch {m})", "a b`touch {m}`'\"$HOME\\"])
def test_env_ref_hints_run_nothing_but_navi_int_whatever_the_project_id(
    navi_registry: Any, tmp_path: Path, template: str
) -> None:
    # The CLI refuses such ids; a host app may hand any text to the config builder.
    marker = tmp_path / "pwned"
    project = template.format(m=marker)
    env: dict[str, str] = {}
    env_ref_server(navi_registry.get("linear"), project, env)
    hint = f'export LINEAR_API_KEY="$({env["LINEAR_API_KEY"]})"'
    sourced = _source(hint, "true")
    assert not marker.exists()  # nothing but navi-int ran
    # ... and navi-int got the whole id as one argument (it says how long, not what).
    assert f"invalid project id ({len(project)} characters):" in sourced.stderr
