"""A repository's manifest (.navi/integrations.toml): navi-int sync and check as users and
CI run them, in real processes started inside the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from navi_integrations.testing import LocalHTTPServer, Reply

from .provider_apis import LINEAR_KEY, apis, serve

_HAS_ACCOUNTS = (
    "--account"
    in subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", "connect", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
)
#: Tests of binding a preferred account that exists: they need named accounts in the store
#: (``navi-int connect --account``, ``navi-int use``).
needs_accounts = pytest.mark.skipif(
    not _HAS_ACCOUNTS, reason="needs accounts: navi-int connect --account and navi-int use"
)


def navi_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``navi-int ARGS`` run in ``cwd``, as a user inside the repository would."""
    return subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        check=False,
    )


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def repository(
    tmp_path: Path, manifest: str, *, name: str = "site", remote: str | None = None
) -> Path:
    """A git repository holding ``manifest`` as .navi/integrations.toml."""
    root = tmp_path / name
    (root / ".navi").mkdir(parents=True)
    (root / ".navi" / "integrations.toml").write_text(manifest, encoding="utf-8")
    git(root, "init", "-q")
    if remote:
        git(root, "remote", "add", "origin", remote)
    return root


def status_of(provider: str, project: str) -> dict[str, Any]:
    out = navi_in(Path.cwd(), "list", "--project", project, "--json")
    assert out.returncode == 0, out.stderr
    items: list[dict[str, Any]] = json.loads(out.stdout)["integrations"]
    [entry] = [i for i in items if i["provider"] == provider]
    return entry


def by_provider(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["provider"]: i for i in document["integrations"]}


@pytest.fixture
def linear_api(
    navi_home: Path, local_http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> LocalHTTPServer:
    """Linear's API on 127.0.0.1 (good key answers, others refused)."""
    serve(local_http_server, apis(local_http_server.url)["linear"], monkeypatch)
    return local_http_server


# -- sync ----------------------------------------------------------------------------------


def test_sync_sets_only_the_switches_the_manifest_sets(navi_home: Path, tmp_path: Path) -> None:
    root = repository(
        tmp_path,
        '[project]\nid = "acme"\n\n[integrations.linear]\nmcp = false\n\n'
        "[integrations.notion]\nenabled = false\n",
    )
    # A global switch the manifest leaves alone: the project must keep inheriting it.
    assert navi_in(root, "settings", "linear", "--no-skill").returncode == 0

    out = navi_in(root, "sync")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:3] == [
        "Synced .navi/integrations.toml (project acme).",
        "  linear: MCP off",
        "  notion: disabled",
    ]

    linear = status_of("linear", "acme")
    assert linear["projectSwitches"] == {"enabled": None, "mcpEnabled": False, "skillEnabled": None}
    assert linear["status"]["project"]["mcpEnabled"] is False
    assert linear["status"]["project"]["skillEnabled"] is False  # inherited from global
    assert navi_in(root, "settings", "linear", "--skill").returncode == 0
    assert (
        status_of("linear", "acme")["status"]["project"]["skillEnabled"] is True
    )  # still inherits
    assert status_of("linear", "acme")["status"]["global"]["mcpEnabled"] is True  # global untouched
    notion = status_of("notion", "acme")
    assert notion["status"]["project"]["enabled"] is False
    assert notion["status"]["global"]["enabled"] is True


