"""``navi-int test`` and ``navi-int doctor``: is it working, and if not, what to do."""

from __future__ import annotations

import platform
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

import click

from ..errors import NaviError
from ..results import HealthResult
from ._common import catalog, echo_json, json_option, project_option, scope_text, service

if TYPE_CHECKING:
    from ..service import IntegrationService


def _advice(provider_id: str, result: HealthResult, project_id: str | None) -> str:
    from ..health.recovery import classify

    doc = catalog().document(provider_id)
    cli = doc.get("cli") or {}
    error = classify(
        provider_id,
        doc["name"],
        doc["authType"],
        result,
        project_id=project_id,
        auth_command=cli.get("authCommand") if doc["authType"] == "cli" else None,
    )
    return f"[{error.action}] {error}"


def _check(
    svc: IntegrationService, provider_id: str, project_id: str | None, timeout: float
) -> HealthResult:
    try:
        return svc.check(provider_id, project_id=project_id, timeout=timeout)
    except NaviError as exc:  # not connected, disabled, cannot decrypt
        return HealthResult.failed("auth", str(exc).split(" Run:")[0])


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
        catalog().document(provider_id)
        targets = [provider_id]
    else:
        targets = [s.provider for s in svc.status(project_id=project_id) if s.effective.connected]
        if not targets:
            click.echo(f"No provider is connected ({scope_text(project_id)}).")
            return
    results: dict[str, HealthResult] = {}
    svc.registry  # noqa: B018 - load the plugins once, before the worker threads
    with ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
        futures = {pool.submit(_check, svc, t, project_id, timeout): t for t in targets}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if check_all and not as_json:
                click.echo(f"\r  checked {done}/{len(targets)}", nl=False, err=True)
    if check_all and not as_json:
        click.echo("", err=True)
    if as_json:
        echo_json(
            {
                "results": [
                    {
                        "provider": t,
                        "ok": r.ok,
                        "message": r.message,
                        "account": r.account,
                        "kind": r.kind,
                    }
                    for t, r in sorted(results.items())
                ]
            }
        )
    else:
        for target, result in sorted(results.items()):
            if result.ok:
                click.echo(f"{target}: healthy. {result.message}")
            else:
                click.echo(f"{target}: {result.message}", err=True)
                click.echo(f"  {_advice(target, result, project_id)}", err=True)
    if not all(r.ok for r in results.values()):
        sys.exit(1)


@click.command()
@project_option
@json_option
def doctor(project_id: str | None, as_json: bool) -> None:
    """A report of plugins, store, key, providers and tools, secrets redacted, for bug reports."""
    from .. import __version__

    report: dict[str, Any] = {
        "navi-integrations": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    found = catalog()
    report["plugins"] = [f"{p.name} ({p.distribution} {p.version})" for p in found.plugins]
    report["pluginProblems"] = [str(p) for p in found.problems]
    svc = service()
    try:
        report["store"] = f"{svc.store!r} at revision {svc.store.current_revision()}"
    except NaviError as exc:
        report["store"] = f"unusable: {exc}"
    try:
        report["masterKey"] = f"{svc.keys.current().key_id} from {svc.keys.description}"
    except NaviError as exc:
        report["masterKey"] = f"unusable: {exc}"
    providers = []
    try:
        for item in svc.status(project_id=project_id):
            record = svc.health.get(item.provider, project_id=project_id)
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
        return
    for key in ("navi-integrations", "python", "platform", "store", "masterKey", "gh"):
        click.echo(f"{key}: {report[key]}")
    click.echo("plugins: " + ", ".join(report["plugins"]))
    for problem in report["pluginProblems"]:
        click.echo(f"  problem: {problem}")
    click.echo(f"providers ({scope_text(project_id)}):")
    for line in providers:
        if "error" in line:
            click.echo(f"  {line['error']}")
            continue
        extra = f" — {line['lastError']}" if line["lastError"] else ""
        account = f" as {line['account']}" if line["account"] else ""
        click.echo(
            f"  {line['provider']}: {line['health']}{account}, connected: {line['connected']}, "
            f"enabled: {'yes' if line['enabled'] else 'no'}{extra}"
        )
