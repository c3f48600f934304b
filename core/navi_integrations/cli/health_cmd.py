"""``navi-int test`` and ``navi-int doctor``: is it working, and if not, what to do."""

from __future__ import annotations

import platform
import shutil
import sys
from typing import TYPE_CHECKING, Any

import click

from ..errors import NaviError
from ._common import (
    advice_line,
    catalog,
    echo_json,
    json_option,
    project_option,
    scope_text,
    service,
)

if TYPE_CHECKING:
    from ..results import TestResult


@click.command("test")
@click.argument("provider_id", metavar="PROVIDER", required=False)
@project_option
@click.option("--all", "check_all", is_flag=True, help="Check every connected provider at once.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per check.")
@json_option
def test(
    provider_id: str | None, project_id: str | None, check_all: bool, timeout: float, as_json: bool
) -> None:
    """Check that PROVIDER's credentials work (exit 0 healthy, 1 otherwise)."""
    if bool(provider_id) == check_all:
        raise click.UsageError("give a PROVIDER or --all")
    svc = service()
    if provider_id:
        results = [svc.test(provider_id, project_id=project_id, timeout=timeout)]
    else:

        def progress(_result: TestResult, done: int, total: int) -> None:
            if not as_json:
                click.echo(f"\r  checked {done}/{total}", nl=False, err=True)

        results = svc.test_all(project_id=project_id, timeout=timeout, progress=progress)
        if results and not as_json:
            click.echo("", err=True)
        if not results:
            click.echo(f"No provider is connected ({scope_text(project_id)}).")
            return
    results.sort(key=lambda r: r.provider)
    if as_json:
        echo_json({"results": [r.to_document() for r in results]})
    else:
        for result in results:
            if result.ok:
                click.echo(f"{result.provider}: healthy. {result.check.message}")
                continue
            click.echo(f"{result.provider}: {result.check.message}", err=True)
            click.echo(f"  {advice_line(result.action, result.advice)}", err=True)
    if not all(r.ok for r in results):
        sys.exit(1)


@click.command()
@project_option
@json_option
def doctor(project_id: str | None, as_json: bool) -> None:
    """A report of plugins, store, key, providers and tools, secrets redacted, for bug reports.

    Changes nothing (it never creates a key). Exits 1, after the whole
    report, when the store or the master key cannot be used.
    """
    from .._version import __version__
    from ..store.crypto import MasterKeyMissing

    report: dict[str, Any] = {
        "navi-integrations": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    found = catalog()
    report["plugins"] = [f"{p.name} ({p.distribution} {p.version})" for p in found.plugins]
    report["pluginProblems"] = [str(p) for p in found.problems]
    svc = service()
    unusable = False
    try:
        report["store"] = f"{svc.store!r} at revision {svc.store.current_revision()}"
    except NaviError as exc:
        report["store"] = f"unusable: {exc}"
        unusable = True
    try:
        key = svc.keys.current(create=False)
        report["masterKey"] = f"{key.key_id} from {svc.keys.description}"
    except MasterKeyMissing as exc:
        if exc.expected:
            report["masterKey"] = f"unusable: {exc}"
            unusable = True
        else:
            report["masterKey"] = f"none yet (created on the first connect): {svc.keys.description}"
    except NaviError as exc:  # a malformed key, a key file open to others, a locked keyring
        report["masterKey"] = f"unusable: {exc}"
        unusable = True
    providers: list[dict[str, Any]] = []
    if report["store"].startswith("unusable"):
        providers.append({"error": "not read: the store is unusable (see store)"})
    else:
        try:
            for item in svc.status(project_id=project_id):
                record = svc.health_record(item.provider, project_id=project_id)
                line = {
                    "provider": item.provider,
                    "connected": item.effective.credential_scope or "no",
                    "enabled": item.effective.enabled,
                    "health": item.health,
                    "lastError": record.last_error,
                    "errorCount": record.error_count,
                    "rateLimitedUntil": record.rate_limited_until,
                    "account": record.account,
                }
                providers.append(line)
        except NaviError as exc:
            providers.append({"error": str(exc)})
    report["providers"] = providers
    gh = shutil.which("gh")
    report["gh"] = gh or "not installed (needed by the github provider)"
    if as_json:
        echo_json(report)
    else:
        _print_report(report, project_id)
    if unusable:
        sys.exit(1)


def _print_report(report: dict[str, Any], project_id: str | None) -> None:
    for key in ("navi-integrations", "python", "platform", "store", "masterKey", "gh"):
        click.echo(f"{key}: {report[key]}")
    click.echo("plugins: " + ", ".join(report["plugins"]))
    for problem in report["pluginProblems"]:
        click.echo(f"  problem: {problem}")
    click.echo(f"providers ({scope_text(project_id)}):")
    for line in report["providers"]:
        if "error" in line:
            click.echo(f"  {line['error']}")
            continue
        extra = f" — {line['lastError']}" if line["lastError"] else ""
        account = f" as {line['account']}" if line["account"] else ""
        click.echo(
            f"  {line['provider']}: {line['health']}{account}, connected: {line['connected']}, "
            f"enabled: {'yes' if line['enabled'] else 'no'}{extra}"
        )
