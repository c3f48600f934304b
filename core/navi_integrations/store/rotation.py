"""Master-key rotation: re-encrypt every credential under a new key, resumably.

Crash safety comes from ordering, not from one big transaction:

1. a new key becomes current only after the old one is saved as retired
   (:meth:`KeySource.promote`);
2. rows are re-encrypted in small batches; each row records the id of the key
   that sealed it, and an update only applies if the row still holds the
   value it was read with (a credential written meanwhile is never reverted);
3. writers seal inside their write transaction with the key current *then*,
   and promotion takes the writers' lock (SQLite's write lock; on PostgreSQL
   an advisory lock writers hold shared and rotation exclusively), so no
   value is sealed with a key after it stopped being current;
4. a retired key is dropped only under that lock, once no row uses it.

So at every instant each row names a key we still have. Running
``navi-int keys rotate`` again after a crash finishes the interrupted
rotation instead of starting a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import InvalidCiphertext
from .crypto import KeySource, associated_data, generate_key, open_sealed, seal

if TYPE_CHECKING:
    from .engine import Store
    from .queries import Queries

__all__ = ["RotationReport", "rotate"]


@dataclass
class RotationReport:
    """What a rotation did."""

    key_id: str
    resumed: bool
    reencrypted: int = 0
    dropped_keys: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def rotate(
    store: Store,
    queries: Queries,
    keys: KeySource,
    *,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> RotationReport:
    """Rotate (or finish rotating) the master key; see the module docstring."""
    with store.write() as conn:  # one rotation decides at a time, and no writer seals meanwhile
        queries.keys.lock_rotation(conn, exclusive=True)
        current = keys.current()
        stale = queries.keys.count_sealed_without(conn, current.key_id)
        resumed = stale > 0
        if not resumed:
            keys.promote(generate_key(keys.description))
            current = keys.current()
            stale = queries.keys.count_sealed_without(conn, current.key_id)
    report = RotationReport(current.key_id, resumed)
    known = keys.by_id()
    skip: set[int] = set()
    done = 0
    while True:
        rows = queries.keys.sealed_without(current.key_id, skip, batch_size)
        if not rows:
            break
        with store.write() as conn:
            for row in rows:
                aad = associated_data(row["provider"], row["scope"], row["project_id"] or None)
                key = known.get(row["key_id"])
                try:
                    if key is None:
                        raise InvalidCiphertext("unknown key")
                    plain = open_sealed(key, bytes(row["value"]), aad)
                except InvalidCiphertext:
                    skip.add(row["id"])
                    where = f"{row['provider']} ({row['project_id'] or 'user scope'})"
                    report.unreadable.append(where)
                    continue
                sealed = seal(current, plain, aad)
                if queries.keys.reseal(
                    conn,
                    row["id"],
                    old_value=bytes(row["value"]),
                    blob=sealed.blob,
                    key_id=sealed.key_id,
                ):
                    report.reencrypted += 1
                # else: rewritten meanwhile (with the current key): nothing to do
        done += len(rows)
        if progress is not None:
            progress(done, stale)
    with store.write() as conn:  # retire under the writers' lock: nobody is sealing with it
        queries.keys.lock_rotation(conn, exclusive=True)
        in_use = queries.keys.key_ids_in_use(conn)
        for key in keys.retired():
            if key.key_id not in in_use:
                keys.forget(key.key_id)
                report.dropped_keys.append(key.key_id)
    return report
