"""Setup that works when an agent runs it, and the Claude Code plugin export.

Each setup skill's sign-in command is run by bash exactly as the skill writes it, with stdin
that is not a terminal (an agent's), against the loopback servers: the hosted MCP server of
tests/mcp_auth_server.py for Linear's and Notion's OAuth providers, the OAuth server of
tests/oauth_server for Google. The exported plugin is installed into a real Claude Code
(tests/claude_code) which connects to its servers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from navi_integrations import IntegrationService

from .cli_helpers import navi
from .mcp_auth_harness import Hosted, browse
from .oauth_harness import OAuthServer

REPO = Path(__file__).parents[1]
CLAUDE = REPO / "tests" / "claude_code" / "node_modules" / ".bin" / "claude"
LINEAR_KEY = "lin_api_" + "Exp0rtTest" * 4
NOTION = "ntn_" + "Exp0rtN0ti0n" * 3


def skill_commands(skill: str, needle: str) -> list[str]:
    """The ``navi-int`` lines of a shipped skill's bash blocks that contain ``needle``."""
    [path] = REPO.glob(f"plugins/navi-*/navi_*/skills/{skill}/SKILL.md")
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(), re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if "navi-int" in line and needle in line
    ]


def as_an_agent(
    command: str, env: dict[str, str] | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Run ``command`` through bash with a pipe for stdin that nobody writes to (a prompt
    would wait forever), relaying each sign-in URL to the "user"'s browser."""
    bin_dir = str(Path(sys.executable).parent)
    full = {**os.environ, **(env or {}), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(
        ["bash", "-c", command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full,
    )
    assert process.stdout is not None and process.stdin is not None
    events = []
    try:
        for line in process.stdout:
            event = json.loads(line)  # one JSON event per line, nothing else
            events.append(event)
            if event["event"] == "url":
                browse(event["url"])
        process.wait(timeout=60)
    finally:
        process.kill()
        process.stdin.close()
    return process.returncode, events


@pytest.mark.parametrize(
    ("skill", "provider"), [("connect-linear", "linear-mcp"), ("connect-notion", "notion-mcp")]
)
def test_the_oauth_command_of_a_setup_skill_signs_in_to_the_hosted_server(
    skill: str, provider: str, hosted: Hosted, navi_home: Path
) -> None:
    [command] = skill_commands(skill, f"connect {provider}")
    override = f"NAVI_{provider.upper().replace('-', '_')}_MCP_URL"
    code, events = as_an_agent(command, {override: hosted.mcp})
    assert code == 0, events
    assert [e["event"] for e in events] == ["url", "waiting", "connected"]
    assert events[-1]["tools"] == ["echo", "whoami"]
    config = json.loads(
        navi("mcp-config", "--format", "claude-code", env={override: hosted.mcp}).stdout
    )
    assert config["mcpServers"][provider]["url"] == hosted.mcp


def test_googles_setup_command_relays_the_url_and_connects(
    oauth_server: OAuthServer, navi_home: Path
) -> None:
    [command] = skill_commands("connect-google", "--stdin")
    client, secret = "123456789012-sk1lls.apps.googleusercontent.com", "GOCSPX-" + "Sk1lls" * 4
    command = command.replace("'<id>'", f"'{client}'").replace("'<secret>'", f"'{secret}'")
    code, events = as_an_agent(command)
    assert code == 0, events
    assert [e["event"] for e in events] == ["url", "waiting", "connected"]
    assert IntegrationService().effective("google").connected


def test_githubs_setup_command_asks_nothing(navi_home: Path) -> None:
    [command] = skill_commands("connect-github", "connect github")
    code, _ = as_an_agent(f"{command} --no-test --json")
    assert code == 0
    assert IntegrationService().effective("github").connected


# --- navi-int export claude-plugin ----------------------------------------------------------


def _connect_all(hosted: Hosted) -> None:
    assert navi("mcp", "add", "acme", hosted.mcp).returncode == 0
    code, events = as_an_agent("navi-int connect acme --no-browser --json")
    assert code == 0, events
    for provider, line in (("linear", f"apiKey={LINEAR_KEY}"), ("notion", f"token={NOTION}")):
        saved = navi("connect", provider, "--no-test", "--stdin", stdin=line + "\n")
        assert saved.returncode == 0, saved.stderr


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(errors="replace")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_plugin_holds_no_secret_and_its_helpers_print_fresh_headers(
    hosted: Hosted, navi_home: Path, tmp_path: Path
) -> None:
    _connect_all(hosted)
    target = tmp_path / "team-plugin"
    result = navi("export", "claude-plugin", str(target), "--headers-helper", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"acme", "linear", "notion"} <= set(report["servers"])
    assert (
        report["install"][-1] == "/plugin install navi-integrations@navi-integrations-marketplace"
    )

    files = _files(target)
    assert {".claude-plugin/plugin.json", ".claude-plugin/marketplace.json", ".mcp.json"} <= set(
        files
    )
    assert "skills/linear/SKILL.md" in files and "skills/integrations/SKILL.md" in files
    token = navi("token", "acme").stdout.strip()
    for secret in (token, LINEAR_KEY, NOTION):
        assert all(secret not in text for text in files.values())
        assert secret not in result.stdout

    servers = json.loads(files[".mcp.json"])["mcpServers"]
    for remote in ("acme", "linear"):
        assert "headers" not in servers[remote]
        assert servers[remote]["headersHelper"] == f"navi-int token {remote} --headers"
    notion_env = servers["notion"]["env"]
    [var] = [v.strip("${}") for v in notion_env.values()]
    assert report["env"] == {var: "navi-int token notion --field token"}
    # The helper, as Claude Code runs it (a shell, on PATH), prints the current token.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    shown = subprocess.run(
        servers["acme"]["headersHelper"], shell=True, capture_output=True, text=True, env=env
    )
    assert json.loads(shown.stdout) == {"Authorization": f"Bearer {token}"}

    plugin = json.loads(files[".claude-plugin/plugin.json"])
    listing = json.loads(files[".claude-plugin/marketplace.json"])
    assert listing["plugins"] == [
        {
            "name": "navi-integrations",
            "source": "./",
            "description": plugin["description"],
            "version": plugin["version"],
        }
    ]
    # The same integrations give the same version; a change gives a new one.
    again = json.loads(
        navi("export", "claude-plugin", str(target), "--headers-helper", "--json").stdout
    )
    assert again["version"] == plugin["version"]
    assert navi("disable", "notion").returncode == 0
    changed = json.loads(
        navi("export", "claude-plugin", str(target), "--headers-helper", "--json").stdout
    )
    assert changed["version"] != plugin["version"] and "notion" not in changed["servers"]
    assert "notion" not in json.loads((target / ".mcp.json").read_text())["mcpServers"]


def test_the_default_plugin_runs_the_gateway_for_the_scope(
    hosted: Hosted, navi_home: Path, tmp_path: Path
) -> None:
    _connect_all(hosted)
    target = tmp_path / "plugin"
    done = navi("export", "claude-plugin", str(target), "--project", "acme-app")
    assert done.returncode == 0, done.stderr
    assert "/plugin install navi-acme-app@navi-acme-app-marketplace" in done.stdout
    servers = json.loads((target / ".mcp.json").read_text())["mcpServers"]
    assert servers == {
        "navi-integrations": {
            "type": "stdio",
            "command": "navi-int",
            "args": ["gateway", "--project", "acme-app"],
        }
    }
    # A project id with characters a plugin name cannot hold still gives a valid name.
    dotted = navi("export", "claude-plugin", str(tmp_path / "p2"), "--project", "Team.App/web")
    assert dotted.returncode == 0, dotted.stderr
    assert "/plugin install navi-team-app-web@navi-team-app-web-marketplace" in dotted.stdout
    bad = navi("export", "claude-plugin", str(target), "--name", "Not A Name")
    assert bad.returncode != 0 and "not a plugin name" in bad.stderr


def _claude_code() -> Path:
    if not CLAUDE.exists():
        reason = "Claude Code needs `npm ci` in tests/claude_code"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CLAUDE


def test_claude_code_installs_the_plugin_and_connects_through_it(
    hosted: Hosted, navi_home: Path, tmp_path: Path
) -> None:
    claude = _claude_code()
    _connect_all(hosted)
    target = tmp_path / "plugin"
    assert navi("export", "claude-plugin", str(target), "--headers-helper").returncode == 0
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "DISABLE_AUTOUPDATER": "1",
    }

    def run(*args: str) -> str:
        out = subprocess.run(
            [str(claude), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout + out.stderr

    run("plugin", "marketplace", "add", str(target))
    run("plugin", "install", "navi-integrations@navi-integrations-marketplace")
    listed = run("mcp", "list")  # Claude Code connects to each server to check it
    line = next(x for x in listed.splitlines() if "navi-integrations:acme" in x)
    assert "Connected" in line, listed
