"""``navi-int gateway``: one MCP server for the agent, in front of every enabled provider."""

from __future__ import annotations

from typing import Any

import click

from ._common import BadInput, project_option, service


def _gateway_module() -> Any:
    try:
        from .. import gateway
    except ModuleNotFoundError as exc:
        raise BadInput(
            f"the gateway needs the 'gateway' extra ({exc.name} is missing): "
            "pip install 'navi-integrations[gateway]'"
        ) from None
    return gateway


@click.command()
@project_option
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio: the agent runtime launches this command; http: serve streamable HTTP.",
)
@click.option("--port", default=3002, show_default=True, help="HTTP port on 127.0.0.1 (0: any).")
def gateway(project_id: str | None, transport: str, port: int) -> None:
    """Serve one MCP server fronting every connected, enabled, MCP-enabled provider.

    Tools are named <provider>__<tool>; credentials stay here (the agent never
    sees one); every call is retried, refreshed and recorded by the core's
    recovery and health rules. Over http, clients send
    Authorization: Bearer $(navi-int api-token). Needs navi-integrations[gateway].
    """
    module = _gateway_module()
    svc = service()
    svc.store  # noqa: B018  (open and migrate the store before serving)
    front = module.Gateway(svc, project_id=project_id)
    if transport == "stdio":
        import anyio

        anyio.run(front.run_stdio)
        return
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise BadInput(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    sock.listen(128)
    from ..loopback import api_token_path

    app = front.asgi_app()  # reads the API token, creating it (0600) the first time
    click.echo(f"MCP gateway: http://127.0.0.1:{sock.getsockname()[1]}/mcp", err=True)
    # How to get in, never the token itself: this output often lands in logs.
    click.echo(
        "  Clients send Authorization: Bearer $(navi-int api-token) "
        f"(the API's token, in {api_token_path()}). Stop with Ctrl-C.",
        err=True,
    )
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
