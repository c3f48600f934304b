"""Agent Skills: the specification's reference validator (the real `agentskills` CLI) on every
shipped and installed skill; an installer that never touches a user's files, tried on the real
file system; setup skills that keep secrets out of command arguments, run as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from navi_integrations import IntegrationService, SkillWarning
from navi_integrations.agent.skills import (
    Skill,
    install,
    read_skill,
    skill_problems,
    skill_warnings,
)
from navi_integrations.plugins.registry import Registry

from .cli_helpers import navi

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(
    d
    for d in [*(REPO / "skills").iterdir(), *REPO.glob("plugins/navi-*/navi_*/skills/*")]
    if d.is_dir()
)
LINEAR_KEY = "lin_api_" + "Sk1llsTest" * 4
NOTION = "ntn_" + "Sk1llsN0ti0n" * 3
SLACK = {"botToken": "xoxb-111-222-Sk1llsSlackT0ken", "teamId": "T0123ABCD"}
MARKER = ".navi-integrations"


def agentskills(folder: Path) -> subprocess.CompletedProcess[str]:
    """``agentskills validate FOLDER``: skills-ref's CLI, installed with the test extra."""
    exe = shutil.which("agentskills", path=str(Path(sys.executable).parent)) or shutil.which(
        "agentskills"
    )
    if exe is None:
        pytest.fail("agentskills (skills-ref) is not installed: pip install -e '.[test]'")
    return subprocess.run(
        [exe, "validate", str(folder)], capture_output=True, text=True, check=False
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (links as their target text), to compare before and after."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[relative] = f"-> {os.readlink(path)}".encode()
        elif path.is_file():
            found[relative] = path.read_bytes()
    return found


def source_skill(root: Path, name: str, files: dict[str, str] | None = None) -> Skill:
    """A skill folder of our own making (the Python API takes any ``Skill``)."""
    folder = root / "source" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files = files or {}
    files.setdefault(
        "SKILL.md",
        f"---\nname: {name}\ndescription: The {name} skill, for tests.\n---\n\n# {name}\n",
    )
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return read_skill(folder)


# --- the specification ------------------------------------------------------------------------


def test_every_shipped_skill_is_found() -> None:
    # 2 framework skills, and a setup and a usage skill for each of the five plugins.
    assert len(SHIPPED) == 12, [d.name for d in SHIPPED]


@pytest.mark.parametrize("folder", SHIPPED, ids=[d.name for d in SHIPPED])
def test_shipped_skill_passes_the_reference_validator(folder: Path) -> None:
    out = agentskills(folder)
    assert out.returncode == 0, out.stderr
    assert skill_problems(folder) == []


def _write(root: Path, folder: str, text: str) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "SKILL.md").write_text(text)
    return path


GOOD = "---\nname: {n}\ndescription: Does a thing. Use when asked.\n{extra}---\n\n# Body\n"
REFUSED_BY_BOTH = {
    "flow-style": GOOD.format(n="flow-style", extra="allowed-tools: []\n"),
    "not-the-folder": GOOD.format(n="another-name", extra=""),
    "bad--name": GOOD.format(n="bad--name", extra=""),
    "upper": GOOD.format(n="Upper", extra=""),
    "long-description": "---\nname: long-description\ndescription: " + "x" * 1025 + "\n---\n",
    "empty-description": "---\nname: empty-description\ndescription: ''\n---\n",
    "long-compat": GOOD.format(n="long-compat", extra="compatibility: " + "y" * 501 + "\n"),
    "duplicate-key": GOOD.format(n="duplicate-key", extra="name: duplicate-key\n"),
    "no-frontmatter": "# Just markdown\n",
    "unclosed": "---\nname: unclosed\ndescription: never closed\n",
    "anchor": GOOD.format(n="anchor", extra="license: &lic MIT\n"),
    "no-name": "---\ndescription: Has no name.\n---\n",
}
# The specification says metadata maps strings to strings (the reference stringifies a list);
# triggers must be in the description because that is all an agent matches on.
REFUSED_BY_US_ONLY = {
    "metadata-list": GOOD.format(n="metadata-list", extra="metadata:\n  triggers:\n    - a\n"),
    "hidden-trigger": GOOD.format(n="hidden-trigger", extra="metadata:\n  triggers: open sesame\n"),
}
# The PRD's keys: refused by the reference, read by us as metadata with a warning saying the
# fix, and exported under metadata (see test_prd_keys_are_a_warning_and_exported_as_metadata).
PRD_STYLE = {
    "prd-tools": GOOD.format(n="prd-tools", extra="tools: Bash\n"),
    "prd-triggers": GOOD.format(n="prd-triggers", extra="triggers:\n  - do it\n"),
    "prd-mcp": GOOD.format(n="prd-mcp", extra="tools: []  # MCP tools, not Bash\nmcp: linear\n"),
}
ACCEPTED = {
    "minimal": GOOD.format(n="minimal", extra=""),
    "everything": GOOD.format(
        n="everything",
        extra="license: MIT\ncompatibility: Needs navi-int.\nallowed-tools: Bash Read\n"
        "metadata:\n  triggers: does a thing, when asked\n  mcp: linear\n",
    ),
}


