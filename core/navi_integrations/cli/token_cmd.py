"""``navi-int token``: hand a credential to a script (the one command that prints a secret)."""

from __future__ import annotations

import click

from ._common import echo_json, json_option, project_option, service


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
@click.option("--field", "field", default=None, help="Print this credential value instead.")
@json_option
def token(provider_id: str, project_id: str | None, field: str | None, as_json: bool) -> None:
    """Print PROVIDER's token or API key for the scope (--json: {type, value, expiresAt})."""
    found = service().get_token(provider_id, project_id=project_id, field=field, caller="cli")
    if as_json:
        echo_json(found.to_document())
    else:
        click.echo(found.value.get_secret_value())
