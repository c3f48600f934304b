"""``navi-int serve``, ``navi-int api-token`` and ``navi-int audit``: the HTTP surface."""

from __future__ import annotations

import datetime
import socket
from typing import TYPE_CHECKING, Any

import click

from ._common import BadInput, Failed, echo_json, json_option, project_option, service, table

if TYPE_CHECKING:
    from ..service.audit import AuditKind  # click.Choice passes only these values


def _server_modules() -> Any:
    try:
        import uvicorn

        from .. import server

        server.create_app  # noqa: B018  (loads FastAPI: the package itself does not need it)
    except ModuleNotFoundError as exc:
        raise BadInput(
            f"the HTTP server needs the 'server' extra ({exc.name} is missing): "
            "pip install 'navi-integrations[server]'"
        ) from None
    return server, uvicorn


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=3001, show_default=True, help="Port (0: any free port).")
@project_option
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host that other machines can reach (the API hands out credentials).",
)
@click.option("--log-level", default="warning", show_default=True, help="uvicorn's log level.")
@click.option(
    "--login",
    "login_only",
    is_flag=True,
    help="Print a fresh login link from the server already running on this data dir, and exit.",
)
def serve(
    host: str,
    port: int,
    project_id: str | None,
    allow_remote: bool,
    log_level: str,
    login_only: bool,
) -> None:
    """Serve the HTTP API and the settings page (needs navi-integrations[server]).

    Prints the page's URL with a one-time login code; while it runs, `navi-int
    login-link` (or `serve --login`) prints a new one. API clients send
    Authorization: Bearer $(navi-int api-token).
    """
    if login_only:
        click.echo(_fresh_login_link()["url"])
        return
    server, uvicorn = _server_modules()
    from ..server.security import LOOPBACK_NAMES, is_loopback

    hosts = set(LOOPBACK_NAMES)
    if not is_loopback(host):
        if not allow_remote:
            raise BadInput(
                f"{host} is reachable from other machines and this API hands out credentials; "
                "pass --allow-remote to serve there anyway (behind TLS and a firewall)"
            )
        click.echo(
            f"Warning: serving on {host}, reachable from other machines. Anyone who gets the "
            "API token or a login link can read every credential.",
            err=True,
        )
        hosts.add(host.lower())
    svc = service()
    svc.store  # noqa: B018  (open and migrate the store before saying the server is up)
    settings = server.ServerSettings(hosts=frozenset(hosts), project_id=project_id)
    app = server.create_app(svc, settings)
    sock = _listen(host, port)
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    base = f"http://{shown}:{sock.getsockname()[1]}/"
    code = settings.sessions.new_code()
    announced = _announce(base)  # before the link is shown: `login-link` works from then on
    click.echo(f"Settings page: {base}login?code={code}")
    click.echo("  (a one-time login link, valid 10 minutes; the API takes Authorization: Bearer")
    click.echo("   $(navi-int api-token)). Stop with Ctrl-C.", nl=True)
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False)
    running = uvicorn.Server(config)
    shutdown = running.shutdown

    async def shutdown_then_withdraw(sockets: Any = None) -> None:
        await shutdown(sockets)
        _withdraw(announced)  # here: uvicorn re-raises SIGTERM once run() ends

    running.shutdown = shutdown_then_withdraw
    try:
        running.run(sockets=[sock])
    finally:
        _withdraw(announced)


def _server_file() -> Any:
    from ..paths import data_dir

    return data_dir() / "serve.json"


def _announce(base: str) -> Any:
    """Say where this server listens (``serve.json`` in the data dir, mode 0600), so that
    ``navi-int login-link`` finds it. Returns what to withdraw at exit."""
    import json
    import os

    from ..paths import private_dir, write_atomic

    path = _server_file()
    private_dir(path.parent)
    write_atomic(path, json.dumps({"url": base, "pid": os.getpid()}), private=True)
    return path


def _withdraw(path: Any) -> None:
    """Remove ``serve.json`` if it still names this process (another server may own it)."""
    import json
    import os

    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _fresh_login_link() -> dict[str, Any]:
    """Ask the server running on this data dir for a new one-time login link."""
    import json
    import os
    import urllib.error
    import urllib.request

    from ..server.security import api_token

    path = _server_file()
    none = (
        f"no `navi-int serve` is running on this data dir ({path.parent}): start one, "
        "it prints a login link"
    )
    try:
        running = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(running["url"]), int(running["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        raise Failed(none) from None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise Failed(none) from None
    except PermissionError:
        pass  # alive, another user's
    request = urllib.request.Request(
        f"{url}api/login-links",
        method="POST",
        headers={"Authorization": f"Bearer {api_token()}", "X-Navi-Caller": "login-link"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            document: dict[str, Any] = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise Failed(f"the server at {url} refused a login link (HTTP {exc.code})") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Failed(f"cannot reach the server at {url} ({reason}); {none}") from None
    return document


@click.command("login-link")
@json_option
def login_link(as_json: bool) -> None:
    """Print a fresh one-time login link to the settings page of the running `navi-int serve`
    (valid 10 minutes, spent by its first use)."""
    found = _fresh_login_link()
    if as_json:
        echo_json(found)
    else:
        click.echo(found["url"])


@click.command("api-token")
@click.option("--path", "show_path", is_flag=True, help="Print the file that holds it instead.")
def api_token(show_path: bool) -> None:
    """Print the HTTP API's bearer token (created on first use, mode 0600 in the data dir)."""
    from ..server.security import api_token as read_token
    from ..server.security import api_token_path

    click.echo(str(api_token_path()) if show_path else read_token())


@click.command()
@click.option("--limit", default=50, show_default=True, help="How many entries, newest first.")
@click.option("--provider", "provider_id", default=None, help="Only this provider.")
@click.option(
    "--kind", type=click.Choice(["token_read", "tool_call"]), default=None, help="Only this kind."
)
@json_option
def audit(limit: int, provider_id: str | None, kind: AuditKind | None, as_json: bool) -> None:
    """List token reads (and gateway tool calls): who, what, which scope, when; never a value."""
    entries = service().audit_log(limit=limit, kind=kind, provider=provider_id)
    if as_json:
        echo_json({"entries": entries})
        return
    if not entries:
        click.echo("No audited access yet.")
        return
    rows = []
    for entry in entries:
        when = datetime.datetime.fromtimestamp(entry["at"] / 1000, tz=datetime.UTC)
        rows.append(
            [
                when.strftime("%Y-%m-%d %H:%M:%S"),
                entry["kind"],
                entry["provider"],
                entry["projectId"] or "(user)",
                entry["caller"] or "-",
                entry["tool"] or "-",
                entry["outcome"],
            ]
        )
    click.echo(
        table(rows, ["time (UTC)", "kind", "provider", "scope", "caller", "tool", "outcome"])
    )
