"""The statements of every group, bound to one store."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ._audit import AuditQueries
from ._credentials import CredentialQueries
from ._health import HealthQueries
from ._keys import KeyQueries

if TYPE_CHECKING:
    from ..engine import Store

__all__ = ["Queries"]

#: Where each statement of the flat 0.2 ``Queries`` went (kept working until 0.5.0).
_MOVED = {
    name: group
    for group, cls in (
        ("credentials", CredentialQueries),
        ("health", HealthQueries),
        ("keys", KeyQueries),
        ("audit", AuditQueries),
    )
    for name in vars(cls)
    if not name.startswith("_")
}


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

    def __getattr__(self, name: str) -> Any:
        group = _MOVED.get(name)
        if group is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        warnings.warn(
            f"Queries.{name} is deprecated and will be removed in 0.5.0; "
            f"use Queries.{group}.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(getattr(self, group), name)
