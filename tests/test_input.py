"""Credential input from --field and --stdin: errors never quote a value; secrets in argv warned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from navi_integrations.cli._input import warn_secret_fields
from navi_integrations.plugins.catalog import load_catalog

from .cli_helpers import navi

SECRET = "lin_api_" + "N0tInAnyMessage" * 3


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("--field", SECRET), None),  # pasted without KEY=
        (("--field", f"={SECRET}"), None),
        (("--stdin",), f"{SECRET}\n"),
        (("--stdin",), f"={SECRET}\n"),
        (("--stdin",), f'{{"apiKey": "{SECRET}\\q"}}'),  # an invalid escape
        (("--stdin",), f'{{"apiKey": "{SECRET}",}}'),
        (("--stdin",), json.dumps({"apiKey": {"value": SECRET}})),
        (("--stdin",), json.dumps({"apiKey": [SECRET]})),
    ],
)
def test_input_errors_never_quote_a_value(
    navi_home: Path, args: tuple[str, ...], stdin: str | None
) -> None:
    out = navi("connect", "linear", "--no-test", *args, stdin=stdin)
    assert out.returncode == 2, out.stderr
    assert SECRET not in out.stdout + out.stderr
    assert SECRET[:12] not in out.stderr
    assert [line for line in out.stderr.splitlines() if line.startswith("Error:")], out.stderr


def test_input_errors_say_where(navi_home: Path) -> None:
    out = navi("connect", "linear", "--no-test", "--field", "apiKey=x", "--field", SECRET)
    assert "got an argument without '=' (the 2nd --field; its text is not shown)" in out.stderr
    out = navi("connect", "linear", "--no-test", "--stdin", stdin='{"apiKey": {"v": 1}}')
    assert "stdin JSON: the value of 'apiKey' must be a string, not an object" in out.stderr
    out = navi("connect", "linear", "--no-test", "--stdin", stdin='{\n "apiKey": x}')
    assert "stdin is not valid JSON (line 2, column 12)" in out.stderr


def test_warn_secret_fields(navi_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = load_catalog()
    linear, google, slack = (catalog.document(p) for p in ("linear", "google", "slack"))
    assert warn_secret_fields(linear, [f"apiKey={SECRET}"]) == ["apiKey"]
    err = capsys.readouterr().err
    assert err == (
        "warning: --field apiKey=… puts the secret in the process list and shell history; "
        "pipe it with --stdin instead\n"
    )
    assert SECRET not in err
    # Not secret (type text): no warning. Keys alone are accepted too.
    assert warn_secret_fields(google, ["clientId=1-a.apps.googleusercontent.com"]) == []
    assert warn_secret_fields(slack, ["teamId"]) == []
    assert capsys.readouterr().err == ""
    assert warn_secret_fields(google, ["clientId=x", "clientSecret=y", "clientSecret=z"]) == [
        "clientSecret"
    ]
    assert warn_secret_fields(slack, ["botToken=x", "teamId=T1"]) == ["botToken"]
    assert len(capsys.readouterr().err.splitlines()) == 2  # one line per call


def test_prompted_values_are_checked_before_asking_where_to_save(navi_home: Path) -> None:
    from .cli_helpers import in_terminal

    # Interactive: the malformed key is refused at once, before the "Save …?" question.
    code, shown = in_terminal(
        "connect", "linear", "--no-test", answers=[("Personal API key:", "not-a-linear-key")]
    )
    assert code == 2, shown
    assert "Save Linear credentials" not in shown and "stdin is not a terminal" not in shown
    assert "apiKey" in shown and "not-a-linear-key" not in shown
