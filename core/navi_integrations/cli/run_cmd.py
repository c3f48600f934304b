"""``navi-int run``: a command with the providers' credentials in its environment."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from ._common import catalog, project_option, scope_text, service


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--with",
    "providers",
    required=True,
    metavar="P1,P2",
    help="Providers whose credentials to pass.",
)
@project_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(providers: str, project_id: str | None, command: tuple[str, ...]) -> None:
    """Run COMMAND with the providers' credentials in its environment; prints none of them.

    Each provider declares its variables (e.g. LINEAR_API_KEY, GOOGLE_ACCESS_TOKEN);
    OAuth tokens are refreshed first. COMMAND's exit code is passed through.
    """
    from ..models import MissingValue

    svc = service()
    env = dict(os.environ)
    for provider_id in [p.strip() for p in providers.split(",") if p.strip()]:
        doc = catalog().document(provider_id)
        credentials = svc.get_credentials(provider_id, project_id=project_id)
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
    try:
        completed = subprocess.run(list(command), env=env, check=False)
    except FileNotFoundError:
        raise click.ClickException(f"command not found: {command[0]}") from None
    sys.exit(completed.returncode)
