"""``navi-int list`` and ``navi-int show``: the providers and what they need.

Both answer from the provider catalog (documents with camelCase keys), so
they never import a plugin when the cache is fresh.
"""

from __future__ import annotations

from typing import Any

import click

from ._common import catalog, echo_json, json_option, table

_AUTH_LABEL = {"api_key": "API key", "oauth": "OAuth", "cli": "CLI", "none": "none"}


@click.command("list")
@json_option
def list_providers(as_json: bool) -> None:
    """List every available provider."""
    found = catalog()
    items: list[dict[str, Any]] = []
    for provider_id in found.provider_ids():
        doc = found.document(provider_id)
        items.append(
            {
                "provider": provider_id,
                "name": doc["name"],
                "description": doc["description"],
                "authType": doc["authType"],
                "source": found.owner(provider_id).distribution,
            }
        )
    if as_json:
        echo_json({"integrations": items})
        return
    rows = [
        [i["provider"], i["name"], _AUTH_LABEL.get(i["authType"], i["authType"]), i["description"]]
        for i in items
    ]
    click.echo(table(rows, ["id", "name", "auth", "description"]))
    if found.problems:
        click.echo(
            f"\n{len(found.problems)} plugin problem(s): run 'navi-int plugins' for details.",
            err=True,
        )


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@json_option
def show(provider_id: str, as_json: bool) -> None:
    """Show a provider: description, auth type, fields and setup guide."""
    doc = catalog().document(provider_id)
    if as_json:
        echo_json(doc)
        return
    click.echo(f"{doc['name']} ({doc['id']})")
    click.echo(doc["description"])
    click.echo(f"\nAuth: {_AUTH_LABEL.get(doc['authType'], doc['authType'])}")
    if doc.get("credentials"):
        click.echo("\nFields:")
        for f in doc["credentials"]:
            flags = [
                x
                for x, on in (("secret", f["type"] == "password"), ("optional", not f["required"]))
                if on
            ]
            line = f"  {f['key']}: {f['label']}" + (f" ({', '.join(flags)})" if flags else "")
            if f.get("patternHint"):
                line += f" — {f['patternHint']}"
            click.echo(line)
            if f.get("helpUrl"):
                click.echo(f"      get it at {f['helpUrl']}")
    if doc.get("oauth"):
        click.echo("\nServices: " + ", ".join(doc["oauth"]["services"]))
    if doc.get("cli"):
        click.echo(f"\nSign in with: {doc['cli']['authCommand']}")
    guide = doc.get("setupGuide") or {}
    if guide.get("summary") or guide.get("steps"):
        click.echo("\nSetup:")
        if guide.get("summary"):
            click.echo(f"  {guide['summary']}")
        for n, step in enumerate(guide.get("steps", []), 1):
            click.echo(f"  {n}. {step['title']}")
            if step.get("detail"):
                click.echo(f"     {step['detail']}")
            if step.get("url"):
                click.echo(f"     {step['url']}")
