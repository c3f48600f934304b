"""User-defined providers from TOML files in the config dir."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from navi_integrations import Registry
from navi_integrations._version import __version__
from navi_integrations.cli import cli
from navi_integrations.plugins.custom_providers import UserDefinedProvider
from navi_integrations.plugins.pattern_risk import backtracking_risk

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
            f"{missing}:1: missing required key 'base_url': give base_url (an HTTP API) or "
            "an [mcp] table (an MCP server)",
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


# -- risky definitions are warned about --------------------------------------------

RISKY = """\
id = "risky"
name = "Risky"
base_url = "http://api.risky.example/v1"
docs_url = "javascript:alert(1)"

[[fields]]
key = "apiKey"
label = "API key"
pattern = "(\\\\w+\\\\s?)+"
help_url = "file:///etc/passwd"

[health]
path = "https://collector.elsewhere.example/me"
"""


def test_risky_definitions_load_with_a_warning_each(navi_home: Path) -> None:
    path = _write(navi_home, "risky.toml", RISKY)
    registry = Registry().load()
    assert registry.get("risky").api is not None  # loaded anyway
    warnings = sorted(p.message for p in registry.problems())
    assert warnings == sorted(
        [
            f"{path}:3: warning: base_url uses plain http://, so the API key would cross the "
            "network unencrypted: use https:// (loaded anyway)",
            f"{path}:4: warning: docs_url is not an http(s) link ('javascript:'); it is shown "
            "to users as one (loaded anyway)",
            f"{path}:10: warning: fields.0.help_url is not an http(s) link ('file:'); it is "
            "shown to users as one (loaded anyway)",
            f"{path}:9: warning: fields.0.pattern can take exponential time on some values (a "
            "repeated part that can match in several ways, like (a+)+): values are refused when "
            "it runs too long, and other tools may hang on it; rewrite it (loaded anyway)",
            f"{path}:13: warning: health.path is on collector.elsewhere.example, not on the "
            "base_url's host api.risky.example: the health check sends the API key there "
            "(loaded anyway)",
        ]
    )
    shown = CliRunner().invoke(cli, ["plugins"])
    assert shown.exit_code == 0
    assert f"{path}:13: warning: health.path is on collector.elsewhere.example" in shown.output
    doctor = CliRunner().invoke(cli, ["doctor"])
    assert f"problem: navi-integrations {__version__}: {path}:3: warning: base_url uses plain" in (
        doctor.output
    )


def test_plain_http_to_this_machine_and_secretless_providers_are_not_warned(
    navi_home: Path,
) -> None:
    local = ACME.replace('id = "acme"', 'id = "local"')
    for host in ("127.0.0.1:8080", "localhost", "[::1]:9000"):
        _write(navi_home, "local.toml", local.replace("https://api.acme.example", f"http://{host}"))
        assert Registry().load().problems() == [], host
    public = ACME.replace("https://api.acme.example", "http://api.acme.example")
    _write(
        navi_home, "acme.toml", public.replace('label = "API key"', 'label = "Id"\nsecret = false')
    )
    assert Registry().load().problems() == []
    _write(navi_home, "local.toml", public.replace('id = "acme"', 'id = "local"'))
    [warning] = Registry().load().problems()
    assert "local.toml:4: warning: base_url uses plain http://, so the API key" in warning.message


def test_a_url_that_cannot_work_is_refused(navi_home: Path) -> None:
    ftp = _write(navi_home, "ftp.toml", ACME.replace('"acme"', '"ftp"').replace("https:", "ftp:"))
    gopher = _write(
        navi_home,
        "gopher.toml",
        ACME.replace('"acme"', '"gopher"').replace('path = "/me"', 'path = "gopher://x.example/"'),
    )
    nohost = _write(
        navi_home,
        "nohost.toml",
        ACME.replace('"acme"', '"nohost"').replace("https://api.acme.example/v1", "https:///v1"),
    )
    registry = Registry().load()
    messages = sorted(p.message for p in registry.problems())
    assert messages == sorted(
        [
            f"{ftp}:4: base_url must be an http:// or https:// URL with a host ('ftp:')",
            f"{gopher}:16: health.path must be a path relative to base_url or an http(s):// URL "
            "('gopher:')",
            f"{nohost}:4: base_url must be an http:// or https:// URL with a host ('https:')",
        ]
    )
    assert {"ftp", "gopher", "nohost"}.isdisjoint(p.id for p in registry.providers())


def test_a_slow_pattern_in_a_file_refuses_the_value_in_time(navi_home: Path) -> None:
    _write(
        navi_home,
        "slow.toml",
        ACME.replace('"acme"', '"slow"').replace(
            'pattern = "acme_[a-z0-9]{8}"', 'pattern = "(a|aa)+"'
        ),
    )
    registry = Registry().load()
    start = time.monotonic()
    [problem] = registry.validate("slow", {"apiKey": "a" * 64 + "!"})
    assert time.monotonic() - start < 3
    assert "the provider's pattern for it takes too long" in problem.message


@pytest.mark.parametrize(
    ("pattern", "risky"),
    [
        ("(a+)+b", True),
        (r"(\w+\s?)+$", True),
        ("(a|aa)+", True),
        ("(.*a){20}", True),
        (r"([a-z0-9]+[-_]?)+@", True),
        (r"^(([a-z])+.)+[A-Z]([a-z])+$", True),
        ("[a-z]+(-[a-z]+)*", False),
        (r"(\d{1,3}\.){3}\d{1,3}", False),
        ("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", False),
        ("(?:foo|bar)+", False),
        ("(a++)+", False),
        ("(?>a+)+", False),
        (r"(GOCSPX-)?[A-Za-z0-9_-]{24,40}", False),
        ("xox[bp]-[0-9]+-[0-9]+-[A-Za-z0-9]+", False),
        ("(unclosed", False),
    ],
)
def test_backtracking_risk(pattern: str, risky: bool) -> None:
    assert backtracking_risk(pattern) is risky


def test_a_file_provider_knows_its_file(navi_home: Path) -> None:
    path = _write(navi_home, "acme.toml", ACME)
    provider = Registry().load().get("acme")
    assert isinstance(provider, UserDefinedProvider) and provider.source == path
    assert "source" not in provider.to_document()


def test_an_id_clash_with_an_installed_provider_names_the_file(navi_home: Path) -> None:
    path = _write(navi_home, "linear.toml", ACME.replace('"acme"', '"linear"'))
    registry = Registry().load()
    problems = [str(p) for p in registry.problems() if str(path) in str(p)]
    assert problems and "already provided by navi-linear" in problems[0]
    assert registry.get("linear").name == "Linear"  # the installed provider still works
