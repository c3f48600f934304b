"""Running `navi-int` as a user would: a real process."""

from __future__ import annotations

import subprocess
import sys


def navi(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``navi-int ARGS`` in a new process (the current environment, with ``env`` on top),
    capturing its output."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "navi_integrations.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **env} if env else None,
        check=False,
    )


def table_row(text: str, provider: str) -> list[str]:
    """The columns of ``provider``'s row in a table ``navi-int list`` printed (widths vary
    with the longest id)."""
    [row] = [line.split("  ") for line in text.splitlines() if line.split(" ")[0] == provider]
    return [cell.strip() for cell in row if cell.strip()]


def in_terminal(
    *args: str, answers: list[tuple[str, str]], timeout: float = 30.0
) -> tuple[int, str]:
    """Run ``navi-int ARGS`` on a real pseudo-terminal, as a person at a keyboard would.

    ``answers``: (text to wait for, line to type) pairs, in order; each line is
    typed only once its prompt has appeared (a hidden prompt drops what was
    typed before it). Returns the exit code and everything the terminal showed.
    """
    import os
    import select
    import time

    main_fd, child_fd = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "navi_integrations.cli", *args],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        start_new_session=True,
    )
    os.close(child_fd)
    shown, pending = b"", list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(main_fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            while pending and pending[0][0].encode() in shown.split(b"\x00")[-1]:
                _prompt, line = pending.pop(0)
                shown += b"\x00"  # what is shown after this answer is looked at next
                os.write(main_fd, line.encode() + b"\n")
            if not ready and process.poll() is not None:
                break
        else:
            process.kill()
            raise AssertionError(f"navi-int {' '.join(args)} still running: {shown!r}")
        code = process.wait(timeout=timeout)
    finally:
        os.close(main_fd)
    return code, shown.replace(b"\x00", b"").decode(errors="replace").replace("\r\n", "\n")
