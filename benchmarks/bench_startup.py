"""Figure: `navi-int plugins --json` and `navi-int show linear --json`, whole process.

Target: median <= 1.5x `python -c "import click, pluggy, pydantic"` in the same run,
with the five plugins installed, and no httpx/authlib/sqlalchemy/sqlmodel/cryptography
imported by either command.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

from _timing import median_runtimes, report

HEAVY = ("httpx", "authlib", "sqlalchemy", "sqlmodel", "cryptography")


def heavy_imports(args: list[str]) -> list[str]:
    code = (
        "import sys, runpy; sys.argv = ['navi-int', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('navi_integrations.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return eval(out.stderr.strip().splitlines()[-1])  # a list literal we printed


def main() -> int:
    navi = [sys.executable, "-m", "navi_integrations.cli"]
    with tempfile.TemporaryDirectory() as home:
        env = {"NAVI_INTEGRATIONS_HOME": home}
        results = median_runtimes(
            {
                "baseline: import click, pluggy, pydantic": [
                    sys.executable,
                    "-c",
                    "import click, pluggy, pydantic",
                ],
                "navi-int plugins --json": [*navi, "plugins", "--json"],
                "navi-int show linear --json": [*navi, "show", "linear", "--json"],
            },
            env=env,
        )
    ok = report(
        "Start-up (median of 21, whole process)",
        "baseline: import click, pluggy, pydantic",
        results,
        1.5,
    )
    for args in (["plugins", "--json"], ["show", "linear", "--json"]):
        heavy = heavy_imports(args)
        print(f"  heavy modules imported by navi-int {' '.join(args)}: {heavy or 'none'}")
        ok = ok and not heavy
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
