"""``connect``, ``disconnect``, ``enable``, ``disable`` and ``settings``: managing connections."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..errors import CredentialsInvalid, NaviError
from ._common import (
    BadInput,
    _account_name,
    account_option,
    advice_line,
    catalog,
    echo_guide,
    echo_json,
    json_option,
    project_option,
    scope_text,
    service,
)
from ._input import parse_fields, read_stdin, warn_secret_fields

if TYPE_CHECKING:
    from ..documents import ProviderDocument


class _Events:
    """What ``connect`` tells: sentences, or with ``--json`` one JSON event per line
    (``url``, ``waiting``, then ``connected`` or ``failed``), each flushed at once so that an
    agent running the command can relay the sign-in URL while it waits."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, event: str, text: str, **data: object) -> None:
        if self.as_json:
            click.echo(json.dumps({"event": event, **data}, ensure_ascii=False))
        elif text:
            click.echo(text)

    def show_url(self, name: str, timeout: float) -> Callable[[str], None]:
        def show(url: str) -> None:
            # The URL alone on its line, flushed (click.echo flushes) before the wait.
            self.emit("url", f"Sign in to {name} at:", url=url)
            if not self.as_json:
                click.echo(f"  {url}")  # as 0.2 printed it: scripts look for "  http"
            self.emit(
                "waiting",
                f"Waiting up to {timeout:.0f} s for the browser...",
                timeoutSeconds=timeout,
            )

        return show


