"""``sync`` and ``check``: a repository's manifest (``.navi/integrations.toml``) against
its project's scope.

Both find the manifest from the current directory (or ``--manifest``) and render
:class:`~navi_integrations.service.manifests.ManifestReport`; the workflow is the
service's (:class:`~navi_integrations.service.manifests.ProjectManifests`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import NaviError
from ._common import echo_json, json_option, project_option, service

if TYPE_CHECKING:
    from ..manifest import Manifest
    from ..service.manifests import ManifestItem, ManifestReport, ProjectManifests

manifest_option = click.option(
    "--manifest",
    "manifest_path",
    metavar="PATH",
    type=click.Path(path_type=Path),
    default=None,
    help="The manifest file, or a directory holding .navi/integrations.toml "
    "(default: the nearest one from the current directory).",
)


def _manifests() -> ProjectManifests:
    found: ProjectManifests = service().manifests
    return found


def _load(manifest_path: Path | None) -> Manifest:
    from ..errors import InvalidInput
    from ..manifest import MANIFEST_PATH, find_manifest, load_manifest

    if manifest_path is None:
        start = Path.cwd()
        found = find_manifest(start)
        if found is None:
            raise InvalidInput(
                f"no {MANIFEST_PATH.as_posix()} in {start} or its parents "
                "(up to the repository root)",
                hint="create one (README: 'Project manifest') or give --manifest PATH",
            )
        return load_manifest(found)
    if manifest_path.is_dir():
        manifest_path = manifest_path / MANIFEST_PATH
    return load_manifest(manifest_path)


def _run(
    action: str, manifest_path: Path | None, project_id: str | None, as_json: bool
) -> ManifestReport:
    try:
        manifest = _load(manifest_path)
        workflow = _manifests()
        if action == "sync":
            return workflow.sync(manifest, project_id=project_id)
        return workflow.plan(manifest, project_id=project_id)
    except NaviError as exc:
        if not as_json:
            raise
        # An agent reads stdout: the error as a document, with the usual exit code.
        echo_json({"ok": False, "error": exc.to_document()})
        raise SystemExit(exc.exit_code) from None


def _where(report: ManifestReport) -> str:
    try:
        shown = report.manifest.relative_to(Path.cwd())
    except ValueError:
        shown = report.manifest
    return f"{shown} (project {report.project_id})"


def _echo_item(item: ManifestItem) -> None:
    """``provider: message`` (``ok:`` before a ready one's), then the fix on its own line."""
    optional = "" if item.required else " (optional)"
    ready = "ok: " if item.ok else ""
    click.echo(f"{item.provider}{optional}: {ready}{item.message}")
    fix = item.fix
    if fix is not None and fix.command:
        click.echo(f"  Run: {fix.command}" + (f" ({fix.hint})" if fix.hint else ""))
    elif fix is not None and fix.hint:
        click.echo(f"  Fix: {fix.hint}")


_SWITCH_TEXT = {"enabled": ("enabled", "disabled"), "mcp": ("MCP on", "MCP off")}
_SWITCH_TEXT["skill"] = ("skill on", "skill off")


@click.command()
@project_option
@manifest_option
@json_option
def sync(project_id: str | None, manifest_path: Path | None, as_json: bool) -> None:
    """Apply the repository's manifest to its project: switches and preferred accounts.

    Sets in the project's scope only the switches the manifest sets (enabled,
    MCP, skill; the others keep inheriting), then prints, for each missing or
    unhealthy integration, the one command that fixes it. Exit 0 once applied,
    even when some are missing (navi-int check fails on those); 2 for a bad
    manifest. The project id is the manifest's, else derived from the
    repository (its origin remote as owner/name, else its folder's name);
    --project overrides it.
    """
    report = _run("sync", manifest_path, project_id, as_json)
    if as_json:
        echo_json(report.to_document())
        return
    click.echo(f"Synced {_where(report)}.")
    for applied in report.applied:
        said = [_SWITCH_TEXT[k][0 if on else 1] for k, on in applied.switches.items()]
        if applied.account:
            said.append(f"account {applied.account} in use")
        click.echo(f"  {applied.provider}: {', '.join(said)}")
    ready = [i for i in report.items if i.ok]
    if ready:
        click.echo(f"  ready: {', '.join(i.provider for i in ready)}")
    for item in report.problems:
        _echo_item(item)


@click.command()
@project_option
@manifest_option
@json_option
def check(project_id: str | None, manifest_path: Path | None, as_json: bool) -> None:
    """Check the repository's manifest against its project: exit 1 when a required
    integration is missing or unhealthy, 0 when all are ready (optional ones are
    reported and do not fail), 2 for a bad manifest.

    For CI and for an agent at session start: --json prints the report
    ({projectId, manifest, ok, integrations: [{provider, required, status,
    health, account, fix, message}]}). Nothing is changed (navi-int sync applies
    the manifest) and no secret is printed.
    """
    report = _run("check", manifest_path, project_id, as_json)
    if as_json:
        echo_json(report.to_document())
    else:
        required = [i for i in report.items if i.required]
        ready = sum(1 for i in required if i.ok)
        click.echo(f"{_where(report)}: {ready} of {len(required)} required integration(s) ready.")
        for item in report.items:
            _echo_item(item)
    if not report.ok:
        raise SystemExit(1)
