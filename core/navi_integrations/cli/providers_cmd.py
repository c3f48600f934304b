"""``navi-int list`` and ``navi-int show``: the providers and what they need.

Both answer from the provider catalog (documents with camelCase keys), so
they never import a plugin when the cache is fresh; ``list`` adds the state
read from the store through the direct read path
(:mod:`navi_integrations.store.direct`), or the service when that path
cannot answer alone (e.g. a database still to create or migrate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._common import (
    catalog,
    echo_guide,
    echo_json,
    json_option,
    project_option,
    scope_text,
    service,
    table,
)

if TYPE_CHECKING:
    from ..documents import AccountStatus, ProviderDocument

_AUTH_LABEL = {"api_key": "API key", "oauth": "OAuth", "cli": "CLI", "none": "none"}


@click.command("list")
@project_option
@json_option
def list_providers(project_id: str | None, as_json: bool) -> None:
    """List every provider with its connection, switches and health in the scope.

    --json prints the document of the PRD's GET /api/integrations/status.
    """
    from ..store import direct

    found = catalog()
    documents = {pid: found.document(pid) for pid in found.provider_ids()}
    if as_json:
        document = direct.status_document(documents, project_id)
        if document is None:
            document = service().status_document(project_id=project_id)
        echo_json(document)
        return
    items = direct.statuses(documents, project_id)
    if items is None:
        items = service().status(project_id=project_id)
    rows = []
    for item in items:
        state = item.effective
        rows.append(
            [
                item.provider,
                item.name,
                _AUTH_LABEL.get(item.auth_type, item.auth_type),
                state.credential_scope or "-",
                item.account_in_use or "-",
                _yes(state.enabled),
                _yes(state.mcp_enabled) if documents[item.provider].get("mcp") else "-",
                _yes(state.skill_enabled) if documents[item.provider].get("skill") else "-",
                item.health,
            ]
        )
    click.echo(
        table(
            rows,
            ["id", "name", "auth", "connected", "account", "enabled", "mcp", "skill", "health"],
        )
    )
    for item in items:
        if len(item.accounts) > 1:
            click.echo(
                f"  {item.provider} accounts: " + "; ".join(_account(a) for a in item.accounts)
            )
    for item in items:
        if item.rate_limited_until:
            click.echo(f"{item.provider}: rate limited until {_when(item.rate_limited_until)}")
    problems = found.problems
    if problems:
        click.echo(
            f"\n{len(problems)} plugin problem(s): run 'navi-int plugins' for details.", err=True
        )


def _account(account: AccountStatus) -> str:
    notes = ["project" if account.scope == "project" else "user"]
    notes += [n for n, on in (("default", account.default), ("in use", account.in_use)) if on]
    if not account.enabled:
        notes.append("disabled")
    return f"{account.name} ({', '.join(notes)}; {account.health})"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _when(epoch_ms: int) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
@json_option
def show(provider_id: str, project_id: str | None, as_json: bool) -> None:
    """Show a provider: description, auth type, fields, setup guide, and its health.

    --json prints the provider's IntegrationProvider document (no store access).
    """
    doc = catalog().document(provider_id)
    if as_json:
        echo_json(doc)
        return
    _show_text(doc)
    _show_health(provider_id, project_id)


def _show_health(provider_id: str, project_id: str | None) -> None:
    svc = service()
    state = svc.effective(provider_id, project_id=project_id)
    if not state.connected:
        click.echo(f"\nNot connected ({scope_text(project_id)}): navi-int connect {provider_id}")
        return
    record = svc.health_record(provider_id, project_id=project_id)
    status = record.status if state.enabled else "disabled"
    click.echo(f"\nHealth ({state.credential_scope} credentials): {status}")
    if record.account:
        click.echo(f"  Connected as {record.account}")
    if record.last_check_at:
        click.echo(f"  last check {_when(record.last_check_at)}", nl=False)
        success = _when(record.last_success_at) if record.last_success_at else "never"
        click.echo(f", last success {success}")
    if record.error_count or record.error_total:
        click.echo(f"  errors: {record.error_count} in a row, {record.error_total} in all")
    if record.last_error:
        click.echo(f"  last error: {record.last_error}")
    if record.rate_limited and record.rate_limited_until:
        click.echo(f"  rate limited until {_when(record.rate_limited_until)}")


def _show_text(doc: ProviderDocument) -> None:
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
        echo_guide(doc)
