"""The credential vault: values sealed and opened bound to their provider and scope.

Sealing happens inside the write transaction that stores the value
(:meth:`Vault.save`), reading the current key there: a rotation that
promotes a new key takes the same lock (SQLite's write lock; on PostgreSQL
an advisory lock writers share and rotation holds alone), so no row is ever
written with a key that rotation has already retired.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..scopes import Scope
from .crypto import KeySource, MasterKey, Sealed, associated_data, seal
from .reads import open_row

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .queries import Queries

__all__ = ["MAX_VALUE_BYTES", "Vault"]

#: The largest sealed credential set accepted (a credential is a few KB at most).
MAX_VALUE_BYTES = 64 * 1024


class Vault:
    """Seals and opens credential sets with the master key of a :class:`KeySource`."""

    def __init__(self, keys: KeySource) -> None:
        self.keys = keys
        self._known: dict[str, MasterKey] = {}
        self._lock = threading.Lock()

    def current_key(self) -> MasterKey:
        """The key new values are sealed with (read from its source each time)."""
        key = self.keys.current()
        with self._lock:
            self._known[key.key_id] = key
        return key

    def key_for(self, key_id: str) -> MasterKey | None:
        """The key with this id, if we have it (looked up again when unknown: maybe rotated)."""
        with self._lock:
            found = self._known.get(key_id)
        if found is None:
            every = self.keys.by_id()
            with self._lock:
                self._known.update(every)
                found = self._known.get(key_id)
        return found

    def seal(self, provider_id: str, scope: Scope, values: Mapping[str, str]) -> Sealed:
        """Encrypt a credential set for its row (empty values are dropped)."""
        plain = {k: v for k, v in values.items() if v != ""}
        return seal(
            self.current_key(),
            json.dumps(plain).encode(),
            associated_data(provider_id, scope.kind, scope.project_id),
        )

    def open(self, provider_id: str, scope: Scope, key_id: str, blob: bytes) -> dict[str, str]:
        """Decrypt a row's value (:func:`~navi_integrations.store.reads.open_row`):
        :class:`DecryptionFailed` for a wrong key or a damaged row."""
        return open_row(self.key_for_read, provider_id, scope.kind, scope.project_id, key_id, blob)

    def key_for_read(self, key_id: str) -> MasterKey | None:
        """:meth:`key_for`, without the lock when the key is known (every read)."""
        return self._known.get(key_id) or self.key_for(key_id)  # a dict read needs no lock

    def save(
        self,
        queries: Queries,
        conn: sa.Connection,
        provider_id: str,
        scope: Scope,
        values: Mapping[str, str],
        *,
        times: tuple[int | None, int | None] = (None, None),
    ) -> None:
        """Seal ``values`` with the current key and store them as the account
        ``scope.account``, inside ``conn``'s transaction; ``times``: the row's
        ``expires_at`` and ``refresh_by`` (:func:`~navi_integrations.store.reads.grant_times`)."""
        sealed = self.seal_in(queries, conn, provider_id, scope, values)
        queries.credentials.save_credential(
            conn,
            provider_id,
            scope,
            sealed.blob,
            sealed.key_id,
            expires_at=times[0],
            refresh_by=times[1],
        )

    def seal_in(
        self,
        queries: Queries,
        conn: sa.Connection,
        provider_id: str,
        scope: Scope,
        values: Mapping[str, str],
    ) -> Sealed:
        """Seal inside a write transaction, ordered with key rotation (see the module doc)."""
        queries.keys.lock_rotation(conn, exclusive=False)
        return self.seal(provider_id, scope, values)