def test_skill_problems_refuses_all_the_reference_refuses(tmp_path: Path) -> None:
    for folder, text in {**REFUSED_BY_BOTH, **REFUSED_BY_US_ONLY, **ACCEPTED}.items():
        path = _write(tmp_path, folder, text)
        reference_ok = agentskills(path).returncode == 0
        ours = skill_problems(path)
        assert reference_ok == (folder in {**REFUSED_BY_US_ONLY, **ACCEPTED}), folder
        assert (ours == []) == (folder in ACCEPTED), (folder, ours)
        assert all(p.startswith(f"{folder}: ") and "\n" not in p for p in ours)
    [flow] = skill_problems(tmp_path / "flow-style")
    assert flow.startswith("flow-style: frontmatter is not strict YAML: line 4: ")
    assert "open sesame" in skill_problems(tmp_path / "hidden-trigger")[0]


def test_prd_keys_are_a_warning_and_exported_as_metadata(tmp_path: Path) -> None:
    for folder, text in PRD_STYLE.items():
        path = _write(tmp_path / "source", folder, text)
        assert agentskills(path).returncode != 0, folder  # the reference refuses them
        assert skill_problems(path) == [], folder
        warned = skill_warnings(path)
        assert warned and all(
            w.startswith(f"{folder}: ") and "Fix: move it under metadata" in w for w in warned
        ), warned
    triggers = read_skill(tmp_path / "source" / "prd-triggers")
    assert triggers.triggers == ["do it"] and "Use when asked to: do it." in triggers.description
    mcp = read_skill(tmp_path / "source" / "prd-mcp")
    assert (mcp.mcp, mcp.allowed_tools) == ("linear", [])  # PRD tools never grant permission
    report = install([read_skill(tmp_path / "source" / f) for f in PRD_STYLE], tmp_path / "out")
    assert sorted(report.installed) == sorted(PRD_STYLE)
    for folder in PRD_STYLE:
        exported = tmp_path / "out" / folder
        assert agentskills(exported).returncode == 0, agentskills(exported).stderr
        assert skill_warnings(exported) == []
        assert read_skill(exported).metadata == read_skill(tmp_path / "source" / folder).metadata
    assert "tools: Bash" in (tmp_path / "out" / "prd-tools" / "SKILL.md").read_text()
    # Installing again recognises what it wrote (the rewritten SKILL.md) as its own.
    again = install([read_skill(tmp_path / "source" / f) for f in PRD_STYLE], tmp_path / "out")
    assert (sorted(again.installed), again.skipped) == (sorted(PRD_STYLE), [])


def test_the_prd_fields_come_from_the_spec_fields() -> None:
    linear = REPO / "plugins/navi-linear/navi_linear/skills"
    setup, usage = read_skill(linear / "connect-linear"), read_skill(linear / "linear")
    assert setup.triggers == [
        "connect linear",
        "setup linear",
        "add linear integration",
        "linear api key",
    ]
    assert (setup.allowed_tools, setup.mcp) == (["Bash"], None)
    assert (usage.allowed_tools, usage.mcp, usage.triggers) == ([], "linear", [])
    assert usage.to_document() == {
        "name": "linear",
        "description": usage.description,
        "provider": None,
        "role": "framework",
        "allowedTools": [],
        "triggers": [],
        "mcp": "linear",
    }


# --- installing: on the real file system ------------------------------------------------------


@pytest.fixture
def linear_connected(navi_service: IntegrationService) -> IntegrationService:
    navi_service.connect("linear", {"apiKey": LINEAR_KEY})
    return navi_service


