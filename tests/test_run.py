"""`navi-int run` as a process wrapper: signals, exit status, what the command can see."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from navi_integrations import IntegrationService

from .cli_helpers import navi

LINEAR_KEY = "lin_api_" + "Run0Wrapper" * 4
NAVI = [sys.executable, "-m", "navi_integrations.cli"]

# The command: reports its pid, then waits for a signal and exits 40 + its number.
WAITER = """
import os, signal, sys, time
def got(n, _):
    print("got", n, flush=True)
    sys.exit(40 + n)
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, got)
print("ready", os.getpid(), len(os.environ["LINEAR_API_KEY"]), flush=True)
time.sleep(30)
print("no signal", flush=True)
"""


@pytest.fixture
def linear(navi_service: IntegrationService) -> IntegrationService:
    navi_service.connect("linear", {"apiKey": LINEAR_KEY})
    return navi_service


def _start(*command: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*NAVI, "run", "--with", "linear", "--", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


def _ready(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    line = process.stdout.readline().split()
    assert line[:1] == ["ready"], (line, process.stderr.read() if process.stderr else "")
    assert line[2] == str(len(LINEAR_KEY))
    return int(line[1])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_navi_int_reaches_the_command(
    linear: IntegrationService, signum: signal.Signals
) -> None:
    process = _start(sys.executable, "-c", WAITER)
    pid = _ready(process)
    assert pid == process.pid  # navi-int became the command: nothing stands between
    os.kill(process.pid, signum)
    out, err = process.communicate(timeout=20)
    assert out.split() == ["got", str(int(signum))]
    assert process.returncode == 40 + signum, err


def test_ctrl_c_in_a_terminal_reaches_the_command_once(linear: IntegrationService) -> None:
    # The terminal sends SIGINT to the whole foreground process group.
    process = _start(sys.executable, "-c", WAITER, start_new_session=True)
    _ready(process)
    os.killpg(process.pid, signal.SIGINT)
    out, _ = process.communicate(timeout=20)
    assert out.split() == ["got", str(int(signal.SIGINT))]
    assert process.returncode == 40 + signal.SIGINT


def test_death_by_signal_is_the_callers_to_see(linear: IntegrationService) -> None:
    suicide = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    process = _start(sys.executable, "-c", suicide)
    process.communicate(timeout=20)
    assert process.returncode == -signal.SIGKILL  # died of the signal itself, not "exit 137"
    # ... which a shell reports as 128 + N, for SIGKILL and for an unhandled SIGTERM.
    shell = (
        '"$@" -c "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"; echo "$?"; '
        '"$@" -c "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"; echo "$?"'
    )
    out = subprocess.run(
        ["sh", "-c", shell, "sh", *NAVI, "run", "--with", "linear", "--", sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.split() == ["137", "143"], out.stderr


def test_the_command_gets_no_master_key_and_none_of_navis_files(
    navi_home: Path, navi_service: IntegrationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = secrets.token_hex(32)
    monkeypatch.setenv("NAVI_INTEGRATIONS_KEY", key)
    monkeypatch.setenv("NAVI_INTEGRATIONS_OLD_KEYS", secrets.token_hex(32))
    navi_service.connect("linear", {"apiKey": LINEAR_KEY})  # sealed with the env key
    report = (
        "import json, os\n"
        "fds = {}\n"
        "for fd in os.listdir('/proc/self/fd'):\n"
        "    try: fds[fd] = os.readlink(f'/proc/self/fd/{fd}')\n"
        "    except OSError: pass\n"
        "print(json.dumps({'pid': os.getpid(), 'env': dict(os.environ), 'fds': fds,\n"
        "    'proc_environ': open('/proc/self/environ', 'rb').read().decode('latin-1')}))\n"
    )
    # An fd the caller hands down stays the command's, as with any wrapper.
    read_end, write_end = os.pipe()
    try:
        process = _start(sys.executable, "-c", report, pass_fds=(write_end,))
        out, err = process.communicate(timeout=30)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert process.returncode == 0, err
    seen = json.loads(out)
    assert seen["pid"] == process.pid
    assert seen["env"]["LINEAR_API_KEY"] == LINEAR_KEY
    assert seen["env"]["NAVI_INTEGRATIONS_HOME"] == str(navi_home)
    assert "NAVI_INTEGRATIONS_KEY" not in seen["env"]
    assert "NAVI_INTEGRATIONS_OLD_KEYS" not in seen["env"]
    assert key not in seen["proc_environ"]  # exec'd with a new environment, not a copy
    assert str(write_end) in seen["fds"]
    assert not [t for t in seen["fds"].values() if str(navi_home) in t], seen["fds"]
    assert LINEAR_KEY not in err


def test_sigpipe_is_back_to_its_default_for_the_command(linear: IntegrationService) -> None:
    # Python ignores SIGPIPE; an ignored signal survives exec. `yes` would then see
    # EPIPE and complain instead of quietly dying when `head` has had enough.
    out = navi("run", "--with", "linear", "--", "sh", "-c", "yes | head -n 1")
    assert (out.returncode, out.stdout, out.stderr) == (0, "y\n", "")


def test_a_command_that_cannot_run_gets_one_line_and_the_shells_code(
    linear: IntegrationService, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("echo hi\n")
    bad_interpreter = tmp_path / "bad-interpreter"
    bad_interpreter.write_text("#!/no/such/interpreter\necho hi\n")
    bad_interpreter.chmod(0o755)
    cases = {
        "no-such-command-navi": (127, "Error: command not found: no-such-command-navi"),
        str(tmp_path / "missing"): (127, f"Error: cannot run {tmp_path}/missing: no such file"),
        str(bad_interpreter): (
            127,
            f"Error: cannot run {bad_interpreter}: its #! interpreter was not found",
        ),
        str(plain): (126, f"Error: cannot run {plain}: permission denied (is it executable?)"),
        str(tmp_path): (126, f"Error: cannot run {tmp_path}: it is a directory"),
    }
    for command, (code, line) in cases.items():
        out = navi("run", "--with", "linear", "--", command)
        assert (out.returncode, out.stderr.strip()) == (code, line), out.stderr


def test_too_long_for_exec_is_one_line(navi_home: Path) -> None:
    # One environment string over Linux's 128 KiB limit (MAX_ARG_STRLEN): E2BIG.
    folder = navi_home / "providers"
    folder.mkdir()
    (folder / "big.toml").write_text(
        'id = "big"\nname = "Big"\ndescription = "d"\nbase_url = "https://big.example"\n'
        '[[fields]]\nkey = "blob"\nlabel = "Blob"\n[env]\n'
        'BIG_BLOB = "{{blob}}{{blob}}{{blob}}{{blob}}"\n'
    )  # four copies of a value at the size limit (64 KiB) make one 256 KiB string
    IntegrationService().connect("big", {"blob": "x" * 60_000})
    out = navi("run", "--with", "big", "--", "true")
    assert out.returncode == 126
    assert out.stderr.strip() == (
        "Error: cannot run true: the arguments and environment are too long for the system "
        "(E2BIG); pass fewer or shorter arguments"
    )
