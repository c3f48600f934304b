"""``navi-int token``: hand a credential to a script (the one command that prints a secret).

Agents call it in loops, so it answers through the direct read path
(:mod:`navi_integrations.store.direct`: the DB-API driver, no SQLAlchemy or
pydantic) and asks the service only when that path cannot answer alone
(a token to refresh, a write due, a schema to migrate, a CLI provider).
Either way the read is audited (caller ``cli``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._common import (
    BadInput,
    account_option,
    catalog,
    echo_json,
    json_option,
    project_option,
    service,
)

if TYPE_CHECKING:
    from ..documents import ProviderDocument


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
@account_option
@click.option("--field", "field", default=None, help="Print this credential value instead.")
@click.option(
    "--headers",
    is_flag=True,
    help="Print the headers of PROVIDER's remote MCP server as a JSON object (for a Claude "
    "Code headersHelper).",
)
@json_option
def token(
    provider_id: str,
    project_id: str | None,
    account: str | None,
    field: str | None,
    headers: bool,
    as_json: bool,
) -> None:
    """Print PROVIDER's token or API key for the scope (--json: {type, value, expiresAt}).

    PROVIDER:ACCOUNT (or --account) names one of its accounts; without, the
    account the scope uses (the project's binding, else the default)."""
    from ..store import direct

    provider_id, account = split_account(provider_id, account)
    doc = catalog().document(provider_id)
    if headers:
        _headers(doc, project_id, field, account)
        return
    if as_json:
        found = direct.token(doc, project_id=project_id, field=field, caller="cli", account=account)
        if found is None:
            found = service().get_token(
                provider_id, project_id=project_id, field=field, caller="cli", account=account
            )
        echo_json(found.to_document())
        return
    # The plain value needs no token document (one module of dataclasses less to load).
    value = direct.token_value(
        doc, project_id=project_id, field=field, caller="cli", account=account
    )
    if value is None:
        found = service().get_token(
            provider_id, project_id=project_id, field=field, caller="cli", account=account
        )
        value = found.value.get_secret_value()
    click.echo(value)


def split_account(spec: str, account: str | None = None) -> tuple[str, str | None]:
    """``linear:work`` -> ("linear", "work"); a plain id keeps ``account`` (``--account``)."""
    provider_id, colon, named = spec.partition(":")
    if not colon:
        return spec, account
    from ..errors import InvalidInput
    from ..scopes import check_account_name

    if account is not None and account != named:
        raise click.UsageError(f"{spec} names account '{named}', --account says '{account}'")
    try:
        return provider_id, check_account_name(named)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc)) from None


def _headers(
    doc: ProviderDocument, project_id: str | None, field: str | None, account: str | None
) -> None:
    import json

    from ..store import direct

    server = doc.get("mcp") or {}
    if field is not None:
        raise click.UsageError("--headers prints every header: it takes no --field")
    if server.get("transport", "stdio") == "stdio":
        raise BadInput(
            f"{doc['name']} has no remote MCP server: --headers is for one (see `navi-int mcp add`)"
        )
    found = direct.mcp_headers(doc, project_id=project_id, caller="cli", account=account)
    if found is None:
        found = service().mcp_headers(
            doc["id"], project_id=project_id, caller="cli", account=account
        )
    click.echo(json.dumps(found))
