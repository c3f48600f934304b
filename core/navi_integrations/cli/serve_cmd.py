"""``navi-int serve``, ``navi-int api-token`` and ``navi-int audit``: the HTTP surface."""

from __future__ import annotations

import datetime
import socket
from typing import TYPE_CHECKING, Any

import click

from ._common import BadInput, echo_json, json_option, project_option, service, table

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
def serve(host: str, port: int, project_id: str | None, allow_remote: bool, log_level: str) -> None:
    """Serve the HTTP API and the settings page (needs navi-integrations[server]).

    Prints the page's URL with a one-time login code. API clients send
    Authorization: Bearer $(navi-int api-token).
    """
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
    click.echo(f"Settings page: {base}login?code={code}")
    click.echo("  (a one-time login link, valid 10 minutes; the API takes Authorization: Bearer")
    click.echo("   $(navi-int api-token)). Stop with Ctrl-C.", nl=True)
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


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
