"""The provider-plugin template: its size against navi-linear's, and render + install + test time.

Lines of code: non-blank, non-comment lines of the Python package, tests,
pyproject.toml and tox.ini, and the lines of the skills (Markdown). Times:
``copier copy`` (through copier's API), ``uv venv`` + ``uv pip install`` of
the core (this checkout, not editable) and the rendered plugin, and the
rendered plugin's own ``pytest`` run; median of ``--runs`` (default 3).
Run: python benchmarks/bench_template.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "provider-plugin"


def code_lines(folder: Path) -> dict[str, int]:
    """Counted lines per kind: python (no blanks, no comments), config, skills."""
    counts = {"python": 0, "config": 0, "skills": 0}
    for path in folder.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts or path.name.startswith("."):
            continue
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        kept = [ln for ln in lines if ln and not ln.startswith("#")]
        if path.suffix == ".py":
            counts["python"] += len(kept)
        elif path.name in ("pyproject.toml", "tox.ini"):
            counts["config"] += len(kept)
        elif path.name == "SKILL.md":
            counts["skills"] += len([ln for ln in lines if ln])
    return counts


def _uv() -> str:
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv"


def one_run(work: Path) -> tuple[dict[str, float], dict[str, int]]:
    """Render, install and test once in ``work``: the times, and the rendered line counts."""
    from copier import run_copy

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NAVI_", "VIRTUAL_ENV"))}
    plugin = work / "navi-acme"
    times: dict[str, float] = {}
    start = time.perf_counter()
    data = {"provider_id": "acme", "provider_name": "Acme CRM"}
    run_copy(str(TEMPLATE), str(plugin), data=data, defaults=True, quiet=True)
    times["render"] = time.perf_counter() - start
    start = time.perf_counter()
    venv = work / "venv"
    subprocess.run(
        [_uv(), "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env
    )
    python = str(venv / "bin" / "python")
    subprocess.run(
        [_uv(), "pip", "install", "-q", "--python", python, str(ROOT), str(plugin), "pytest"],
        check=True,
        env=env,
    )
    times["install"] = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "pytest", "-q"], cwd=plugin, check=True, env=env, stdout=subprocess.DEVNULL
    )
    times["tests"] = time.perf_counter() - start
    times["total"] = times["render"] + times["install"] + times["tests"]
    return times, code_lines(plugin)


def main() -> None:
    """Print the line counts and the median times."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    samples: dict[str, list[float]] = {}
    rendered: dict[str, int] = {}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            times, rendered = one_run(Path(tmp))
            for name, value in times.items():
                samples.setdefault(name, []).append(value)
    linear = code_lines(ROOT / "plugins" / "navi-linear")
    print("lines          template   navi-linear")
    for kind in ("python", "config", "skills"):
        print(f"  {kind:<12} {rendered[kind]:>8}   {linear[kind]:>11}")
    total_t, total_l = sum(rendered.values()), sum(linear.values())
    print(f"  {'total':<12} {total_t:>8}   {total_l:>11}")
    print(f"time to a passing rendered plugin (median of {runs}, seconds)")
    for name in ("render", "install", "tests", "total"):
        print(f"  {name:<12} {statistics.median(samples[name]):>8.2f}")


if __name__ == "__main__":
    main()