def _prompt(doc: ProviderDocument, project_id: str | None, assume_yes: bool) -> dict[str, str]:
    fields = doc.get("credentials", [])
    if not sys.stdin.isatty():
        needed = [f for f in fields if f["required"] and not f.get("default")]
        if not needed:  # nothing to ask (GitHub: gh holds the token): the defaults, as given
            return {}
        keys = " ".join(f"--field {f['key']}=..." for f in needed)
        raise BadInput(
            f"{doc['name']} needs values and stdin is not a terminal: give them with "
            f"{keys or '--field KEY=VALUE'} or as KEY=VALUE lines on stdin with --stdin"
        )
    click.echo(f"Connect {doc['name']} — {doc['description']}\n")
    echo_guide(doc)
    click.echo()
    values: dict[str, str] = {}
    for spec in fields:
        label = spec["label"] + ("" if spec["required"] else " (optional)")
        values[spec["key"]] = click.prompt(
            label,
            hide_input=spec["type"] == "password",
            default="" if not spec["required"] else None,
            show_default=False,
        ).strip()
    problems = service().registry.validate(doc["id"], values)
    if problems:  # say so before asking where to save them
        raise BadInput(CredentialsInvalid(doc["id"], problems).message)
    if not assume_yes:
        where = (
            f"for project {project_id} only"
            if project_id
            else "for all projects (user scope; use --project ID for one project)"
        )
        click.confirm(f"Save {doc['name']} credentials {where}?", default=True, abort=True)
    return values


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
@click.option("--field", "fields", multiple=True, metavar="KEY=VALUE", help="A credential value.")
@click.option(
    "--stdin", "from_stdin", is_flag=True, help="Read KEY=VALUE lines or JSON from stdin."
)
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask to confirm the scope.")
@click.option("--no-test", is_flag=True, help="Save without checking the credentials (offline).")
@click.option(
    "--service",
    "services",
    multiple=True,
    metavar="NAME",
    help="OAuth providers: a service to grant access to (repeat; default: all).",
)
@click.option("--no-browser", is_flag=True, help="OAuth providers: print the sign-in URL only.")
@click.option(
    "--account",
    "account",
    metavar="NAME",
    default=None,
    callback=_account_name,
    help="Store it as this account (default: named after the identity its check reports); "
    "a provider can hold several accounts in a scope.",
)
@click.option(
    "--timeout",
    default=300.0,
    show_default=True,
    help="OAuth providers: seconds to wait for the browser.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON event per line: url, waiting, then connected or failed.",
)
def connect(
    provider_id: str,
    project_id: str | None,
    fields: tuple[str, ...],
    from_stdin: bool,
    assume_yes: bool,
    no_test: bool,
    services: tuple[str, ...],
    no_browser: bool,
    account: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Connect PROVIDER: show its setup guide, ask for each value, test and store it.

    The credentials are tested against the provider before anything is
    saved; --no-test skips that (offline set-up). For scripts, pass values
    with --field KEY=VALUE or on stdin (--stdin): stdin keeps secrets out of
    the shell history and the process list. Nothing is asked when stdin is
    not a terminal: a missing value is an error naming the flag to give.

    A hosted MCP server (MCP authorization) needs no values: navi finds its
    authorization server, registers itself there (or uses --field
    clientId=...) and signs in through the browser if the server asks.
    """
    doc = catalog().document(provider_id)
    events = _Events(as_json)
    if fields:
        warn_secret_fields(doc, fields)
    try:
        if doc.get("oauth", {}).get("discovery") == "mcp":
            _connect_mcp(doc, project_id, fields, from_stdin, no_browser, timeout, events, account)
        elif doc["authType"] == "oauth":
            _connect_oauth(
                doc,
                project_id,
                fields,
                from_stdin,
                assume_yes,
                services,
                no_browser,
                timeout,
                events,
                account,
            )
        else:
            _connect_values(
                doc, project_id, fields, from_stdin, assume_yes, no_test, events, account
            )
    except (click.ClickException, NaviError) as exc:
        if not as_json:
            raise
        message = exc.message if isinstance(exc, NaviError) else exc.format_message()
        advice = str(exc.advice) if isinstance(exc, NaviError) and exc.advice else None
        events.emit("failed", "", provider=doc["id"], error=message, advice=advice)
        raise SystemExit(exc.exit_code) from None


def _connect_values(
    doc: ProviderDocument,
    project_id: str | None,
    fields: tuple[str, ...],
    from_stdin: bool,
    assume_yes: bool,
    no_test: bool,
    events: _Events,
    account: str | None,
) -> None:
    provider_id = doc["id"]
    if fields or from_stdin:
        values = {**(read_stdin() if from_stdin else {}), **parse_fields(fields)}
    else:
        values = _prompt(doc, project_id, assume_yes)
    try:
        result = service().connect(
            provider_id, values, project_id=project_id, test=not no_test, account=account
        )
    except CredentialsInvalid as exc:
        raise BadInput(exc.message) from None
    if not result.saved:
        assert result.check is not None
        if events.as_json:
            events.emit(
                "failed",
                "",
                provider=provider_id,
                error=result.check.message,
                advice=str(result.advice) if result.advice else None,
            )
            raise SystemExit(1)
        click.echo(f"Saved nothing: {result.check.message}.", err=True)
        if result.kind not in ("auth", "forbidden", "not_logged_in"):
            click.echo("  Use --no-test to save anyway (e.g. offline).", err=True)
        click.echo(f"  {advice_line(result.action, result.advice)}", err=True)
        raise SystemExit(1)
    who = f" as {result.account}" if result.account else ""
    untested = "" if result.tested or no_test else " Not tested: it has no health check."
    note = _default_note(provider_id, project_id, result.account_name)
    named = _named(result.account_name, result.account)
    events.emit(
        "connected",
        f"Connected {doc['name']}{who} ({scope_text(project_id)}){named}.{untested}{note}",
        provider=provider_id,
        account=result.account,
        accountName=result.account_name,
        project=project_id,
        tested=result.tested,
    )


def _named(name: str | None, identity: str | None) -> str:
    """ ", account 'NAME'" where the name says more than "as IDENTITY" already did."""
    from ..scopes import DEFAULT_ACCOUNT, account_name_from

    if (
        name is None
        or name == DEFAULT_ACCOUNT
        or (identity and name == account_name_from(identity))
    ):
        return ""
    return f", account '{name}'"


def _default_note(provider_id: str, project_id: str | None, name: str | None) -> str:
    """Where the account just stored is not the one the scope uses: which is, and how to
    switch."""
    status = service().status(project_id=project_id, providers=[provider_id])[0]
    in_use = status.account_in_use
    if name is None or in_use is None or in_use == name:
        return ""
    return (
        f" The scope still uses account '{in_use}'; to switch: "
        f"navi-int use {provider_id} {name}{_flag(project_id)}"
    )


def _flag(project_id: str | None) -> str:
    return f" --project {project_id}" if project_id else ""


def _connect_mcp(
    doc: ProviderDocument,
    project_id: str | None,
    fields: tuple[str, ...],
    from_stdin: bool,
    no_browser: bool,
    timeout: float,
    events: _Events,
    account: str | None,
) -> None:
    """A hosted MCP server: MCP authorization, then its first tools/list."""
    import webbrowser

    values = {**(read_stdin() if from_stdin else {}), **parse_fields(fields)}
    result = service().authorize_mcp(
        doc["id"],
        project_id=project_id,
        client_id=values.get("clientId", ""),
        client_secret=values.get("clientSecret", ""),
        timeout=timeout,
        open_browser=None if no_browser else webbrowser.open,
        show_url=events.show_url(doc["name"], timeout),
        account=account,
    )
    how = "signed in" if result.signed_in else "its stored authorization still works"
    if result.values is not None and not result.signed_in and "accessToken" not in result.values:
        how = "it asks for no authorization"
    events.emit(
        "connected",
        f"Connected {doc['name']} ({scope_text(project_id)}): {how}; {len(result.tools)} tool(s).",
        provider=doc["id"],
        project=project_id,
        accountName=result.account_name,
        signedIn=result.signed_in,
        registered=result.registered,
        scopes=result.scopes,
        tools=result.tools,
    )


def _connect_oauth(
    doc: ProviderDocument,
    project_id: str | None,
    fields: tuple[str, ...],
    from_stdin: bool,
    assume_yes: bool,
    services: tuple[str, ...],
    no_browser: bool,
    timeout: float,
    events: _Events,
    account: str | None,
) -> None:
    """OAuth: the OAuth client's id and secret, then the browser sign-in.

    Nothing is saved unless the whole sign-in succeeds.
    """
    import webbrowser

    svc = service()
    previous = svc.oauth_client(doc["id"], project_id=project_id, account=account)
    if fields or from_stdin:
        values = {**(read_stdin() if from_stdin else {}), **parse_fields(fields)}
    elif previous is not None and "clientId" in previous:
        if not events.as_json:
            click.echo(f"Using the OAuth client already saved for {doc['name']}.")
        values = {k: previous.reveal(k) for k in ("clientId", "clientSecret") if k in previous}
    else:
        values = _prompt(doc, project_id, assume_yes)
    try:
        result = svc.sign_in(
            doc["id"],
            client_id=values.get("clientId", ""),
            client_secret=values.get("clientSecret", ""),
            services=list(services) or None,
            project_id=project_id,
            timeout=timeout,
            open_browser=None if no_browser else webbrowser.open,
            show_url=events.show_url(doc["name"], timeout),
            account=account,
        )
    except CredentialsInvalid as exc:
        raise BadInput(exc.message) from None
    who = f" as {result.account}" if result.account else ""
    granted = f" Services: {', '.join(result.services)}." if result.services else ""
    named = _named(result.account_name, result.account)
    note = _default_note(doc["id"], project_id, result.account_name)
    events.emit(
        "connected",
        f"Connected {doc['name']}{who} ({scope_text(project_id)}){named}.{granted}{note}",
        provider=doc["id"],
        account=result.account,
        accountName=result.account_name,
        project=project_id,
        services=result.services,
    )


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
@account_option
def disconnect(provider_id: str, project_id: str | None, account: str | None) -> None:
    """Delete PROVIDER's stored credentials in the scope: ACCOUNT's, else the default
    account's (the next one becomes the default)."""
    svc = service()
    name = catalog().document(provider_id)["name"]
    if account is None:  # the scope's default account: name it in what is printed
        before = svc.status(project_id=project_id, providers=[provider_id])[0].accounts
        here = (a for a in before if a.default and (a.scope == "project") == bool(project_id))
        account = next((a.name for a in here), None)
    if not svc.disconnect(provider_id, project_id=project_id, account=account):
        which = f" account '{account}'" if account else ""
        click.echo(f"{name} had no credentials{which} in the {scope_text(project_id)}.")
        return
    which = f", account '{account}'" if account else ""
    click.echo(f"Disconnected {name} ({scope_text(project_id)}{which}).")
    after = svc.status(project_id=project_id, providers=[provider_id])[0]
    left = [a for a in after.accounts if (a.scope == "project") == bool(project_id)]
    default = next((a.name for a in left if a.default), None)
    if default is not None and account is not None and default != account:
        click.echo(f"  Account '{default}' is the default now.")
    if account is not None:
        bound = svc.bound_projects(provider_id, account)
        if bound and not any(a.name == account for a in after.accounts):
            click.echo(
                f"  Still bound to it: {', '.join('project ' + p for p in bound)}; there, "
                f"run: navi-int use {provider_id} ACCOUNT --project ID",
                err=True,
            )


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@click.argument("account", metavar="ACCOUNT", callback=_account_name)
@project_option
@json_option
def use(provider_id: str, account: str, project_id: str | None, as_json: bool) -> None:
    """Make ACCOUNT the one PROVIDER uses: the user scope's default account, or (with
    --project) the account that project is bound to, its own or the user's."""
    row_scope = service().use_account(provider_id, account, project_id=project_id)
    where = "project" if row_scope.project_id else "global"
    if as_json:
        echo_json(
            {
                "provider": provider_id,
                "projectId": project_id,
                "account": account,
                "accountScope": where,
            }
        )
        return
    name = catalog().document(provider_id)["name"]
    whose = "" if where == "project" or not project_id else " (the user's account)"
    click.echo(f"{scope_text(project_id).capitalize()} uses {name} account '{account}'{whose}.")


def _switch(provider_id: str, project_id: str | None, on: bool) -> None:
    svc = service()
    (svc.enable if on else svc.disable)(provider_id, project_id=project_id)
    where = scope_text(project_id) if project_id else "globally"
    click.echo(f"{'Enabled' if on else 'Disabled'} {provider_id} ({where}).")


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
def enable(provider_id: str, project_id: str | None) -> None:
    """Enable PROVIDER globally, or for one project with --project."""
    _switch(provider_id, project_id, on=True)


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
def disable(provider_id: str, project_id: str | None) -> None:
    """Disable PROVIDER globally, or for one project with --project."""
    _switch(provider_id, project_id, on=False)


@click.command()
@click.argument("provider_id", metavar="PROVIDER")
@project_option
@click.option("--mcp/--no-mcp", "mcp", default=None, help="Load the provider's MCP server.")
@click.option("--skill/--no-skill", "skill", default=None, help="Offer the provider's skills.")
def settings(
    provider_id: str, project_id: str | None, mcp: bool | None, skill: bool | None
) -> None:
    """Switch PROVIDER's MCP server and skills on or off in a scope."""
    if mcp is None and skill is None:
        raise click.UsageError("give --mcp/--no-mcp and/or --skill/--no-skill")
    svc = service()
    svc.update_settings(provider_id, project_id=project_id, mcp_enabled=mcp, skill_enabled=skill)
    state = svc.effective(provider_id, project_id=project_id)
    mcp_text = "on" if state.mcp_enabled else "off"
    skill_text = "on" if state.skill_enabled else "off"
    click.echo(f"{provider_id} ({scope_text(project_id)}): MCP {mcp_text}, skill {skill_text}.")
