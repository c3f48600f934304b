"""``mcp-config``, ``run`` and ``skills``: what agents and scripts get."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ._common import Failed, echo_json, project_option, service


@click.command("mcp-config")
@project_option
@click.option(
    "--format",
    "runtime",
    type=click.Choice(["agent-sdk", "claude-code", "claude-desktop"]),
    default="agent-sdk",
    show_default=True,
    help="The runtime the config is for.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    help="Write it here (mode 0600), merged into the file's own servers and settings.",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --output: replace a file that is not a JSON object we can merge into.",
)
@click.option(
    "--env-refs",
    is_flag=True,
    help="Write ${VAR} references instead of secrets; print how to set each variable.",
)
@click.option(
    "--gateway",
    "use_gateway",
    is_flag=True,
    help="One server entry that runs `navi-int gateway` (no secret in the config).",
)
@click.option(
    "--headers-helper",
    is_flag=True,
    help="Claude Code: remote servers get a headersHelper (`navi-int token NAME --headers`) "
    "instead of headers, so their tokens never go stale in the file.",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="PROVIDER:ACCOUNT",
    help="Fill PROVIDER's server from this account (default: the one the scope uses).",
)
def mcp_config(
    project_id: str | None,
    runtime: str,
    output: str | None,
    force: bool,
    env_refs: bool,
    use_gateway: bool,
    headers_helper: bool,
    accounts: tuple[str, ...],
) -> None:
    """The MCP servers of every connected, enabled, MCP-enabled provider, for an agent runtime.

    Each uses the account the scope uses (the project's binding, else the
    default); --account PROVIDER:NAME picks another.

    With --output, an existing file keeps everything that is not ours: its
    other servers and its other settings; a server of the same name is replaced.
    With --gateway, one entry runs `navi-int gateway`, which fronts them all.
    """
    from .token_cmd import split_account

    chosen: dict[str, str] = {}
    for spec in accounts:
        provider_id, name = split_account(spec)
        if name is None:
            raise click.BadParameter(f"{spec!r}: give PROVIDER:ACCOUNT", param_hint="--account")
        chosen[provider_id] = name
    if chosen and (use_gateway or headers_helper):
        raise click.UsageError(
            "--account fills the servers' credentials: the gateway and headers helpers use "
            "the account the project is bound to (navi-int use)"
        )
    config = service().mcp_config(
        runtime=runtime,
        project_id=project_id,
        env_refs=env_refs,
        gateway=use_gateway,
        headers_helper=headers_helper,
        accounts=chosen,
    )
    for skipped in config.skipped:
        advice = f" {skipped.advice}" if skipped.advice else ""
        click.echo(f"Left out {skipped.provider}: {skipped.reason}.{advice}", err=True)
    if config.skipped and not config.servers:
        raise Failed("no MCP server could be built")
    if output:
        path = Path(os.path.realpath(output))  # through a symlink: keep the link, write its file
        kept = _write_merged(path, config.document, output, force)
        others = f", kept its {kept} other server(s)" if kept else ""
        click.echo(f"Wrote {len(config.servers)} MCP server(s) to {output}{others}.", err=True)
    else:
        click.echo(json.dumps(config.document, indent=2) + "\n", nl=False)
    if config.env:
        # Each command is shell-quoted (agent.mcp._refs): the lines are safe to eval or source.
        click.echo("# Set these before starting the agent:", err=True)
        for var, command in sorted(config.env.items()):
            click.echo(f'export {var}="$({command})"', err=True)


def _servers(document: dict[str, Any]) -> dict[str, Any]:
    inner = document.get("mcpServers", document)
    return inner if isinstance(inner, dict) else {}


def _write_merged(path: Path, document: dict[str, Any], shown: str, force: bool) -> int:
    """Merge our servers into the JSON object at PATH and write it; how many others were kept.

    A file that is missing or empty is created. One that is not a JSON
    object (or whose ``mcpServers`` is not one) is left alone unless ``force``.
    """
    wrapped = "mcpServers" in document  # claude-code / claude-desktop; agent-sdk is the mapping
    try:
        text = path.read_text(encoding="utf-8-sig")  # editors on Windows add a BOM
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        if not force:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise Failed(
                f"cannot read {shown} ({reason}); nothing written. "
                "Pass --force to replace it, or choose another --output"
            ) from None
        text = ""
    existing: Any = {}
    problem = ""
    if text.strip():
        try:
            existing = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = f"is not valid JSON (line {exc.lineno}, column {exc.colno})"
        else:
            if not isinstance(existing, dict):
                problem = f"holds a JSON {type(existing).__name__}, not an object"
            elif wrapped and not isinstance(existing.get("mcpServers", {}), dict):
                problem = '"mcpServers" is not an object'
    if problem:
        if not force:
            raise Failed(
                f"{shown} {problem}; nothing written. Fix it, or pass --force to replace it"
            )
        existing = {}
    servers = existing.setdefault("mcpServers", {}) if wrapped else existing
    ours = _servers(document)
    kept = len([name for name in servers if name not in ours])
    servers.update(ours)
    try:
        _write_private(path, json.dumps(existing, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise Failed(f"cannot write {shown}: {exc.strerror}") from None
    return kept


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600: a reader sees the old file or the new one, whole."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@click.group()
def skills() -> None:
    """Agent Skills: the framework's and each provider's."""


@skills.command("list")
@project_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def skills_list(project_id: str | None, as_json: bool) -> None:
    """The skills enabled in the scope: setup skills until connected, usage skills after."""
    try:
        found = service().skills(project_id=project_id)
    except ValueError as exc:
        raise _one_line(exc, f"A skill cannot be read: {exc}") from None
    if as_json:
        echo_json({"skills": [s.to_document() for s in found]})
        return
    for skill in found:
        click.echo(f"{skill.name}  ({_origin(skill.provider, skill.role)})  {skill.description}")


@skills.command("install")
@click.argument("directory", type=click.Path(file_okay=False))
@project_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def skills_install(directory: str, project_id: str | None, as_json: bool) -> None:
    """Copy exactly the skills enabled in the scope into DIRECTORY (one folder each).

    Only folders this command created (they hold a .navi-integrations marker)
    are updated or removed, and in them only the files it wrote. A folder of
    yours with a skill's name is left alone and reported (skipped).
    """
    try:
        report = service().install_skills(Path(directory), project_id=project_id)
    except ValueError as exc:
        raise _one_line(exc, f"A skill cannot be read: {exc}") from None
    except OSError as exc:
        where = exc.filename or directory
        message = f"Cannot write the skills into {directory} ({where}: {exc.strerror})."
        raise _one_line(exc, message) from None
    if as_json:
        echo_json(report.to_document())
        return
    names = f": {', '.join(report.installed)}" if report.installed else "."
    click.echo(f"Installed {len(report.installed)} skill(s) into {directory}{names}")
    if report.removed:
        click.echo(f"Removed {len(report.removed)} no longer enabled: {', '.join(report.removed)}")
    for name, files in sorted(report.kept.items()):
        click.echo(
            f"Kept {Path(directory) / name}: the {name} skill's files are removed, the folder"
            f" stays for the files navi-int did not write ({', '.join(files)}).",
            err=True,
        )
    for clash in report.skipped:
        click.echo(f"Skipped {clash.path}: {clash.reason}.", err=True)


@click.group()
def export() -> None:
    """Export the integrations for an agent runtime."""


@export.command("claude-plugin")
@click.argument("directory", type=click.Path(file_okay=False))
@project_option
@click.option("--name", default=None, help="The plugin's name [default: navi-integrations].")
@click.option(
    "--marketplace", default=None, help="The marketplace's name [default: NAME-marketplace]."
)
@click.option("--owner", default=None, help="The marketplace's owner [default: your user name].")
@click.option(
    "--headers-helper",
    is_flag=True,
    help="Each provider's own server (remote ones with a headersHelper) instead of the gateway.",
)
@click.option(
    "--command",
    "command",
    default="navi-int",
    show_default=True,
    help="How the plugin runs navi-int on its users' machines.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def export_claude_plugin(
    directory: str,
    project_id: str | None,
    name: str | None,
    marketplace: str | None,
    owner: str | None,
    headers_helper: bool,
    command: str,
    as_json: bool,
) -> None:
    """Write DIRECTORY as a Claude Code plugin and the marketplace listing it.

    It holds .claude-plugin/plugin.json and marketplace.json, .mcp.json (the
    gateway, or with --headers-helper each server, remote ones asking navi for
    fresh headers at each connect) and the skills enabled in the scope. No
    secret is written: commit it and your team runs `/plugin marketplace add`
    then `/plugin install`. Export again to update it (a new version).
    """
    try:
        done = service().claude_plugin(
            Path(directory),
            project_id=project_id,
            name=name,
            marketplace=marketplace,
            owner=owner,
            headers_helper=headers_helper,
            command=command,
        )
    except ValueError as exc:
        raise _one_line(exc, str(exc)) from None
    except OSError as exc:
        where = exc.filename or directory
        raise _one_line(exc, f"Cannot write {where}: {exc.strerror}.") from None
    if as_json:
        echo_json(done.to_document())
        return
    for skipped in done.skipped:
        advice = f" {skipped.advice}" if skipped.advice else ""
        click.echo(f"Left out {skipped.provider}: {skipped.reason}.{advice}", err=True)
    for clash in done.skills.skipped:
        click.echo(f"Skipped {clash.path}: {clash.reason}.", err=True)
    skills = ", ".join(done.skills.installed) or "none"
    click.echo(
        f"Wrote the Claude Code plugin {done.name} {done.version} to {directory}: "
        f"MCP server(s) {', '.join(done.servers) or 'none'}; skills {skills}."
    )
    if done.env:
        click.echo("Its users set these before starting Claude Code:")
        for var, run in sorted(done.env.items()):
            click.echo(f'  export {var}="$({run})"')
    click.echo("Install it in Claude Code with:")
    for line in done.to_document()["install"]:
        click.echo(f"  {line}")


def _one_line(exc: Exception, message: str) -> Exception:
    """The error as one line, or itself (with its traceback) under ``navi-int --debug``."""
    root = click.get_current_context().find_root()
    return exc if (root.obj or {}).get("debug") else click.ClickException(message)


def _origin(provider: str | None, role: str) -> str:
    return "framework" if provider is None else f"{provider}, {role}"
