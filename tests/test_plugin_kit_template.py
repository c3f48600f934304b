"""The provider-plugin template (templates/provider-plugin), rendered as an author would.

Rendered with copier, installed into a fresh venv with uv (the core from this
checkout, not editable), found through its entry point, and its own tests
run there and pass out of the box. The five plugins in plugins/ are checked to
have the template's shape, so their pyproject.toml/tox.ini boilerplate is the
template's, kept in one place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "provider-plugin"
PLUGINS = sorted(p for p in (ROOT / "plugins").glob("navi-*") if (p / "pyproject.toml").is_file())


def render(target: Path, **answers: str) -> Path:
    """``copier copy TEMPLATE target -d key=value ... --defaults``, through copier's API."""
    from copier import run_copy

    run_copy(str(TEMPLATE), str(target), data=answers, defaults=True, quiet=True)
    return target


def _uv() -> str:
    exe = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if exe is None:
        pytest.fail("uv is not installed: pip install -e '.[test]'")
    return exe


def _agentskills() -> str:
    exe = shutil.which("agentskills", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("agentskills (skills-ref) is not installed: pip install -e '.[test]'")
    return exe


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NAVI_", "VIRTUAL_ENV"))}
    env.pop("PYTHONPATH", None)
    return env


def test_the_rendered_plugin_installs_registers_and_passes_its_own_tests(tmp_path: Path) -> None:
    plugin = render(tmp_path / "navi-acme", provider_id="acme", provider_name="Acme CRM")
    assert (plugin / ".copier-answers.yml").is_file()  # `copier update` can follow the template
    # its two skills pass the Agent Skills reference validator
    for skill in sorted((plugin / "navi_acme" / "skills").iterdir()):
        out = subprocess.run(
            [_agentskills(), "validate", str(skill)], capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stdout + out.stderr
    venv = tmp_path / "venv"
    env = _clean_env()
    subprocess.run(
        [_uv(), "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [_uv(), "pip", "install", "-q", "--python", str(python), str(ROOT), str(plugin), "pytest"],
        check=True,
        env=env,
    )
    home = tmp_path / "home"
    home.mkdir()
    listed = subprocess.run(
        [str(venv / "bin" / "navi-int"), "show", "acme", "--json"],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "NAVI_INTEGRATIONS_HOME": str(home), "NAVI_INTEGRATIONS_KEYRING": "0"},
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["name"] == "Acme CRM"
    tested = subprocess.run(
        [str(python), "-m", "pytest", "-q"],
        cwd=plugin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout


def test_the_rendered_plugin_and_the_kit_s_fixtures_type_check_strictly(tmp_path: Path) -> None:
    from mypy import api  # in the test extra: a missing mypy fails here, never skips

    plugin = render(tmp_path / "navi-acme", provider_id="acme", provider_name="Acme CRM")
    examples = ROOT / "docs" / "examples"
    out, err, status = api.run(
        [
            "--strict",
            "--no-incremental",
            str(plugin / "navi_acme"),
            str(plugin / "tests"),
            str(examples),
        ]
    )
    assert status == 0, out + err


def test_a_bad_provider_id_is_refused_by_the_template(tmp_path: Path) -> None:
    from copier.errors import CopierError

    with pytest.raises((CopierError, ValueError)):
        render(tmp_path / "bad", provider_id="Not An Id", provider_name="Bad")


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_the_repository_s_plugins_have_the_template_s_shape(plugin: Path, tmp_path: Path) -> None:
    project = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    provider_id = plugin.name.removeprefix("navi-")
    name = project["description"].removesuffix(" provider for navi-integrations")
    [core] = [d for d in project["dependencies"] if d.startswith("navi-integrations>=")]
    rendered = render(
        tmp_path / plugin.name,
        provider_id=provider_id,
        provider_name=name,
        version=project["version"],
        requires_core=core.removeprefix("navi-integrations>="),
        core_requirement="{toxinidir}/../..",
    )
    for boilerplate in ("pyproject.toml", "tox.ini"):
        assert (plugin / boilerplate).read_text() == (rendered / boilerplate).read_text(), (
            f"{plugin.name}/{boilerplate} differs from the template's: render it again"
        )
    # every file the template renders is there (a plugin may have more: more tests, more
    # modules), so a file added to the template must be added to each plugin too
    rendered_files = {
        f.relative_to(rendered).as_posix()
        for f in rendered.rglob("*")
        if f.is_file() and f.name != ".copier-answers.yml"
    }
    missing = sorted(f for f in rendered_files if not (plugin / f).is_file())
    assert not missing, f"{plugin.name} lacks what the template renders: {', '.join(missing)}"
