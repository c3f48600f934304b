"""Several accounts per provider: connect, use, token, run, list, disconnect, and the
migration of a store made by the code before accounts (schema 0005)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from navi_integrations.testing import LocalHTTPServer, Reply, Request

from .cli_helpers import navi

WORK = "lin_api_" + "W0rk" * 10
HOME = "lin_api_" + "H0me" * 10
IDENTITY = {WORK: "ada@work.example", HOME: "ada@home.example"}


@pytest.fixture
def linear(
    navi_home: Path, local_http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> LocalHTTPServer:
    """Linear's API on loopback: each key is a different person."""

    def viewer(request: Request) -> Reply:
        email = IDENTITY.get(request.headers.get("authorization", ""))
        if email is None:
            return Reply(400, json={"errors": [{"message": "Authentication required"}]})
        return Reply(200, json={"data": {"viewer": {"id": email, "name": "Ada", "email": email}}})

    local_http_server.route("POST", "/graphql", viewer)
    monkeypatch.setenv("NAVI_LINEAR_API_URL", local_http_server.url + "/graphql")
    return local_http_server


def ok(*args: str, stdin: str | None = None) -> str:
    out = navi(*args, stdin=stdin)
    assert out.returncode == 0, out.stderr
    return out.stdout


def entry(project: str | None = None, provider: str = "linear") -> dict[str, Any]:
    scope = ["--project", project] if project else []
    document = json.loads(ok("list", "--json", *scope))
    return next(i for i in document["integrations"] if i["provider"] == provider)


def test_two_accounts_side_by_side_bound_per_project(linear: LocalHTTPServer) -> None:
    first = ok("connect", "linear", "--field", f"apiKey={WORK}")
    assert "Connected Linear as ada@work.example (user scope)." in first
    second = ok("connect", "linear", "--account", "home", "--field", f"apiKey={HOME}")
    assert "still uses account 'ada@work.example'" in second
    assert "navi-int use linear home" in second
    assert WORK not in first + second and HOME not in first + second

    listed = entry()
    assert listed["accountInUse"] == "ada@work.example"  # the first one is the default
    assert [(a["name"], a["default"], a["identity"]) for a in listed["accounts"]] == [
        ("ada@work.example", True, "ada@work.example"),
        ("home", False, "ada@home.example"),
    ]
    assert ok("token", "linear").strip() == WORK
    assert ok("token", "linear", "--account", "home").strip() == HOME
    assert ok("token", "linear:home").strip() == HOME

    # A project binds the other account; other projects keep the default.
    assert "uses Linear account 'home'" in ok("use", "linear", "home", "--project", "acme")
    assert ok("token", "linear", "--project", "acme").strip() == HOME
    assert ok("token", "linear", "--project", "other").strip() == WORK
    assert entry("acme")["accountInUse"] == "home"
    out = navi(
        "run",
        "--with",
        "linear:ada@work.example",
        "--project",
        "acme",
        "--",
        "python3",
        "-c",
        f"import os,sys; sys.exit(os.environ['LINEAR_API_KEY'] != {WORK!r})",
    )
    assert out.returncode == 0, out.stderr
    out = navi(
        "run",
        "--project",
        "acme",
        "--with",
        "linear",
        "--",
        "python3",
        "-c",
        f"import os,sys; sys.exit(os.environ['LINEAR_API_KEY'] != {HOME!r})",
    )
    assert out.returncode == 0, out.stderr
    twice = navi("run", "--with", "linear,linear:home", "--", "true")
    assert twice.returncode == 2 and "names linear twice" in twice.stderr

    # The user scope's default changes with `use` (no project).
    ok("use", "linear", "home")
    assert ok("token", "linear").strip() == HOME

    # Health is per account: a check of one records that one only.
    ok("test", "linear")
    accounts = {a["name"]: a for a in entry()["accounts"]}
    assert accounts["home"]["health"] == "healthy"


