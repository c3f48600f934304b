"""The navi-int CLI as a user runs it: real processes, exit codes, JSON documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from navi_integrations import IntegrationProvider

from .cli_helpers import navi, table_row

PROVIDERS = {"github", "google", "linear", "notion", "slack"}


def test_plugins_json_lists_distributions_versions_and_errors(navi_home: Path) -> None:
    out = navi("plugins", "--json")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    by_name = {p["name"]: p for p in document["plugins"]}
    assert by_name["linear"] == {
        "name": "linear",
        "distribution": "navi-linear",
        "version": "0.2.0",
        "providers": ["linear", "linear-mcp"],
        "builtin": False,
    }
    assert by_name["custom-providers"]["builtin"] is True
    assert document["errors"] == []


def test_list_shows_every_provider(navi_home: Path) -> None:
    out = navi("list", "--json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["integrations"]
    assert {i["provider"] for i in items} >= PROVIDERS
    linear = next(i for i in items if i["provider"] == "linear")
    assert linear["name"] == "Linear" and linear["authType"] == "api_key"
    text = navi("list")
    assert text.returncode == 0
    assert table_row(text.stdout, "linear")[:3] == ["linear", "Linear", "API key"]


def test_show_json_is_the_provider_document(navi_home: Path) -> None:
    out = navi("show", "google", "--json")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert document["authType"] == "oauth"
    assert document["oauth"]["tokenUrl"] == "https://oauth2.googleapis.com/token"
    assert "setupGuide" in document and "healthCheck" in document
    assert IntegrationProvider.model_validate(document).id == "google"


def test_show_text_has_fields_and_setup_guide(navi_home: Path) -> None:
    out = navi("show", "notion")
    assert out.returncode == 0
    assert "token: Internal integration secret (secret)" in out.stdout
    assert "Share pages with the integration" in out.stdout


def test_unknown_provider_is_one_line_with_suggestion_and_exit_2(navi_home: Path) -> None:
    out = navi("show", "linaer")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "Error: unknown provider 'linaer'. Did you mean 'linear'? Run: navi-int list"
    ]


def test_debug_shows_the_traceback(navi_home: Path) -> None:
    out = navi("--debug", "show", "nothing-like-it")
    assert out.returncode == 1
    assert "Traceback" in out.stderr and "ProviderNotFound" in out.stderr


def test_cli_import_does_not_load_heavy_libraries(navi_home: Path) -> None:
    code = (
        "import sys, navi_integrations.cli, navi_integrations.cli.providers_cmd;"
        "import navi_linear, navi_google, navi_github, navi_notion, navi_slack;"
        "from navi_integrations import Registry; Registry().load().providers();"
        "heavy = ('httpx', 'authlib', 'sqlalchemy', 'sqlmodel', 'cryptography');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
