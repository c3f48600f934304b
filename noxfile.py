"""Task runner. `nox` runs the default sessions (lint, types, tests, isolation).

nox -s tests              every test of the core and the plugins, in one venv
nox -s isolation          each plugin alone with the installed core, through its tox config
nox -s lint types         ruff; mypy --strict on the core, each plugin and docs/examples
nox -s bench              the benchmarks under benchmarks/
nox -s demo -- list       install everything and run a navi-int command
"""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "types", "tests", "isolation"]

ROOT = Path(__file__).parent
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
EDITABLE_PLUGINS = [arg for name in PLUGINS for arg in ("-e", f"plugins/{name}")]


def install_all(session: nox.Session, *extra: str) -> None:
    session.install("-e", ".[test]", *EDITABLE_PLUGINS, *extra)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the core's and every plugin's tests against editable installs."""
    install_all(session)
    session.run("pytest", *session.posargs)


@nox.session
@nox.parametrize("plugin", PLUGINS)
def isolation(session: nox.Session, plugin: str) -> None:
    """Install the core plus exactly one plugin in a fresh venv (tox) and run its tests."""
    session.install("tox>=4", "tox-uv")
    session.run("tox", "run", "-c", f"plugins/{plugin}", "--", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and formatting) and import-linter (the core's layers, DESIGN.md)."""
    session.install("ruff==0.17.6", "import-linter>=2.1", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", "--config", "pyproject.toml")


def type_groups() -> dict[str, list[str]]:
    """What `nox -s types` checks, one mypy run each: the core, every plugin (its package
    and its tests, run alone so that no two plugins' modules can clash) and the guide's
    example. Plain `mypy` ([tool.mypy] files) checks the same files in one run."""
    groups = {"core": ["core/navi_integrations"]}
    for name in PLUGINS:
        package = f"plugins/{name}/{name.replace('-', '_')}"
        groups[name] = [package, f"plugins/{name}/tests"]
    groups["docs/examples"] = ["docs/examples"]
    return groups


@nox.session
def types(session: nox.Session) -> None:
    """mypy --strict on the core, on each plugin and its tests, and on docs/examples."""
    install_all(session)
    counts: list[str] = []
    for group, paths in type_groups().items():
        # silent: the output is returned (and printed by nox if mypy fails)
        output = session.run("mypy", *paths, *session.posargs, silent=True)
        summary = str(output).strip().splitlines()[-1]  # "Success: no issues found in N ..."
        session.log(f"{group}: {summary}")
        found = re.search(r"in (\d+) source files?", summary)
        counts.append(f"{group} {found[1] if found else '?'}")
    session.log("mypy --strict, files checked per group: " + ", ".join(counts))


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark script; each prints its figures."""
    install_all(session)
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Install the core and the five plugins, then run `navi-int` with the given arguments."""
    install_all(session)
    session.run("navi-int", *(session.posargs or ["list"]))
