"""``navi-int refresh``: renew OAuth grants now, or every one that is due (``--due``)."""

from __future__ import annotations

import re

import click

from ._common import account_option, echo_json, json_option, project_option, scope_text, service

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``2h``, ``1d`` -> seconds (:class:`click.BadParameter` else)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if found is None:
        raise click.BadParameter(f"{text!r} is not a duration: use e.g. 90s, 30m, 2h or 1d")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


@click.command()
@click.argument("provider_id", metavar="[PROVIDER]", required=False)
@click.option("--due", is_flag=True, help="Renew every grant that is due (see --within).")
@click.option(
    "--within",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="With --due: renew grants that expire within this long (90s, 30m, 2h, 1d).",
)
@project_option
@account_option
@json_option
def refresh(
    provider_id: str | None,
    due: bool,
    within: str,
    project_id: str | None,
    account: str | None,
    as_json: bool,
) -> None:
    """Renew PROVIDER's OAuth grant now, or with --due every grant that expires soon and
    every idle refresh token due before its provider's inactivity limit (for cron; the
    HTTP server and the gateway run it periodically). Exits 1 when a grant could not be
    renewed, each printed with its fix."""
    svc = service()
    if due == (provider_id is not None):
        raise click.UsageError("give PROVIDER, or --due for every grant that is due")
    if provider_id is not None:
        svc.refresh_credentials(provider_id, project_id=project_id, account=account)
        if as_json:
            echo_json({"provider": provider_id, "projectId": project_id, "refreshed": True})
        else:
            click.echo(f"Refreshed {provider_id} ({scope_text(project_id)}).")
        return
    report = svc.refresh_due(within=parse_duration(within))
    if as_json:
        echo_json(report.to_document())
    else:
        click.echo(
            f"Looked at {report.rows_read} due grant(s): {report.refreshed} refreshed, "
            f"{len(report.failed)} failed ({report.seconds * 1000:.0f} ms)."
        )
        for item in report.failed:
            fix = f" {item.advice}" if item.advice is not None else ""
            click.echo(
                f"  {item.provider}:{item.account} ({scope_text(item.project_id)}): "
                f"{item.message}.{fix}",
                err=True,
            )
    if report.failed:
        raise SystemExit(1)
