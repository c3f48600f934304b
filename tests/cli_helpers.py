"""Running `navi-int` as a user would: a real process."""

from __future__ import annotations

import subprocess
import sys


def navi(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``navi-int ARGS`` in a new process (the current environment), capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
    )