def test_install_writes_marked_folders_the_validator_accepts(
    linear_connected: IntegrationService, tmp_path: Path
) -> None:
    target = tmp_path / "agent-skills"
    out = navi("skills", "install", str(target), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert {"linear", "connect-google", "integrations"} <= set(report["installed"])
    assert (report["removed"], report["kept"], report["skipped"]) == ([], {}, [])
    assert sorted(p.name for p in target.iterdir()) == sorted(report["installed"])
    for folder in target.iterdir():
        marker = json.loads((folder / MARKER).read_text())
        assert set(marker["files"]) == {"SKILL.md"}
        assert agentskills(folder).returncode == 0, agentskills(folder).stderr
    listed = json.loads(navi("skills", "list", "--json").stdout)["skills"]
    by_name = {s["name"]: s for s in listed}
    assert by_name["linear"]["mcp"] == "linear" and by_name["linear"]["role"] == "usage"
    assert "connect google" in by_name["connect-google"]["triggers"]


def test_a_users_folder_is_never_replaced_or_removed(
    linear_connected: IntegrationService, tmp_path: Path
) -> None:
    target = tmp_path / "agent-skills"
    mine = target / "linear"
    mine.mkdir(parents=True)
    (mine / "SKILL.md").write_text("---\nname: linear\ndescription: my own\n---\nMine.\n")
    (mine / "notes.md").write_text("my notes\n")
    before = tree(mine)
    out = navi("skills", "install", str(target))
    assert out.returncode == 0, out.stderr
    assert f"Skipped {mine}: a folder navi-int did not create is there" in out.stderr
    assert "linear" not in out.stdout.split(":", 1)[1].split(", ")
    assert tree(mine) == before and not (mine / MARKER).exists()
    # Once Linear is disconnected its usage skill is stale: the user's folder still stays.
    linear_connected.disconnect("linear")
    out = navi("skills", "install", str(target), "--json")
    report = json.loads(out.stdout)
    assert "connect-linear" in report["installed"] and report["removed"] == []
    assert tree(mine) == before


def test_a_stale_folder_we_created_is_removed(tmp_path: Path) -> None:
    target = tmp_path / "out"
    a, b = source_skill(tmp_path, "a"), source_skill(tmp_path, "b")
    assert install([a, b], target).installed == ["a", "b"]
    report = install([a], target)
    assert (report.installed, report.removed, report.kept, report.skipped) == (["a"], ["b"], {}, [])
    assert sorted(p.name for p in target.iterdir()) == ["a"]


def test_a_stale_folder_keeps_the_files_we_did_not_write(tmp_path: Path) -> None:
    target = tmp_path / "out"
    a, b = source_skill(tmp_path, "a"), source_skill(tmp_path, "b")
    install([a, b], target)
    (target / "b" / "notes.md").write_text("mine\n")
    (target / "b" / "drafts").mkdir()
    (target / "b" / "drafts" / "idea.md").write_text("also mine\n")
    report = install([a], target)
    assert report.removed == ["b"] and report.kept == {"b": ["drafts", "notes.md"]}
    assert tree(target / "b") == {"drafts/idea.md": b"also mine\n", "notes.md": b"mine\n"}
    # Without our marker the folder is the user's now: enabling b again does not take it back.
    again = install([a, b], target)
    assert [c.name for c in again.skipped] == ["b"] and again.installed == ["a"]
    assert tree(target / "b") == {"drafts/idea.md": b"also mine\n", "notes.md": b"mine\n"}


def test_a_file_we_wrote_and_the_user_edited_leaves_the_folder_alone(tmp_path: Path) -> None:
    target = tmp_path / "out"
    a = source_skill(tmp_path, "a")
    install([a], target)
    edited = (target / "a" / "SKILL.md").read_text() + "\nMy own tip.\n"
    (target / "a" / "SKILL.md").write_text(edited)
    a2 = source_skill(tmp_path, "a", {"SKILL.md": GOOD.format(n="a", extra="license: MIT\n")})
    before = tree(target / "a")
    report = install([a2], target)
    assert report.installed == [] and [c.name for c in report.skipped] == ["a"]
    assert "SKILL.md" in report.skipped[0].reason
    assert tree(target / "a") == before
    report = install([], target)  # stale, but edited: still left alone, and said so
    assert report.removed == [] and [c.name for c in report.skipped] == ["a"]
    assert tree(target / "a") == before


def test_an_update_replaces_only_our_files(tmp_path: Path) -> None:
    target = tmp_path / "out"
    v1 = source_skill(tmp_path, "a", {"scripts/old.sh": "echo old\n", "ref/gone.md": "x\n"})
    install([v1], target)
    (target / "a" / "notes.md").write_text("mine\n")
    (target / "a" / "scripts" / "my.sh").write_text("echo mine\n")
    text = GOOD.format(n="a", extra="license: MIT\n")
    v2 = source_skill(tmp_path, "a", {"SKILL.md": text, "scripts/new.sh": "echo new\n"})
    (v2.path / "scripts" / "new.sh").chmod(0o755)
    report = install([v2], target)
    assert report.installed == ["a"] and report.skipped == []
    assert tree(target / "a") == {
        MARKER: (target / "a" / MARKER).read_bytes(),
        "SKILL.md": text.encode(),
        "notes.md": b"mine\n",
        "scripts/my.sh": b"echo mine\n",
        "scripts/new.sh": b"echo new\n",
    }
    assert (target / "a" / "scripts" / "new.sh").stat().st_mode & stat.S_IXUSR
    assert not (target / "a" / "ref").exists()  # emptied by us: gone
    marker = json.loads((target / "a" / MARKER).read_text())
    assert sorted(marker["files"]) == ["SKILL.md", "scripts/new.sh"]
    assert agentskills(target / "a").returncode == 0


def test_a_user_file_where_a_new_version_would_write_is_a_clash(tmp_path: Path) -> None:
    target = tmp_path / "out"
    install([source_skill(tmp_path, "a")], target)
    (target / "a" / "extra.md").write_text("mine\n")
    before = tree(target / "a")
    report = install([source_skill(tmp_path, "a", {"extra.md": "ours\n"})], target)
    assert [c.name for c in report.skipped] == ["a"] and "extra.md" in report.skipped[0].reason
    assert tree(target / "a") == before


def test_markers_that_cannot_be_trusted_are_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "out"
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    legacy = target / "legacy"
    legacy.mkdir(parents=True)
    (legacy / "SKILL.md").write_text("old\n")
    (legacy / MARKER).write_text("installed by navi-int skills install\n")  # the old marker
    forged = target / "forged"
    forged.mkdir()
    (forged / MARKER).write_text(json.dumps({"files": {"../../outside.txt": "0" * 64}}))
    before = tree(target)
    report = install([source_skill(tmp_path, "legacy")], target)
    assert sorted(c.name for c in report.skipped) == ["forged", "legacy"]
    assert all("marker cannot be read" in c.reason for c in report.skipped)
    assert tree(target) == before and outside.read_text() == "precious\n"


def test_symbolic_links_are_not_followed(tmp_path: Path) -> None:
    target, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    install([source_skill(tmp_path, "a"), source_skill(tmp_path, "b")], elsewhere)
    target.mkdir()
    (target / "a").symlink_to(elsewhere / "a")  # wanted, but a link: a clash
    (target / "stale").symlink_to(elsewhere / "b")  # a link to a marked folder: not ours
    before = tree(elsewhere)
    report = install([source_skill(tmp_path, "a")], target)
    assert [c.name for c in report.skipped] == ["a"] and report.removed == []
    assert (target / "stale").is_symlink() and tree(elsewhere) == before
    # A file we wrote, replaced by a link: neither followed nor deleted.
    (elsewhere / "b" / "SKILL.md").unlink()
    (elsewhere / "b" / "SKILL.md").symlink_to(elsewhere / "a" / "SKILL.md")
    before = tree(elsewhere)
    stale = install([], elsewhere / ".." / "elsewhere")
    assert sorted(c.name for c in stale.skipped) == ["b"] and stale.removed == ["a"]
    assert (elsewhere / "b" / "SKILL.md").is_symlink()
    assert tree(elsewhere / "b") == {k[2:]: v for k, v in before.items() if k.startswith("b/")}


def test_a_skill_whose_name_is_a_path_is_not_installed(tmp_path: Path) -> None:
    odd = source_skill(tmp_path, "odd")
    report = install([Skill("../escaped", "d", odd.path)], tmp_path / "out")
    assert [c.name for c in report.skipped] == ["../escaped"] and report.installed == []
    assert not (tmp_path / "escaped").exists()


def test_a_directory_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = navi("skills", "install", str(blocker / "skills"))
    assert out.returncode == 1
    assert out.stderr.startswith("Error: Cannot write the skills into ")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


# --- secrets stay out of command arguments ----------------------------------------------------


def test_no_skill_puts_a_secret_in_a_commands_arguments(navi_registry: Registry) -> None:
    texts = {d.name: (d / "SKILL.md").read_text() for d in SHIPPED}
    for provider in navi_registry.providers():
        secrets = [f.key for f in provider.credentials if f.secret]
        for name, text in texts.items():
            for key in secrets:
                assert not re.search(rf"--field[ =]{key}=", text), (name, key)
        setup = provider.skill.setup if provider.skill else None
        if secrets and setup in texts:
            assert f"| navi-int connect {provider.id} --stdin" in texts[setup], setup


@pytest.mark.parametrize(
    ("provider", "values"),
    [
        ("linear", {"'<key>'": LINEAR_KEY}),
        ("notion", {"'<secret>'": NOTION}),
        ("slack", {"'<token>'": SLACK["botToken"], "'<T…>'": SLACK["teamId"]}),
    ],
)
def test_the_setup_skills_stdin_command_connects(
    provider: str, values: dict[str, str], navi_service: IntegrationService
) -> None:
    """The command a setup skill gives, run as written by bash (offline: --no-test)."""
    skill = next(d for d in SHIPPED if d.name == f"connect-{provider}")
    blocks = re.findall(r"```bash\n(.*?)```", (skill / "SKILL.md").read_text(), re.S)
    [command] = [
        line.strip()
        for b in blocks
        for line in b.splitlines()
        if "navi-int connect" in line and "--stdin" in line
    ]
    for placeholder, value in values.items():
        assert placeholder in command
        command = command.replace(placeholder, f"'{value}'")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(
        ["bash", "-c", f"{command} --no-test"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    expected = {"linear": {"apiKey": LINEAR_KEY}, "notion": {"token": NOTION}, "slack": SLACK}
    saved = navi_service.get_credentials(provider)
    assert {key: saved.reveal(key) for key in expected[provider]} == expected[provider]


# --- the conformance check holds third-party skills to the same rules ------------------------

ACME = """
from navi_integrations import IntegrationProvider, SkillConfig, hookimpl

ACME = IntegrationProvider(
    id="acme", name="Acme", description="Acme", auth_type="none",
    skill=SkillConfig(usage="acme", setup="connect-acme"),
)

@hookimpl
def describe():
    return ACME
"""


def test_conformance_holds_a_plugins_skills_to_the_specification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, navi_home: Path
) -> None:
    import importlib

    from navi_integrations.testing import check_provider, write_distribution

    site = tmp_path / "site"
    module = f"navi_acme_{tmp_path.name[-8:].replace('-', '_')}"
    write_distribution(site, "navi-acme", {"acme": module}, {f"{module}.__init__": ACME})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))  # the import-cost check imports it anew
    importlib.invalidate_caches()
    skills = site / module / "skills"
    prd_style = "---\nname: {n}\ndescription: Acme things.\ntools: []\n{extra}---\n"
    _write(skills, "acme", prd_style.format(n="acme", extra="mcp: acme\n"))
    _write(skills, "connect-acme", prd_style.format(n="connect-acme", extra=""))
    try:
        with pytest.raises(AssertionError) as failed, pytest.warns(SkillWarning):
            check_provider(Registry().load(), "acme", valid={})
        assert "a setup skill needs metadata.triggers" in str(failed.value)
        triggers = "triggers:\n  - connect acme\n"
        (skills / "connect-acme" / "SKILL.md").write_text(
            prd_style.format(n="connect-acme", extra=triggers)
        )
        with pytest.warns(SkillWarning) as got:
            check_provider(Registry().load(), "acme", valid={})  # warnings, not failures
        said = sorted(str(w.message) for w in got)
        assert [m.split(":")[0] for m in said] == ["skill acme", "skill connect-acme"]
        assert said[0].startswith("skill acme: 'mcp' is a PRD key") and "Fix: " in said[0]
        spec = "---\nname: {n}\ndescription: Acme things ({t}).\nmetadata:\n  {k}: {v}\n---\n"
        (skills / "acme" / "SKILL.md").write_text(spec.format(n="acme", t="", k="mcp", v="acme"))
        setup = spec.format(n="connect-acme", t="connect acme", k="triggers", v="connect acme")
        (skills / "connect-acme" / "SKILL.md").write_text(setup)
        with warnings.catch_warnings():
            warnings.simplefilter("error", SkillWarning)  # the specification's form: no warning
            check_provider(Registry().load(), "acme", valid={})
        (skills / "connect-acme" / "SKILL.md").write_text(setup.replace("triggers", "other"))
        with pytest.raises(AssertionError, match=r"a setup skill needs metadata\.triggers"):
            check_provider(Registry().load(), "acme", valid={})
    finally:
        sys.modules.pop(module, None)
