"""connect tests before saving; navi-int test, test --all and doctor, as users run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from navi_integrations.testing import LocalHTTPServer, Reply

from .cli_helpers import navi
from .provider_apis import LINEAR_KEY, NOTION_TOKEN, SLACK_TOKEN, apis, serve


@pytest.fixture
def served(
    navi_home: Path, local_http_server: LocalHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Any:
    found = apis(local_http_server.url)
    for name in ("linear", "notion", "slack"):
        serve(local_http_server, found[name], monkeypatch)
    return local_http_server, found


def test_connect_tests_first_and_saves_nothing_on_failure(served: Any) -> None:
    server, _ = served
    bad = navi("connect", "linear", "--field", "apiKey=" + LINEAR_KEY[:-2] + "zz")
    assert bad.returncode == 1
    assert "Saved nothing: Linear rejected the API key." in bad.stderr
    assert "[reauth]" in bad.stderr and "Use --no-test" not in bad.stderr
    assert json.loads(navi("list", "--json").stdout)["integrations"][2]["hasCredentials"] is False

    good = navi("connect", "linear", "--field", f"apiKey={LINEAR_KEY}")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "Connected Linear as ada@example.com (user scope)."
    shown = navi("show", "linear").stdout
    assert "Health (user credentials): healthy" in shown and "Connected as ada@example.com" in shown

    server.route("GET", "/v1/users/me", Reply(503))
    down = navi("connect", "notion", "--field", f"token={NOTION_TOKEN}")
    assert down.returncode == 1 and "Use --no-test to save anyway" in down.stderr
    offline = navi("connect", "notion", "--no-test", "--field", f"token={NOTION_TOKEN}")
    assert offline.returncode == 0


def test_test_command_exit_codes_and_advice(served: Any) -> None:
    server, _ = served
    assert navi("connect", "linear", "--field", f"apiKey={LINEAR_KEY}").returncode == 0
    ok = navi("test", "linear")
    assert (ok.returncode, ok.stdout.strip()) == (
        0,
        "linear: healthy. Connected as ada@example.com",
    )
    server.route("POST", "/graphql", Reply(401, json={"errors": []}))
    refused = navi("test", "linear")
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "linear: Linear rejected the credentials (401)",
        "  [reauth] Run: navi-int connect linear",
    ]
    server.route("POST", "/graphql", Reply(429, headers={"Retry-After": "120"}))
    limited = navi("test", "linear")
    assert limited.returncode == 1 and "[wait]" in limited.stderr
    assert "linear: rate limited until" in navi("list").stdout
    assert "rate limited until" in navi("show", "linear").stdout
    unknown = navi("test", "linaer")
    assert unknown.returncode == 2 and "Did you mean 'linear'?" in unknown.stderr


def test_test_all_checks_every_connected_provider(
    served: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = served
    monkeypatch.setenv("GH_CONFIG_DIR", str(tmp_path / "gh-logged-out"))  # the real gh, no login
    assert navi("connect", "github", "--no-test", "--field", "host=github.com").returncode == 0
    navi("connect", "linear", "--no-test", "--field", f"apiKey={LINEAR_KEY}")
    navi("connect", "notion", "--no-test", "--field", f"token={NOTION_TOKEN}")
    navi(
        "connect",
        "slack",
        "--no-test",
        "--field",
        f"botToken={SLACK_TOKEN}",
        "--field",
        "teamId=T0123ABCD",
    )
    server.route("POST", "/api/auth.test", Reply(200, json={"ok": False, "error": "token_revoked"}))
    out = navi("test", "--all", "--json")
    assert out.returncode == 1
    results = {r["provider"]: (r["ok"], r["account"]) for r in json.loads(out.stdout)["results"]}
    assert results == {
        "github": (False, None),  # one provider failing before its check stops no other
        "linear": (True, "ada@example.com"),
        "notion": (True, "Navi in Acme"),
        "slack": (False, None),
    }
    text = navi("test", "--all")
    assert (
        "checked 4/4" in text.stderr
        and "Slack rejected the bot token (token_revoked)" in text.stderr
        and "gh is not logged in to github.com" in text.stderr
    )
    assert "github: failed" in navi("doctor").stdout  # the outcome was recorded


def test_doctor_report_is_complete_and_redacted(served: Any) -> None:
    server, _ = served
    navi("connect", "linear", "--field", f"apiKey={LINEAR_KEY}")
    server.route("POST", "/graphql", Reply(500, body=f"echoing {LINEAR_KEY}"))
    navi("test", "linear")
    out = navi("doctor")
    assert out.returncode == 0, out.stderr
    for expected in (
        "navi-integrations:",
        "store: Store(",
        "masterKey:",
        "key file",
        "gh:",
        "linear (navi-linear 0.2.0)",
        "linear: degraded as ada@example.com",
    ):
        assert expected in out.stdout, expected
    assert LINEAR_KEY not in out.stdout + out.stderr
    document = json.loads(navi("doctor", "--json").stdout)
    assert document["providers"][2]["errorCount"] == 1
