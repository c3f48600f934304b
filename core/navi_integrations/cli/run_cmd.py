"""``navi-int run``: a command with the providers' credentials in its environment.

navi-int *becomes* the command (``execve``) instead of starting it as a child.
Wrappers that keep a parent (tini, dumb-init, ``uv run``) need it for a reason
we do not have: reaping zombies as PID 1, or cleaning up afterwards. A parent
would have to forward SIGINT/SIGTERM/SIGHUP, wait, and turn a death by signal
into 128+N (losing the real signal for its own parent); and it would keep the
master key readable by the command in ``/proc/<ppid>/environ`` and in its
memory for as long as the command runs. After exec there is one process: the
terminal's Ctrl-C, ``kill`` and hang-ups reach the command itself, its exit
status (a code, or the signal that killed it: a shell shows 128+N) is the one
the caller sees, and nothing of navi-int is left to read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence

import click

from ._common import catalog, project_option, scope_text, service

#: Never handed to the command: with them it could decrypt every stored credential.
MASTER_KEY_VARS = ("NAVI_INTEGRATIONS_KEY", "NAVI_INTEGRATIONS_OLD_KEYS")


class _NotFound(click.ClickException):
    """The command was not found: exit code 127, as shells use."""

    exit_code = 127


class _CannotRun(click.ClickException):
    """The command was found but cannot be executed: exit code 126, as shells use."""

    exit_code = 126


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--with",
    "providers",
    required=True,
    metavar="P1,P2",
    help="Providers whose credentials to pass; PROVIDER:ACCOUNT for one of its accounts.",
)
@project_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(providers: str, project_id: str | None, command: tuple[str, ...]) -> None:
    """Run COMMAND with the providers' credentials in its environment; prints none of them.

    Each provider declares its variables (e.g. LINEAR_API_KEY, GOOGLE_ACCESS_TOKEN);
    OAuth tokens are refreshed first. navi-int then becomes COMMAND (exec): signals
    reach it directly and its exit status is passed through. The master key
    variables (NAVI_INTEGRATIONS_KEY, NAVI_INTEGRATIONS_OLD_KEYS) are not passed on.
    COMMAND not found exits 127; found but not executable, 126.
    """
    inherited = _open_fds()  # before navi opens anything: the caller's, kept for COMMAND
    from ..store import direct

    ids = [p.strip() for p in providers.split(",") if p.strip()]
    _check_specs(ids)
    env = dict(os.environ)
    filled = direct.env_for(ids, project_id, catalog().document)  # None: the service answers
    if filled is not None:
        env.update(filled)
    else:
        _fill_through_service(ids, project_id, env)
    for var in MASTER_KEY_VARS:
        env.pop(var, None)
    _exec(list(command), env, inherited)


def _check_specs(specs: list[str]) -> None:
    """Each entry is PROVIDER or PROVIDER:ACCOUNT (a valid name), each provider once: two
    accounts of one provider would set the same variables."""
    from .token_cmd import split_account

    seen: set[str] = set()
    for spec in specs:
        provider_id, _ = split_account(spec)
        if provider_id in seen:
            raise click.UsageError(
                f"--with names {provider_id} twice: its accounts would set the same variables"
            )
        seen.add(provider_id)


def _fill_through_service(ids: list[str], project_id: str | None, env: dict[str, str]) -> None:
    """Each provider's declared variables from the service (refreshing OAuth tokens first)."""
    from ..models import MissingValue
    from .token_cmd import split_account

    svc = service()
    for spec in ids:
        provider_id, account = split_account(spec)
        doc = catalog().document(provider_id)
        credentials = svc.get_credentials(provider_id, project_id=project_id, account=account)
        fields = doc.get("credentials") or []
        defaults = {f["key"]: f["default"] for f in fields if f.get("default")}
        optional = {f["key"] for f in fields if not f.get("required", True)}
        for var, template in (doc.get("env") or {}).items():
            try:
                value = credentials.fill_or_omit(template, defaults=defaults, optional=optional)
            except MissingValue as missing:
                raise click.ClickException(
                    f"{provider_id} has no '{missing.field}' value for {var} "
                    f"({scope_text(project_id)})"
                ) from None
            if value is not None:  # an optional field left empty: the variable is left out
                env[var] = value


def _exec(argv: Sequence[str], env: Mapping[str, str], inherited: set[int]) -> None:
    """Replace this process with ARGV; return only by raising why it could not run."""
    if os.name == "nt":  # no exec on Windows (os.exec* spawns and exits): wait for a child
        sys.exit(_spawn(argv, env))
    sys.stdout.flush()
    sys.stderr.flush()
    # Descriptors navi opened (database, key file, sockets) are close-on-exec
    # already; make sure of it for any a plugin's library opened otherwise.
    for fd in _open_fds() - inherited:
        with contextlib.suppress(OSError):  # the fd of the directory listing, closed since
            os.set_inheritable(fd, False)
    # Python ignores SIGPIPE and SIGXFSZ; ignored signals survive exec, so put
    # back the defaults the command expects (subprocess's restore_signals).
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    try:
        os.execvpe(argv[0], list(argv), env)
    except OSError as exc:
        raise _cannot_run(argv[0], exc) from None


def _spawn(argv: Sequence[str], env: Mapping[str, str]) -> int:
    try:
        return subprocess.run(list(argv), env=dict(env), check=False).returncode
    except OSError as exc:
        raise _cannot_run(argv[0], exc) from None


def _cannot_run(name: str, exc: OSError) -> click.ClickException:
    """One line saying why NAME could not be executed, with the shell's exit code."""
    path = exc.filename if isinstance(exc.filename, str) else name
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        if os.path.isfile(path):  # the file is there: its #! interpreter is not
            return _NotFound(f"cannot run {name}: its #! interpreter was not found")
        if os.sep in name:
            return _NotFound(f"cannot run {name}: no such file")
        return _NotFound(f"command not found: {name}")
    if exc.errno == errno.E2BIG:
        return _CannotRun(
            f"cannot run {name}: the arguments and environment are too long for the system "
            "(E2BIG); pass fewer or shorter arguments"
        )
    if os.path.isdir(path):
        return _CannotRun(f"cannot run {name}: it is a directory")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _CannotRun(f"cannot run {name}: permission denied (is it executable?)")
    if exc.errno == errno.ENOEXEC:
        return _CannotRun(
            f"cannot run {name}: not a program for this system (a script needs a #! line)"
        )
    return _CannotRun(f"cannot run {name}: {exc.strerror or type(exc).__name__}")


def _open_fds() -> set[int]:
    """The descriptors open in this process (empty where the system cannot list them)."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            return {int(name) for name in os.listdir(listing)}
        except (OSError, ValueError):
            continue
    return set()
