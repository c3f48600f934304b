"""``navi-int db`` and ``navi-int keys``: the database schema and the master key."""

from __future__ import annotations

import click

from ._common import service


@click.group()
def db() -> None:
    """The credential database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations (also done automatically on first use)."""
    from ..store.engine import Store, database_url

    store = Store(database_url(), migrate=False)
    before, after = store.upgrade()
    if before == after:
        click.echo(f"The database is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database from revision {before or 'none'} to {after}.")


@click.group()
def keys() -> None:
    """The master key that encrypts every credential."""


@keys.command("status")
def keys_status() -> None:
    """Where the master key comes from, and which keys the stored rows use."""
    svc = service()
    current = svc.keys.current()
    click.echo(f"Master key: {current.key_id} from {svc.keys.description}")
    retired = [k.key_id for k in svc.keys.retired()]
    click.echo(f"Retired keys kept: {', '.join(retired) or 'none'}")
    for key_id, count in sorted(svc.queries.key_counts().items()):
        mark = " (current)" if key_id == current.key_id else ""
        click.echo(f"  {count} credential(s) under {key_id}{mark}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every credential under a new master key (resumes an interrupted rotation)."""
    svc = service()
    report = svc.rotate_keys(progress=lambda done, total: click.echo(f"  {done}/{total}", err=True))
    verb = "Finished the interrupted rotation to" if report.resumed else "Rotated to"
    click.echo(f"{verb} key {report.key_id}: {report.reencrypted} credential(s) re-encrypted.")
    if report.dropped_keys:
        click.echo(f"Dropped retired key(s) no longer used: {', '.join(report.dropped_keys)}")
    if report.unreadable:
        click.echo(
            "Could not decrypt (left as they are, their key is kept): "
            + ", ".join(report.unreadable),
            err=True,
        )
        raise SystemExit(1)


@keys.command("generate")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def keys_generate(path: str) -> None:
    """Write a new random key to PATH (mode 0600), e.g. for NAVI_INTEGRATIONS_KEY.

    The key is not printed, so it never lands in a terminal's scrollback:
    export NAVI_INTEGRATIONS_KEY="$(cat PATH)".
    """
    from pathlib import Path

    from ..store.crypto import generate_key, write_key_file

    target = Path(path)
    if target.exists():
        raise click.UsageError(f"{path} exists; choose a new file")
    key = generate_key("generated")
    write_key_file(target, key)
    click.echo(f"Wrote key {key.key_id} to {path}.")
