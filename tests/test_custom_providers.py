"""User-defined providers from TOML files in the config dir."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from navi_integrations import Registry
from navi_integrations.cli import cli

ACME = """\
id = "acme"
name = "Acme CRM"
description = "Customer records"
base_url = "https://api.acme.example/v1"

[[fields]]
key = "apiKey"
label = "API key"
pattern = "acme_[a-z0-9]{8}"
pattern_hint = "acme_ followed by 8 lowercase letters and digits"

[auth]
header = "X-Api-Key"

[health]
path = "/me"

[env]
ACME_API_KEY = "{{apiKey}}"
"""


def _write(home: Path, name: str, text: str) -> Path:
    folder = home / "providers"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_provider_behaves_like_a_plugin_provider(navi_home: Path) -> None:
    _write(navi_home, "acme.toml", ACME)
    registry = Registry().load()
    acme = registry.get("acme")
    assert acme.auth_type == "api_key"
    assert acme.api is not None and acme.api.auth is not None
    assert (acme.api.auth.header, acme.api.auth.template) == ("X-Api-Key", "{{apiKey}}")
    assert acme.health_check is not None and acme.health_check.endpoint == "/me"
    assert acme.env == {"ACME_API_KEY": "{{apiKey}}"}
    assert registry.owner("acme").name == "custom-providers"
    assert registry.validate("acme", {"apiKey": "acme_1234abcd"}) == []
    [problem] = registry.validate("acme", {"apiKey": "nope"})
    assert "expected acme_ followed by 8 lowercase letters and digits" in problem.message

    result = CliRunner().invoke(cli, ["list", "--json"])
    assert result.exit_code == 0, result.output
    assert "acme" in {i["provider"] for i in json.loads(result.output)["integrations"]}


def test_bad_files_are_reported_with_file_and_line_and_do_not_stop_others(
    navi_home: Path,
) -> None:
    _write(navi_home, "acme.toml", ACME)
    syntax = _write(navi_home, "broken.toml", 'id = "broken"\nname = "B"\nbase_url = \n')
    typo = _write(
        navi_home,
        "typo.toml",
        'id = "typo"\nname = "T"\nbase_url = "https://t.example"\n\n'
        '[[fields]]\nkey = "apiKey"\nlabel = "Key"\nsecrett = true\n',
    )
    missing = _write(navi_home, "nourl.toml", 'id = "nourl"\nname = "N"\n')
    mismatch = _write(navi_home, "other.toml", ACME.replace('"acme"', '"elsewhere"'))
    registry = Registry().load()
    assert registry.get("acme")
    messages = sorted(p.message for p in registry.problems())
    assert messages == sorted(
        [
            f"{syntax}:3: invalid TOML: Invalid value",
            f"{typo}:8: unknown key 'fields.0.secrett'",
            f"{missing}:1: missing required key 'base_url'",
            f"{mismatch}:1: id 'elsewhere' does not match the file name (expected elsewhere.toml)",
        ]
    )

    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0
    assert f"{typo}:8: unknown key 'fields.0.secrett'" in result.output


def test_query_parameter_auth_and_default_field(navi_home: Path) -> None:
    _write(
        navi_home,
        "q.toml",
        'id = "q"\nname = "Q"\nbase_url = "https://q.example"\n[auth]\nquery = "api_key"\n',
    )
    q = Registry().load().get("q")
    assert [f.key for f in q.credentials] == ["apiKey"]
    assert q.api is not None and q.api.auth is not None
    assert (q.api.auth.header, q.api.auth.query, q.api.auth.template) == (
        None,
        "api_key",
        "{{apiKey}}",
    )