def test_sync_prints_the_one_command_fixing_each_missing_integration(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(
        tmp_path,
        '[project]\nid = "acme"\n\n[integrations.linear]\n\n'
        '[integrations.google]\nservices = ["calendar", "gmail"]\n'
        'scopes = ["https://www.googleapis.com/auth/drive.readonly", "email"]\n\n'
        "[integrations.notion]\noptional = true\n",
    )
    out = navi_in(root, "sync")
    assert out.returncode == 0, out.stderr  # applied; the missing ones are check's to fail
    lines = out.stdout.splitlines()
    assert "linear: Linear is not connected in project acme" in lines
    assert "  Run: navi-int connect linear --project acme" in lines
    assert (
        "  Run: navi-int connect google --project acme --service calendar --service gmail"
        " --service drive" in lines
    )
    assert "notion (optional): Notion is not connected in project acme" in lines
    document = json.loads(navi_in(root, "sync", "--json").stdout)
    assert document["ok"] is False and document["projectId"] == "acme"
    assert document["applied"] == []


def test_sync_project_option_overrides_the_manifest(navi_home: Path, tmp_path: Path) -> None:
    root = repository(tmp_path, '[project]\nid = "acme"\n\n[integrations.linear]\nskill = false\n')
    out = navi_in(root, "sync", "--project", "other", "--json")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert document["projectId"] == "other"
    assert document["applied"] == [
        {"provider": "linear", "switches": {"skill": False}, "account": None}
    ]
    assert status_of("linear", "other")["projectSwitches"]["skillEnabled"] is False
    assert status_of("linear", "acme")["projectSwitches"]["skillEnabled"] is None


# -- check ---------------------------------------------------------------------------------


def test_check_fails_on_a_missing_required_integration_and_passes_on_optional_ones(
    linear_api: LocalHTTPServer, tmp_path: Path
) -> None:
    root = repository(
        tmp_path,
        '[project]\nid = "acme"\n\n[integrations.linear]\n\n'
        "[integrations.notion]\noptional = true\n",
    )
    missing = navi_in(root, "check")
    assert missing.returncode == 1
    assert missing.stdout.splitlines() == [
        ".navi/integrations.toml (project acme): 0 of 1 required integration(s) ready.",
        "linear: Linear is not connected in project acme",
        "  Run: navi-int connect linear --project acme",
        "notion (optional): Notion is not connected in project acme",
        "  Run: navi-int connect notion --project acme",
    ]

    connected = navi_in(root, "connect", "linear", "--field", f"apiKey={LINEAR_KEY}")
    assert connected.returncode == 0, connected.stderr  # the user scope: the project inherits
    ready = navi_in(root, "check")
    assert ready.returncode == 0, ready.stdout
    assert "linear: ok: Linear is connected as ada@example.com; healthy" in ready.stdout
    assert LINEAR_KEY not in ready.stdout + ready.stderr

    document = json.loads(navi_in(root, "check", "--json").stdout)
    assert document["ok"] is True
    assert document["projectId"] == "acme"
    assert document["manifest"] == str(root.resolve() / ".navi" / "integrations.toml")
    items = by_provider(document)
    assert items["linear"] == {
        "provider": "linear",
        "required": True,
        "status": "ok",
        "health": "healthy",
        "account": items["linear"]["account"],  # the account's name: accounts' business
        "connectedAs": "ada@example.com",
        "message": "Linear is connected as ada@example.com; healthy",
        "fix": None,
    }
    assert items["notion"]["status"] == "missing" and items["notion"]["required"] is False
    assert items["notion"]["fix"] == {
        "action": "connect",
        "command": "navi-int connect notion --project acme",
        "hint": None,
    }
    assert LINEAR_KEY not in json.dumps(document)


def test_check_reports_an_unhealthy_integration_with_its_advice(
    linear_api: LocalHTTPServer, tmp_path: Path
) -> None:
    root = repository(tmp_path, '[project]\nid = "acme"\n\n[integrations.linear]\n')
    assert navi_in(root, "connect", "linear", "--field", f"apiKey={LINEAR_KEY}").returncode == 0
    linear_api.route("POST", "/graphql", Reply(401, json={"errors": []}))
    assert navi_in(root, "test", "linear").returncode == 1  # recorded: failed, needs the user

    out = navi_in(root, "check", "--json")
    assert out.returncode == 1
    [item] = json.loads(out.stdout)["integrations"]
    assert item["status"] == "unhealthy" and item["health"] == "failed"
    assert item["message"] == "Linear is unhealthy (failed): Linear rejected the credentials (401)"
    assert item["fix"]["action"] == "connect"
    assert item["fix"]["command"] == "navi-int connect linear --project acme"
    assert LINEAR_KEY not in out.stdout


def test_check_says_when_a_switch_differs_and_sync_fixes_it(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(tmp_path, '[project]\nid = "acme"\n\n[integrations.linear]\nmcp = false\n')
    navi_in(root, "connect", "linear", "--no-test", "--field", f"apiKey={LINEAR_KEY}")
    before = json.loads(navi_in(root, "check", "--json").stdout)
    [item] = before["integrations"]
    assert item["status"] == "not_synced"
    assert item["fix"]["command"] == "navi-int sync"
    assert navi_in(root, "sync").returncode == 0
    after = navi_in(root, "check")
    assert after.returncode == 0, after.stdout
    assert "linear: ok: Linear is connected; never checked" in after.stdout


def test_a_manifest_that_switches_a_provider_off_is_satisfied_by_it_off(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(tmp_path, '[project]\nid = "acme"\n\n[integrations.slack]\nenabled = false\n')
    assert navi_in(root, "check").returncode == 1  # on, and not connected
    assert navi_in(root, "sync").returncode == 0
    out = navi_in(root, "check")
    assert out.returncode == 0, out.stdout
    assert "slack: ok: Slack is switched off in project acme, as the manifest says" in out.stdout


def test_check_names_a_disabled_integration_and_the_command_enabling_it(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(tmp_path, '[project]\nid = "acme"\n\n[integrations.linear]\n')
    navi_in(root, "connect", "linear", "--no-test", "--field", f"apiKey={LINEAR_KEY}")
    assert navi_in(root, "disable", "linear", "--project", "acme").returncode == 0
    [item] = json.loads(navi_in(root, "check", "--json").stdout)["integrations"]
    assert item["status"] == "disabled"
    assert item["fix"]["command"] == "navi-int enable linear --project acme"


def test_check_lists_the_google_services_still_to_grant(navi_home: Path, tmp_path: Path) -> None:
    from navi_integrations import IntegrationService

    root = repository(
        tmp_path,
        '[project]\nid = "acme"\n\n[integrations.google]\nservices = ["gmail", "calendar"]\n',
    )
    gmail = " ".join(
        ["openid", "email"]
        + [f"https://www.googleapis.com/auth/gmail.{s}" for s in ("readonly", "send")]
    )
    IntegrationService().store_credentials(
        "google",
        {
            "clientId": "1-a.apps.googleusercontent.com",
            "clientSecret": "GOCSPX-" + "s" * 28,
            "accessToken": "ya29.unused",
            "scope": gmail,
        },
        project_id="acme",
    )
    out = navi_in(root, "check", "--json")
    assert out.returncode == 1
    [item] = json.loads(out.stdout)["integrations"]
    assert item["status"] == "missing_services"
    assert item["message"] == "Google lacks calendar in project acme"
    assert item["fix"]["command"] == "navi-int connect google --project acme --service calendar"
    assert "GOCSPX" not in out.stdout and "ya29" not in out.stdout


def test_a_service_the_provider_lacks_is_named(navi_home: Path, tmp_path: Path) -> None:
    root = repository(
        tmp_path,
        '[project]\nid = "acme"\n\n[integrations.google]\nservices = ["gmial"]\n\n'
        '[integrations.linear]\nservices = ["issues"]\n',
    )
    items = by_provider(json.loads(navi_in(root, "check", "--json").stdout))
    assert items["google"]["status"] == "unknown_service"
    assert items["google"]["message"] == (
        "Google has no service 'gmial' (its services: gmail, sheets, drive, calendar)"
    )
    assert items["linear"]["message"] == "Linear has no OAuth services or scopes (api_key auth)"


# -- unknown providers and accounts --------------------------------------------------------


def test_an_unknown_provider_is_reported_with_what_to_install(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(
        tmp_path,
        '[project]\nid = "acme"\n\n[integrations.jira]\nmcp = true\n\n[integrations.lineer]\n'
        "optional = true\n",
    )
    out = navi_in(root, "sync")
    assert out.returncode == 0, out.stderr  # the rest of the manifest still applies
    assert (
        "jira: unknown provider 'jira': not installed (navi-int plugins lists what is); "
        "pip install the plugin that provides it" in out.stdout
    )
    assert (
        "  Fix: pip install the plugin that provides 'jira', then run navi-int sync" in out.stdout
    )
    check = navi_in(root, "check", "--json")
    assert check.returncode == 1
    items = by_provider(json.loads(check.stdout))
    assert items["jira"]["status"] == "unknown_provider" and items["jira"]["health"] is None
    assert items["jira"]["fix"]["action"] == "fix_plugin"
    assert items["lineer"]["message"].endswith("did you mean 'linear'?")


def test_an_account_that_does_not_exist_is_named_with_the_command_creating_it(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(
        tmp_path, '[project]\nid = "acme"\n\n[integrations.linear]\naccount = "work"\n'
    )
    navi_in(root, "connect", "linear", "--no-test", "--field", f"apiKey={LINEAR_KEY}")
    out = navi_in(root, "check", "--json")
    assert out.returncode == 1
    [item] = json.loads(out.stdout)["integrations"]
    assert item["status"] == "missing_account"
    assert item["message"].startswith("Linear has no account 'work'")
    assert item["fix"]["command"] == "navi-int connect linear --project acme --account work"
    text = navi_in(root, "sync")
    assert text.returncode == 0
    assert "  Run: navi-int connect linear --project acme --account work" in text.stdout


@needs_accounts
def test_sync_binds_the_preferred_account_in_the_project(navi_home: Path, tmp_path: Path) -> None:
    root = repository(
        tmp_path, '[project]\nid = "acme"\n\n[integrations.linear]\naccount = "work"\n'
    )
    for account in ("personal", "work"):
        done = navi_in(
            root,
            "connect",
            "linear",
            "--no-test",
            "--account",
            account,
            "--field",
            f"apiKey={LINEAR_KEY}",
        )
        assert done.returncode == 0, done.stderr
    assert navi_in(root, "use", "linear", "personal").returncode == 0
    before = json.loads(navi_in(root, "check", "--json").stdout)["integrations"][0]
    assert before["status"] == "account_not_in_use"
    assert before["fix"]["command"] == "navi-int use linear work --project acme"

    out = navi_in(root, "sync", "--json")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert document["applied"] == [{"provider": "linear", "switches": {}, "account": "work"}]
    assert document["integrations"][0]["status"] == "ok"
    assert document["integrations"][0]["account"] == "work"
    assert status_of("linear", "acme")["accountInUse"] == "work"
    assert status_of("linear", "other")["accountInUse"] == "personal"  # the project's binding only
    assert navi_in(root, "check").returncode == 0


# -- the project id ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "remote",
    [
        "git@github.com:Acme/Site.git",
        "https://github.com/acme/site.git",
        "ssh://git@host:22/acme/site",
    ],
)
def test_the_project_id_comes_from_the_origin_remote(
    navi_home: Path, tmp_path: Path, remote: str
) -> None:
    root = repository(tmp_path, "[integrations.linear]\nmcp = false\n", remote=remote)
    out = navi_in(root, "sync", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["projectId"] == "acme/site"
    assert status_of("linear", "acme/site")["projectSwitches"]["mcpEnabled"] is False


def test_without_a_remote_the_project_id_is_the_folder_name(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(tmp_path, "[integrations.linear]\n", name="My Site")
    document = json.loads(navi_in(root, "check", "--json").stdout)
    assert document["projectId"] == "my-site"
    # No git at all (not a repository): the folder's name too.
    plain = tmp_path / "plain" / "tool"
    (plain / ".navi").mkdir(parents=True)
    (plain / ".navi" / "integrations.toml").write_text("[integrations.linear]\n")
    (tmp_path / "plain" / ".git").mkdir()  # bounds the walk up; not a repository git knows
    assert json.loads(navi_in(plain, "check", "--json").stdout)["projectId"] == "tool"


def test_the_manifest_is_found_from_a_subdirectory_up_to_the_repository_root(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(tmp_path, '[project]\nid = "acme"\n\n[integrations.linear]\nmcp = false\n')
    deep = root / "src" / "app"
    deep.mkdir(parents=True)
    out = navi_in(deep, "sync")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"Synced {root.resolve() / '.navi' / 'integrations.toml'}")

    # A nested repository without a manifest: the walk stops at its root.
    inner = root / "vendor" / "lib"
    inner.mkdir(parents=True)
    git(inner, "init", "-q")
    none = navi_in(inner, "check")
    assert none.returncode == 2
    assert none.stderr.strip() == (
        f"Error: no .navi/integrations.toml in {inner.resolve()} or its parents (up to the "
        "repository root). Create one (README: 'Project manifest') or give --manifest PATH."
    )
    by_flag = navi_in(inner, "check", "--manifest", str(root), "--json")
    assert json.loads(by_flag.stdout)["projectId"] == "acme"


# -- a bad manifest ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (f'[integrations.linear]\napiKey = "{LINEAR_KEY}"\n', "integrations.linear.apiKey"),
        ('[integrations.google]\nclientSecret = "GOCSPX-abcdefghijklmnop"\n', "clientSecret"),
        ('[integrations.slack]\naccess_token = "xoxb-42-4242-abc"\n', "access_token"),
        ('[extra]\npassword = "hunter2-but-longer"\n', "extra.password"),
    ],
)
def test_a_secret_in_the_manifest_is_refused_without_echoing_it(
    navi_home: Path, tmp_path: Path, body: str, key: str
) -> None:
    root = repository(tmp_path, body)
    secret = body.split('"')[1]
    for command in ("sync", "check"):
        out = navi_in(root, command)
        assert out.returncode == 2
        assert "a manifest never holds secrets" in out.stderr
        assert key in out.stderr and "each teammate runs navi-int connect" in out.stderr
        assert secret not in out.stdout + out.stderr
    as_json = navi_in(root, "check", "--json")
    assert as_json.returncode == 2
    document = json.loads(as_json.stdout)
    assert document["ok"] is False and document["error"]["error"] == "InvalidInput"
    assert secret not in as_json.stdout
    assert status_of("linear", "site")["projectSwitches"]["mcpEnabled"] is None  # nothing applied


def test_a_secret_shaped_value_under_a_harmless_key_is_refused(
    navi_home: Path, tmp_path: Path
) -> None:
    root = repository(tmp_path, f'[integrations.linear]\naccount = "{LINEAR_KEY[:40]}"\n')
    out = navi_in(root, "check")
    assert out.returncode == 2
    assert (
        "the value of integrations.linear.account looks like a credential; each teammate runs "
        "navi-int connect" in out.stderr
    )
    assert LINEAR_KEY[:40] not in out.stderr


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "[integrations.linear]\nmpc = true\n",
            "unknown key integrations.linear.mpc (allowed: account, enabled, mcp, optional, "
            "scopes, services, skill). Did you mean integrations.linear.mcp?",
        ),
        ("[integration.linear]\n", "unknown key integration (allowed: integrations, project,"),
        ('[integrations.linear]\nmcp = "yes"\n', "integrations.linear.mcp must be true or false"),
        ("[integrations.google]\nservices = 'gmail'\n", "must be a list of strings"),
        ('[integrations.linear]\naccount = "has space"\n', "integrations.linear.account: invalid"),
        ("[integrations.Linear]\n", "integrations.Linear does not name a provider id"),
        ('[project]\nid = "-x"\n', "project.id: invalid project id"),
        ("version = 2\n", "version must be 1"),
        ("[integrations.linear\n", "not valid TOML"),
    ],
)
def test_a_bad_manifest_is_one_clear_line_naming_the_file_and_key(
    navi_home: Path, tmp_path: Path, body: str, error: str
) -> None:
    root = repository(tmp_path, body)
    out = navi_in(root, "check")
    assert out.returncode == 2, out.stdout
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"Error: {root.resolve() / '.navi' / 'integrations.toml'}: ")
    assert error in line
