"""The CLI over the store, as users and scripts run it; secrets only ever from `token`."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from navi_integrations.cli import cli

from .cli_helpers import in_terminal, navi, table_row

KEY = "lin_api_" + "CliSecret" * 4 + "wxyz"
SLACK_TOKEN = "xoxb-123456-654321-CliSlackSecretToken"


@pytest.fixture(autouse=True)
def _database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs on SQLite and on PostgreSQL, through NAVI_INTEGRATIONS_DB_URL."""
    monkeypatch.setenv("NAVI_INTEGRATIONS_DB_URL", store_url)


def test_interactive_connect_shows_the_guide_hides_secrets_and_confirms_scope(
    navi_home: Path,
) -> None:
    code, shown = in_terminal(
        "connect",
        "linear",
        "--no-test",
        answers=[("Personal API key:", KEY), ("Save Linear credentials", "y")],
    )
    assert code == 0, shown
    assert "Create a personal API key" in shown
    assert "for all projects (user scope" in shown
    assert KEY not in shown  # hidden input is not echoed
    assert "Connected Linear (user scope)." in shown
    code, shown = in_terminal(
        "connect",
        "linear",
        "--project",
        "p1",
        "--no-test",
        answers=[("Personal API key:", KEY), ("Save Linear credentials", "n")],
    )
    assert code == 1 and "Aborted" in shown
    listing = json.loads(navi("list", "--json", "--project", "p1").stdout)
    linear = next(i for i in listing["integrations"] if i["provider"] == "linear")
    assert linear["credentialScope"] == "global"  # nothing was saved for p1


def test_connect_without_a_terminal_names_the_flags_instead_of_prompting(
    navi_home: Path,
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "navi_integrations.cli", "connect", "linear", "--no-test"],
        stdin=subprocess.PIPE,  # open and never written: a prompt here would wait forever
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None and process.stdin is not None
    try:
        assert process.wait(timeout=30) == 2
        stderr = process.stderr.read()
    finally:
        process.kill()
        process.stdin.close()
    assert "stdin is not a terminal" in stderr and "--field apiKey=" in stderr


def test_scripted_connect_switches_and_token(navi_home: Path) -> None:
    out = navi(
        "connect",
        "slack",
        "--no-test",
        "--field",
        "teamId=T0123ABCD",
        "--stdin",
        stdin=f"botToken={SLACK_TOKEN}\n",
    )
    assert out.returncode == 0, out.stderr
    assert (
        navi(
            "connect",
            "linear",
            "--no-test",
            "--project",
            "p1",
            "--stdin",
            stdin=json.dumps({"apiKey": KEY}),
        ).returncode
        == 0
    )
    assert navi("disable", "slack", "--project", "p1").returncode == 0
    assert navi("settings", "linear", "--project", "p1", "--no-mcp").stdout.strip() == (
        "linear (project p1): MCP off, skill on."
    )

    text = navi("list", "--project", "p1").stdout
    assert table_row(text, "linear") == [
        "linear",
        "Linear",
        "API key",
        "project",
        "default",
        "yes",
        "no",
        "yes",
        "unknown",
    ]
    assert table_row(text, "slack") == [
        "slack",
        "Slack",
        "API key",
        "user",
        "default",
        "no",
        "yes",
        "yes",
        "disabled",
    ]

    token = navi("token", "linear", "--project", "p1", "--json")
    assert json.loads(token.stdout) == {"type": "api_key", "value": KEY, "expiresAt": None}
    assert navi("token", "slack").stdout.strip() == SLACK_TOKEN
    refused = navi("token", "slack", "--project", "p1")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "Error: slack is disabled (project p1). Run: navi-int enable slack --project p1"
    )
    missing = navi("token", "notion")
    assert missing.returncode == 1 and "Run: navi-int connect notion" in missing.stderr


def test_invalid_values_store_nothing_and_exit_2(navi_home: Path) -> None:
    out = navi(
        "connect", "slack", "--field", "botToken=xoxp-1-2-abcdef123", "--field", "teamId=C123"
    )
    assert out.returncode == 2
    assert "botToken: that is a user token" in out.stderr
    assert "teamId: that is a channel or user ID" in out.stderr
    assert "xoxp-1-2-abcdef123" not in out.stderr + out.stdout
    assert json.loads(navi("list", "--json").stdout)["integrations"][4]["hasCredentials"] is False
    bad = navi("connect", "linear", "--field", "apiKey")
    assert bad.returncode == 2 and "expected KEY=VALUE" in bad.stderr


def test_no_secret_in_any_output_but_token(
    navi_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    outputs = [
        runner.invoke(cli, ["connect", "linear", "--no-test", "--field", f"apiKey={KEY}"]).output
    ]
    outputs.append(
        runner.invoke(
            cli, ["connect", "linear", "--no-test", "--project", "p", "--field", f"apiKey={KEY}"]
        ).output
    )
    for args in (
        ["list"],
        ["list", "--json"],
        ["show", "linear", "--json"],
        ["plugins", "--json"],
        ["disable", "linear"],
        ["settings", "linear", "--no-skill"],
        ["keys", "status"],
        ["disconnect", "linear", "--project", "p"],
        ["--debug", "token", "linear"],
    ):
        outputs.append(runner.invoke(cli, args).output)
    outputs.append(caplog.text)
    assert all(KEY not in text for text in outputs)
    assert runner.invoke(cli, ["enable", "linear"]).exit_code == 0
    assert runner.invoke(cli, ["token", "linear"]).output.strip() == KEY


def test_db_upgrade_and_keys_commands(navi_home: Path) -> None:
    assert (
        navi("db", "upgrade").stdout.strip() == "Upgraded the database from revision none to 0006."
    )
    assert navi("db", "upgrade").stdout.strip() == "The database is up to date (revision 0006)."
    navi("connect", "linear", "--no-test", "--field", f"apiKey={KEY}")
    status = navi("keys", "status").stdout
    assert "1 credential(s) under" in status and "(current)" in status
    rotated = navi("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "1 credential(s) re-encrypted" in rotated.stdout
    assert "Dropped retired key(s)" in rotated.stdout
    assert navi("token", "linear").stdout.strip() == KEY
    key_file = navi_home / "exported.key"
    made = navi("keys", "generate", str(key_file))
    assert made.returncode == 0 and key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().strip() not in made.stdout
