"""Master-key rotation: re-encrypt every credential under a new key, resumably.

Crash safety comes from ordering, not from one big transaction:

1. a new key becomes current only after the old one is saved as retired
   (:meth:`KeySource.promote`);
2. rows are re-encrypted in small batches; each row records the id of the key
   that sealed it, and an update only applies if the row still has the key
   it was read with;
3. a retired key is dropped only once no row uses it.

So at every instant each row names a key we still have. Running
``navi-int keys rotate`` again after a crash finishes the interrupted
rotation instead of starting a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from .crypto import InvalidCiphertext, associated_data, generate_key, open_sealed, seal

if TYPE_CHECKING:
    from ..service import IntegrationService

__all__ = ["RotationReport", "rotate"]

_ROTATION_LOCK = 0x6E617672  # advisory lock id on PostgreSQL


@dataclass
class RotationReport:
    """What a rotation did."""

    key_id: str
    resumed: bool
    reencrypted: int = 0
    dropped_keys: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def rotate(
    service: IntegrationService,
    *,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> RotationReport:
    """Rotate (or finish rotating) the master key; see the module docstring."""
    from .tables import CREDENTIALS as table

    store = service.store
    keys = service.keys
    with store.write() as conn:  # one rotation decides at a time
        if store.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ROTATION_LOCK})
        current = keys.current()
        stale = conn.execute(
            sa.select(sa.func.count()).where(table.c.key_id != current.key_id)
        ).scalar_one()
        resumed = stale > 0
        if not resumed:
            keys.promote(generate_key(keys.description))
            current = keys.current()
            stale = conn.execute(
                sa.select(sa.func.count()).where(table.c.key_id != current.key_id)
            ).scalar_one()
    report = RotationReport(current.key_id, resumed)
    known = keys.by_id()
    skip: set[int] = set()
    done = 0
    while True:
        with store.read() as conn:
            rows = conn.execute(
                sa.select(
                    table.c.id,
                    table.c.provider,
                    table.c.scope,
                    table.c.project_id,
                    table.c.value,
                    table.c.key_id,
                )
                .where(table.c.key_id != current.key_id, table.c.id.not_in(skip))
                .order_by(table.c.id)
                .limit(batch_size)
            ).all()
        if not rows:
            break
        with store.write() as conn:
            for row in rows:
                aad = associated_data(row.provider, row.scope, row.project_id or None)
                key = known.get(row.key_id)
                try:
                    if key is None:
                        raise InvalidCiphertext("unknown key")
                    plain = open_sealed(key, row.value, aad)
                except InvalidCiphertext:
                    skip.add(row.id)
                    where = f"{row.provider} ({row.project_id or 'user scope'})"
                    report.unreadable.append(where)
                    continue
                sealed = seal(current, plain, aad)
                updated = conn.execute(
                    table.update()
                    .where(table.c.id == row.id, table.c.key_id == row.key_id)
                    .values(value=sealed.blob, key_id=sealed.key_id)
                ).rowcount
                report.reencrypted += updated
        done += len(rows)
        if progress is not None:
            progress(done, stale)
    with store.read() as conn:
        in_use = set(conn.execute(sa.select(table.c.key_id).distinct()).scalars())
    for key in keys.retired():
        if key.key_id not in in_use:
            keys.forget(key.key_id)
            report.dropped_keys.append(key.key_id)
    return report
