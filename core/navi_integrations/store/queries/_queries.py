"""The statements of every group, bound to one store."""

from __future__ import annotations

from ._credentials import CredentialQueries
from ._health import HealthQueries
from ._keys import KeyQueries

__all__ = ["Queries"]


class Queries(CredentialQueries, HealthQueries, KeyQueries):
    """The statements, bound to one store: credentials and switches, health, keys and audit."""
