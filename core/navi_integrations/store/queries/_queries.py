"""The statements of every group, bound to one store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._audit import AuditQueries
from ._credentials import CredentialQueries
from ._health import HealthQueries
from ._keys import KeyQueries

if TYPE_CHECKING:
    from ..engine import Store

__all__ = ["Queries"]


class Queries:
    """The statements, bound to one store, one group per kind of row: ``credentials``
    (credentials and switches), ``health``, ``keys`` (rotation) and ``audit`` (with the
    change marker). Collaborators take the group they need."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.credentials = CredentialQueries(store)
        self.health = HealthQueries(store)
        self.keys = KeyQueries(store)
        self.audit = AuditQueries(store)
