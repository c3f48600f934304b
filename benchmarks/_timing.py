"""Shared timing helpers: run commands alternately, report medians (machines here are noisy)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence


def median_runtimes(
    commands: Mapping[str, Sequence[str]],
    *,
    runs: int = 21,
    warmup: int = 2,
    env: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """Median wall time in seconds of each command, run in round-robin so noise hits all alike."""
    full_env = {**os.environ, **(env or {})}
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(warmup + runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, env=full_env, check=True, stdout=subprocess.DEVNULL)
            if i >= warmup:
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(title: str, baseline: str, results: Mapping[str, float], limit: float) -> bool:
    """Print each median and its ratio to the baseline; return whether all are within limit."""
    print(f"\n{title}")
    base = results[baseline]
    ok = True
    for name, value in results.items():
        ratio = value / base
        mark = "" if name == baseline else ("  ok" if ratio <= limit else f"  OVER {limit}x")
        ok = ok and (name == baseline or ratio <= limit)
        print(f"  {name:<40} {value * 1000:8.1f} ms  {ratio:5.2f}x{mark}")
    return ok