def test_missing_accounts_and_deleting_the_default(linear: LocalHTTPServer) -> None:
    ok("connect", "linear", "--field", f"apiKey={WORK}", "--account", "work")
    ok("connect", "linear", "--field", f"apiKey={HOME}", "--account", "home")

    unknown = navi("token", "linear", "--account", "nope")
    assert unknown.returncode == 1
    assert "linear has no account 'nope' (user scope)" in unknown.stderr
    assert "navi-int connect linear --account nope" in unknown.stderr
    bad = navi("use", "linear", "nope")
    assert bad.returncode == 1 and "no account 'nope'" in bad.stderr
    invalid = navi("token", "linear", "--account", "not valid!")
    assert invalid.returncode == 2 and "invalid account name" in invalid.stderr

    ok("use", "linear", "home", "--project", "acme")
    gone = ok("disconnect", "linear", "--account", "home")
    assert "Disconnected Linear (user scope, account 'home')" in gone
    bound = navi("token", "linear", "--project", "acme")
    assert bound.returncode == 1
    assert "account 'home', which project acme uses, is not connected" in bound.stderr
    assert "navi-int use linear ACCOUNT --project acme" in bound.stderr

    # Deleting the default account: the next one is the default.
    ok("connect", "linear", "--field", f"apiKey={HOME}", "--account", "home")
    out = ok("disconnect", "linear")  # the default: work, the oldest
    assert "account 'work'" in out and "Account 'home' is the default now." in out
    assert ok("token", "linear").strip() == HOME
    assert WORK not in out


def test_concurrent_connects_of_two_accounts(linear: LocalHTTPServer) -> None:
    results: list[Any] = []

    def connect(key: str, name: str) -> None:
        results.append(navi("connect", "linear", "--account", name, "--field", f"apiKey={key}"))

    threads = [
        threading.Thread(target=connect, args=(key, f"a{i}"))
        for i, key in enumerate([WORK, HOME] * 3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    names = sorted(a["name"] for a in entry()["accounts"])
    assert names == [f"a{i}" for i in range(6)]
    for i, key in enumerate([WORK, HOME] * 3):
        assert ok("token", f"linear:a{i}").strip() == key


FIXTURE = Path(__file__).parent / "data" / "store-0005.sqlite"
FIXTURE_KEY = "bWlncmF0aW9uLWZpeHR1cmUta2V5LTAwMDAwMDAwMDA="


def test_a_store_made_before_accounts_migrates_nothing_lost(
    navi_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tests/data/store-0005.sqlite was made by the code of schema 0005 (commit 60b871a:
    tests/data/make_store_0005.py): each connection becomes its scope's default account."""
    shutil.copy(FIXTURE, navi_home / "navi.db")
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEY", FIXTURE_KEY)
    assert "to 0006" in ok("db", "upgrade")
    assert ok("token", "linear").strip() == "lin_api_fixture_user_0005"
    assert ok("token", "linear", "--project", "acme").strip() == "lin_api_fixture_acme_0005"
    assert ok("token", "notion").strip() == "secret_notion_fixture_0005"
    user, acme = entry(), entry("acme")
    # named after the identity its last check reported; the unchecked one is "default"
    assert user["accountInUse"] == "ada@example.com" and user["account"] == "ada@example.com"
    assert acme["accountInUse"] == "default" and acme["credentialScope"] == "project"
    assert acme["status"]["project"]["health"] == "failed"  # its health came along
    assert acme["lastError"]["message"] == "Linear rejected the key (401)"
    assert acme["projectSwitches"]["mcpEnabled"] is False  # switches too
    assert entry("acme", "notion")["status"]["project"]["enabled"] is False
    assert entry(provider="google")["account"] == "ada@gmail.com"
    with sqlite3.connect(navi_home / "navi.db") as db:
        rows = db.execute("SELECT provider, project_id, account, expires_at FROM credentials")
        assert sorted(rows) == [
            ("google", "", "ada@gmail.com", 0),  # 0: not known yet (sealed), refresh looks
            ("linear", "", "ada@example.com", 0),
            ("linear", "acme", "default", 0),
            ("notion", "", "default", 0),
        ]
    # and a second account can join the migrated one
    ok(
        "connect",
        "linear",
        "--no-test",
        "--account",
        "two",
        "--field",
        "apiKey=lin_api_" + "2" * 40,
    )
    assert ok("token", "linear").strip() == "lin_api_fixture_user_0005"


def test_mcp_config_uses_the_bound_account_or_the_one_named(linear: LocalHTTPServer) -> None:
    ok("connect", "linear", "--field", f"apiKey={WORK}", "--account", "work")
    ok("connect", "linear", "--field", f"apiKey={HOME}", "--account", "home")
    ok("use", "linear", "home", "--project", "acme")

    def linear_key(*args: str) -> str:
        config = json.loads(ok("mcp-config", "--format", "claude-code", *args))
        return json.dumps(config["mcpServers"]["linear"])

    assert WORK in linear_key() and HOME in linear_key("--project", "acme")
    assert WORK in linear_key("--project", "acme", "--account", "linear:work")
    refused = navi("mcp-config", "--gateway", "--account", "linear:work")
    assert refused.returncode == 2
