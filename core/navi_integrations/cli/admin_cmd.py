"""``navi-int db`` and ``navi-int keys``: the database schema and the master key."""

from __future__ import annotations

import click

from ._common import scope_text, service


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
    """Where the master key comes from, and which keys the stored credentials use.

    Never creates a key. Exits 1 when some credentials are sealed with a key
    that is not here, naming them (to restore that key, or to disconnect them).
    """
    from ..errors import Advice, MasterKeyError
    from ..store.crypto import MasterKeyMissing

    svc = service()
    source = svc.keys
    try:
        current: str | None = source.current(create=False).key_id
        click.echo(f"Master key: {current} from {source.description}")
    except MasterKeyMissing:
        current = None
        click.echo(f"Master key: none in {source.description}")
    retired = {k.key_id for k in source.retired()}
    click.echo(f"Retired keys kept: {', '.join(sorted(retired)) or 'none'}")
    counts = svc.queries.keys.key_counts()
    unknown = sorted(k for k in counts if k != current and k not in retired)
    where: dict[str, list[str]] = {}
    if unknown:  # name the credentials that cannot be opened
        for row in svc.queries.keys.sealed_without(current or "", (), 10_000):
            if row["key_id"] in unknown:
                label = f"{row['provider']} ({scope_text(row['project_id'] or None)})"
                where.setdefault(row["key_id"], []).append(label)
    for key_id, count in sorted(counts.items()):
        if key_id in unknown:
            names = where.get(key_id, [])
            more = f" and {count - 20} more" if count > 20 else ""
            shown = ", ".join(names[:20]) + more
            click.echo(f"  {count} credential(s) under {key_id} (key missing): {shown}")
        else:
            mark = " (current)" if key_id == current else " (retired)"
            click.echo(f"  {count} credential(s) under {key_id}{mark}")
    if unknown and current is None:
        raise MasterKeyMissing(source.description, unknown, source.restore_hint)
    if unknown:
        raise MasterKeyError(
            f"credentials under key {', '.join(unknown)} cannot be decrypted: no key here has "
            "that id",
            advice=Advice(
                "fix_store",
                hint=f"{source.restore_hint} (in NAVI_INTEGRATIONS_OLD_KEYS or the keys folder "
                "if it is an older key), or disconnect them",
            ),
        )


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
    import os
    from pathlib import Path

    from ..errors import MasterKeyError
    from ..store.crypto import generate_key, write_key_file

    target = Path(path)
    if target.is_symlink() and not target.exists():
        raise click.UsageError(
            f"{path} is a symbolic link to {os.readlink(target)}, which does not exist; "
            "choose a new file"
        )
    if target.exists():
        raise click.UsageError(f"{path} exists; choose a new file")
    key = generate_key("generated")
    try:
        written = write_key_file(target, key)
    except OSError as exc:
        raise MasterKeyError(f"cannot write the key to {path}: {exc.strerror}") from None
    if not written:  # appeared meanwhile: another process's file is left as it is
        raise MasterKeyError(f"{path} appeared while the key was written; nothing was written")
    click.echo(f"Wrote key {key.key_id} to {path}.")
