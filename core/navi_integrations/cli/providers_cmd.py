"""``navi-int list`` and ``navi-int show``: the providers and what they need."""

from __future__ import annotations

from typing import Any

import click

from ..models import IntegrationProvider
from ._common import echo_json, json_option, registry, table

_AUTH_LABEL = {"api_key": "API key", "oauth": "OAuth", "cli": "CLI", "none": "none"}


def _summary(provider: IntegrationProvider, source: str) -> dict[str, Any]:
    return {
        "provider": provider.id,
        "name": provider.name,
        "description": provider.description,
        "authType": provider.auth_type,
        "source": source,
    }


@click.command("list")
@json_option
def list_providers(as_json: bool) -> None:
    """List every available provider."""
    reg = registry()
    items = []
    for provider in reg.providers():
        owner = reg.owner(provider.id)
        items.append(_summary(provider, owner.distribution))
    problems = reg.problems()
    if as_json:
        echo_json({"integrations": items})
        return
    rows = [
        [i["provider"], i["name"], _AUTH_LABEL.get(i["authType"], i["authType"]), i["description"]]
        for i in items
    ]
    click.echo(table(rows, ["id", "name", "auth", "description"]))
    if problems:
        click.echo(
            f"\n{len(problems)} plugin problem(s): run 'navi-int plugins' for details.", err=True
        )


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@json_option
def show(provider_id: str, as_json: bool) -> None:
    """Show a provider: description, auth type, fields and setup guide."""
    provider = registry().get(provider_id)
    if as_json:
        echo_json(provider.to_document())
        return
    click.echo(f"{provider.name} ({provider.id})")
    click.echo(provider.description)
    click.echo(f"\nAuth: {_AUTH_LABEL.get(provider.auth_type, provider.auth_type)}")
    if provider.credentials:
        click.echo("\nFields:")
        for f in provider.credentials:
            flags = ", ".join(
                x for x in ("secret" if f.secret else "", "optional" if not f.required else "") if x
            )
            line = f"  {f.key}: {f.label}" + (f" ({flags})" if flags else "")
            if f.pattern_hint:
                line += f" — {f.pattern_hint}"
            click.echo(line)
            if f.help_url:
                click.echo(f"      get it at {f.help_url}")
    if provider.oauth is not None:
        click.echo("\nServices: " + ", ".join(provider.oauth.services))
    if provider.cli is not None:
        click.echo(f"\nSign in with: {provider.cli.auth_command}")
    guide = provider.setup_guide
    if guide.summary or guide.steps:
        click.echo("\nSetup:")
        if guide.summary:
            click.echo(f"  {guide.summary}")
        for n, step in enumerate(guide.steps, 1):
            click.echo(f"  {n}. {step.title}")
            if step.detail:
                click.echo(f"     {step.detail}")
            if step.url:
                click.echo(f"     {step.url}")
