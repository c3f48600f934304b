"""The store: engine, tables, migrations, queries, crypto, key sources, vault, rotation.

Nothing is imported here, so that the fast read path can use ``store.crypto``
without loading SQLAlchemy.
"""
