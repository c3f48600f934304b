"""Figure: discovery and registration of 200 synthetic provider distributions vs five.

Each set of distributions is installed (dist-info + module, as an installer
writes them) into its own temporary venv, which sees the current environment
through a .pth file. Time measured inside a fresh process: Registry().load()
plus collecting the providers (import, register, describe, validate
models), with the cache bypassed. Target: 200 <= 3x five.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import venv
from pathlib import Path

from navi_integrations.testing import write_distribution

SOURCE = """
from navi_integrations import CredentialField, FieldProblem, IntegrationProvider, hookimpl

PROVIDER = IntegrationProvider(
    id="synthetic-{n}", name="Synthetic {n}", description="Benchmark provider {n}",
    auth_type="api_key",
    credentials=[CredentialField(key="apiKey", label="API key", pattern="k_[a-z0-9]+",
                                 pattern_hint="k_ and letters")],
    setup_guide={{"steps": [{{"title": "Get a key"}}]}},
)

@hookimpl
def describe():
    return PROVIDER

@hookimpl
def validate(provider, credentials):
    if provider.id != "synthetic-{n}":
        return None
    return []
"""

MEASURE = (
    "import time; t = time.perf_counter()\n"
    "from navi_integrations import Registry\n"
    "r = Registry().load(); n = len(r.providers())\n"
    "print(time.perf_counter() - t, n, len(r.problems()))"
)
REAL = "linear,notion,slack,google,github"


def make_venv(root: Path, count: int) -> Path:
    venv.EnvBuilder(with_pip=False).create(root)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)}))
    outer = sysconfig.get_path("purelib")
    (site / "_outer_env.pth").write_text(f"import site; site.addsitedir({outer!r})\n")
    for n in range(count):
        write_distribution(
            site,
            f"navi-synthetic-{n}",
            {f"synthetic-{n}": f"navi_synthetic_{n}"},
            {f"navi_synthetic_{n}": SOURCE.format(n=n)},
        )
    return root / "bin" / "python"


def measure(python: Path, runs: int) -> tuple[float, int]:
    env = {**os.environ, "NAVI_INTEGRATIONS_BLOCK_PLUGINS": REAL, "NAVI_INTEGRATIONS_NO_CACHE": "1"}
    samples = []
    found = 0
    for i in range(runs + 2):
        out = subprocess.run(
            [str(python), "-c", MEASURE], env=env, capture_output=True, text=True, check=True
        )
        seconds, found_s, problems = out.stdout.split()
        assert problems == "0", out.stdout
        found = int(found_s)
        if i >= 2:  # first runs compile the modules
            samples.append(float(seconds))
    return statistics.median(samples), found


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["NAVI_INTEGRATIONS_HOME"] = str(home)
        five = make_venv(Path(tmp) / "five", 5)
        many = make_venv(Path(tmp) / "many", 200)
        t5, n5 = measure(five, 15)
        t200, n200 = measure(many, 15)
    ratio = t200 / t5
    print("\nDiscovery + registration (median of 15, in a fresh process each)")
    print(f"  {n5:>3} providers  {t5 * 1000:8.1f} ms  1.00x")
    print(
        f"  {n200:>3} providers  {t200 * 1000:8.1f} ms  {ratio:5.2f}x  "
        f"{'ok' if ratio <= 3 else 'OVER 3x'}"
    )
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
