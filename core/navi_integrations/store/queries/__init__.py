"""Every SQL statement of the library, in one package, over the tables alembic owns.

Reads return plain values read by column name; writes take the transaction
(``conn``) of the caller when they must happen inside one, so that sealing a
value and writing it, or re-reading a row before refreshing it, is atomic.
SQLAlchemy is imported by the methods that use it; the hot single-statement
reads go through :meth:`Store.fetch` (the driver, no ORM).

:class:`Queries` groups them by the rows they touch: credentials and switches
(:mod:`._credentials`), health (:mod:`._health`), keys, audit and change
detection (:mod:`._keys`). The fast read path's driver-level statements
(:mod:`navi_integrations.store.direct`) read the same tables.
"""

from __future__ import annotations

from ._base import CredentialRow, CredentialView, ScopeRows, now_ms
from ._credentials import CREDENTIAL_VIEW_SQL, CredentialQueries
from ._health import RATE_LIMIT_SQL, STATUS_OF_SQL, HealthQueries
from ._keys import CHANGE_MARKER_SQL, ROTATION_LOCK, KeyQueries

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


class Queries(CredentialQueries, HealthQueries, KeyQueries):
    """The statements, bound to one store."""
