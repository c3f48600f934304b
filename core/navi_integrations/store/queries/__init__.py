"""Every SQL statement of the library, in one package, over the tables alembic owns.

Reads return plain values read by column name; writes take the transaction
(``conn``) of the caller when they must happen inside one, so that sealing a
value and writing it, or re-reading a row before refreshing it, is atomic.
SQLAlchemy is imported by the methods that use it; the hot single-statement
reads go through :meth:`Store.fetch` (the driver, no ORM).

:class:`Queries` groups them by the rows they touch: credentials and switches
(:mod:`._credentials`), health (:mod:`._health`), keys, audit and change
detection (:mod:`._keys`). The statements written as SQL text, which the fast
read path (:mod:`navi_integrations.store.direct`) runs through the driver
alone, are in :mod:`.statements`; this package's names load on first use, so
importing that module costs nothing more.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import CredentialRow, CredentialView, ScopeRows, now_ms
    from ._keys import ROTATION_LOCK
    from ._queries import Queries
    from .statements import (
        CHANGE_MARKER_SQL,
        CREDENTIAL_VIEW_SQL,
        RATE_LIMIT_SQL,
        STATUS_OF_SQL,
    )

__all__ = [
    "CHANGE_MARKER_SQL",
    "CREDENTIAL_VIEW_SQL",
    "RATE_LIMIT_SQL",
    "ROTATION_LOCK",
    "STATUS_OF_SQL",
    "CredentialRow",
    "CredentialView",
    "Queries",
    "ScopeRows",
    "now_ms",
]

_HOMES = {
    "CredentialRow": "._base",
    "CredentialView": "._base",
    "ScopeRows": "._base",
    "now_ms": "._base",
    "ROTATION_LOCK": "._keys",
    "Queries": "._queries",
    "CHANGE_MARKER_SQL": ".statements",
    "CREDENTIAL_VIEW_SQL": ".statements",
    "RATE_LIMIT_SQL": ".statements",
    "STATUS_OF_SQL": ".statements",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
