"""The ``navi-int`` command line.

Commands live in modules by topic and are imported only when invoked, so
``navi-int list`` never pays for what ``navi-int connect`` needs.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from ..errors import NaviError
from ._common import BadInput, Failed

__all__ = ["cli", "main"]

# command name -> "module:attribute", imported on first use.
_COMMANDS: dict[str, str] = {
    "plugins": "navi_integrations.cli.plugins_cmd:plugins",
    "list": "navi_integrations.cli.providers_cmd:list_providers",
    "show": "navi_integrations.cli.providers_cmd:show",
    "connect": "navi_integrations.cli.connections_cmd:connect",
    "disconnect": "navi_integrations.cli.connections_cmd:disconnect",
    "use": "navi_integrations.cli.connections_cmd:use",
    "refresh": "navi_integrations.cli.refresh_cmd:refresh",
    "enable": "navi_integrations.cli.connections_cmd:enable",
    "disable": "navi_integrations.cli.connections_cmd:disable",
    "settings": "navi_integrations.cli.connections_cmd:settings",
    "token": "navi_integrations.cli.token_cmd:token",
    "db": "navi_integrations.cli.admin_cmd:db",
    "keys": "navi_integrations.cli.admin_cmd:keys",
    "test": "navi_integrations.cli.health_cmd:test",
    "doctor": "navi_integrations.cli.health_cmd:doctor",
    "mcp": "navi_integrations.cli.mcp_cmd:mcp",
    "mcp-config": "navi_integrations.cli.agent_cmd:mcp_config",
    "run": "navi_integrations.cli.run_cmd:run",
    "skills": "navi_integrations.cli.agent_cmd:skills",
    "export": "navi_integrations.cli.agent_cmd:export",
    "serve": "navi_integrations.cli.serve_cmd:serve",
    "api-token": "navi_integrations.cli.serve_cmd:api_token",
    "login-link": "navi_integrations.cli.serve_cmd:login_link",
    "audit": "navi_integrations.cli.serve_cmd:audit",
    "gateway": "navi_integrations.cli.gateway_cmd:gateway",
    "sync": "navi_integrations.cli.manifest_cmd:sync",
    "check": "navi_integrations.cli.manifest_cmd:check",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NaviError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise (BadInput if exc.exit_code == 2 else Failed)(str(exc)) from None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="navi-integrations", prog_name="navi-int")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Manage the integrations your agents can use."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="navi-int")
