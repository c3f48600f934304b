"""``navi-int plugins``: which plugins are installed, and which failed to load."""

from __future__ import annotations

import click

from ._common import catalog, echo_json, json_option, table


@click.command()
@json_option
def plugins(as_json: bool) -> None:
    """List plugins with distribution, version, providers and load errors."""
    found = catalog()
    infos = found.plugins
    problems = found.problems
    if as_json:
        echo_json(
            {
                "plugins": [info.to_document() for info in infos],
                "errors": [problem.to_document() for problem in problems],
            }
        )
        return
    rows = [[i.name, i.distribution, i.version, ", ".join(i.providers) or "-"] for i in infos]
    click.echo(table(rows, ["plugin", "distribution", "version", "providers"]))
    if problems:
        click.echo("\nLoad errors:")
        for problem in problems:
            click.echo(f"  {problem}")
