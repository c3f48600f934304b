"""The store: engine, tables, migrations, queries, crypto, key sources, vault, rotation.

Nothing is imported here, so that the fast read path can use ``store.crypto``
without loading SQLAlchemy. 0.1's flat ``navi_integrations.store`` module held
the names below; they still import from here until 0.5.0, with a
:class:`DeprecationWarning`.
"""

from typing import Any

# 0.1's names: name -> "module:attr" where it lives now (until 0.5.0).
_MOVED = {
    "SCHEMA_REVISION": f"{__name__}.schema:SCHEMA_REVISION",
    "database_url": f"{__name__}.schema:database_url",
    "Store": f"{__name__}.engine:Store",
    "StoreBusy": "navi_integrations.errors:StoreBusy",
    "StoreError": "navi_integrations.errors:StoreError",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from .. import _deprecation

        return _deprecation.moved(__name__, name, _MOVED[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
