"""Figure: the fast read path, whole processes, on the default SQLite store.

Targets, medians in the same run against
`python -c "import click, sqlite3, cryptography.hazmat.primitives.ciphers.aead"`:

* `navi-int token linear`             <= 1.5x, steady state and the first read after `connect`
* `navi-int list --json`              <= 2x
* `navi-int run --with linear -- true` <= 2x

and none of sqlalchemy, sqlmodel, pydantic, httpx, authlib imported by them.
Linear is connected once and read once first (so its `last_used_at` is
fresh, as in an agent's loop; the service writes it at most once a minute).

Bytecode: `PYTHONDONTWRITEBYTECODE` is removed from the environment of every
process here, so the warm-up runs write `.pyc` files and the measured runs
read them, as an installed package does.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from _timing import median_runtimes, report

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "httpx", "authlib")
BASELINE = "baseline: import click, sqlite3, AESGCM"
KEY = "lin_api_" + "Benchmark" * 4 + "wxyz"


def heavy_imports(navi: list[str], args: list[str]) -> list[str]:
    """The heavy top-level modules a `navi-int ARGS` process imports (-X importtime)."""
    out = subprocess.run(
        [navi[0], "-X", "importtime", *navi[1:], *args],
        capture_output=True,
        text=True,
        check=True,
    )
    found = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w]+)", out.stderr, re.M))
    return sorted(found & set(HEAVY))


def first_after_connect(navi: list[str], runs: int = 21) -> float:
    """Median wall time of the first `token` read after a `connect` (not timed) of a scope
    never read before (issue 17: it used to take the full path, 0.42-0.50 s)."""
    samples = []
    for i in range(runs + 2):
        project = f"first-{i}"
        subprocess.run(
            [*navi, "connect", "linear", "--no-test", "--stdin", "--project", project],
            input=f"apiKey={KEY}\n",
            text=True,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        start = time.perf_counter()
        subprocess.run(
            [*navi, "token", "linear", "--project", project], check=True, stdout=subprocess.DEVNULL
        )
        if i >= 2:
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module docstring
    navi = [sys.executable, "-m", "navi_integrations.cli"]
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(NAVI_INTEGRATIONS_HOME=home, NAVI_INTEGRATIONS_KEYRING="0")
        os.environ.pop("NAVI_INTEGRATIONS_DB_URL", None)
        subprocess.run(
            [*navi, "connect", "linear", "--no-test", "--stdin"],
            input=f"apiKey={KEY}\n",
            text=True,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run([*navi, "token", "linear"], check=True, stdout=subprocess.DEVNULL)
        commands = {
            BASELINE: [
                sys.executable,
                "-c",
                "import click, sqlite3, cryptography.hazmat.primitives.ciphers.aead",
            ],
            "navi-int token linear": [*navi, "token", "linear"],
            "navi-int list --json": [*navi, "list", "--json"],
            "navi-int run --with linear -- true": [*navi, "run", "--with", "linear", "--", "true"],
        }
        results = median_runtimes(commands)
        results["navi-int token linear (first after connect)"] = first_after_connect(navi)
        heavy = {
            name: heavy_imports(navi, argv[len(navi) :])
            for name, argv in commands.items()
            if name != BASELINE
        }
    title = "Fast read path (median of 21, whole process, SQLite)"
    ok = report(
        title + ": token <= 1.5x",
        BASELINE,
        {
            k: results[k]
            for k in (
                BASELINE,
                "navi-int token linear",
                "navi-int token linear (first after connect)",
            )
        },
        1.5,
    )
    ok = (
        report(
            title + ": list and run <= 2x",
            BASELINE,
            {k: v for k, v in results.items() if not k.startswith("navi-int token linear")},
            2.0,
        )
        and ok
    )
    for name, modules in heavy.items():
        print(f"  heavy modules imported by {name}: {modules or 'none'}")
        ok = ok and not modules
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
