"""Adding an integration never touches core: a third-party distribution, built and installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "navi-jira"
version = "0.4.2"
dependencies = ["navi-integrations"]

[project.entry-points.navi_integrations]
jira = "navi_jira"
"""

PLUGIN = """\
from navi_integrations import IntegrationProvider, hookimpl

@hookimpl
def describe():
    return IntegrationProvider(
        id="jira", name="Jira", description="Issue tracking by Atlassian",
        auth_type="api_key",
        credentials=[{"key": "apiToken", "label": "API token"},
                     {"key": "email", "label": "Account email", "type": "text"}],
        setup_guide={"steps": [{"title": "Create an API token",
                                "url": "https://id.atlassian.com/manage-profile/security/api-tokens"}]},
    )
"""


def _uv() -> str:
    uv = pytest.importorskip("uv", reason="the uv package is a test dependency")
    return str(uv.find_uv_bin())


def test_pip_installed_third_party_plugin_shows_up(tmp_path: Path) -> None:
    project = tmp_path / "navi-jira"
    (project / "navi_jira").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "navi_jira" / "__init__.py").write_text(PLUGIN)
    venv = tmp_path / "venv"
    uv = _uv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    # The core from this checkout (not editable) and the third-party plugin, nothing else.
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), str(ROOT), str(project)],
        check=True,
        env=env,
    )
    home = tmp_path / "home"
    out = subprocess.run(
        [str(venv / "bin" / "navi-int"), "list", "--json"],
        capture_output=True,
        text=True,
        env={**env, "NAVI_INTEGRATIONS_HOME": str(home)},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["integrations"]
    assert [(i["provider"], i["name"], i["hasCredentials"]) for i in items] == [
        ("jira", "Jira", False)
    ]
    plugins = subprocess.run(
        [str(venv / "bin" / "navi-int"), "plugins"],
        capture_output=True,
        text=True,
        env={**env, "NAVI_INTEGRATIONS_HOME": str(home)},
        check=True,
    )
    assert "navi-jira          0.4.2    jira" in plugins.stdout
