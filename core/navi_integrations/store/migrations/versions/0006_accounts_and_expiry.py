"""Several accounts per provider and scope; the expiry of OAuth grants as indexed columns.

Revision ID: 0006
Revises: 0005

* ``credentials.account`` and ``integration_status.account`` name the
  connection; a scope's rows are unique per provider *and account*. A store
  made by earlier code had one connection per provider and scope: it becomes
  an account named after the identity its last health check reported (its
  ``metadata`` account, made a valid name), else ``default``. It is the only
  account there, so it is the default one: nothing else changes for it.
* ``integration_defaults.account``: the account a scope uses (``navi-int use``):
  the user scope's default, a project's binding. ``NULL``: unset.
* ``credentials.expires_at`` (the access token's expiry) and
  ``credentials.refresh_by`` (when an idle refresh token must be exercised),
  epoch ms, each indexed, so that ``navi-int refresh --due`` finds what is due
  by an index range, not a scan. The values they summarise are sealed, so this
  migration cannot read them: every existing row gets ``expires_at = 0``
  ("not known yet"), which the first ``refresh --due`` opens once and sets.
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def _name(metadata: str | None) -> str:
    """The account name of a migrated connection (the rule of scopes.account_name_from,
    copied: a migration must not change when the library does)."""
    try:
        identity = (json.loads(metadata) if metadata else {}).get("account")
    except (ValueError, AttributeError):
        identity = None
    if not isinstance(identity, str) or not identity.strip():
        return "default"
    slug = re.sub(r"[^A-Za-z0-9._@+-]+", "-", identity.strip()).strip("-._@+")[:64]
    return slug if slug and _ACCOUNT.fullmatch(slug) else "default"


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(
            sa.Column("account", sa.String(64), nullable=False, server_default="default")
        )
        batch.add_column(sa.Column("expires_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("refresh_by", sa.BigInteger, nullable=True))
        batch.drop_constraint("uq_credentials_scope", type_="unique")
        batch.create_unique_constraint(
            "uq_credentials_account", ["provider", "project_id", "account"]
        )
    with op.batch_alter_table("integration_status") as batch:
        batch.add_column(
            sa.Column("account", sa.String(64), nullable=False, server_default="default")
        )
        batch.drop_constraint("uq_status_scope", type_="unique")
        batch.create_unique_constraint("uq_status_account", ["provider", "project_id", "account"])
    with op.batch_alter_table("integration_defaults") as batch:
        batch.add_column(sa.Column("account", sa.String(64), nullable=True))
    op.create_index("ix_credentials_expires_at", "credentials", ["expires_at"])
    op.create_index("ix_credentials_refresh_by", "credentials", ["refresh_by"])

    conn = op.get_bind()
    status = sa.table(
        "integration_status",
        sa.column("provider"),
        sa.column("project_id"),
        sa.column("account"),
        sa.column("metadata"),
    )
    credentials = sa.table(
        "credentials",
        sa.column("provider"),
        sa.column("project_id"),
        sa.column("account"),
        sa.column("expires_at"),
    )
    conn.execute(credentials.update().values(expires_at=0))
    named = [
        (row.provider, row.project_id, _name(row.metadata))
        for row in conn.execute(
            sa.select(status.c.provider, status.c.project_id, status.c.metadata)
        )
    ]
    for provider, project_id, name in named:
        if name == "default":
            continue
        for table in (status, credentials):
            conn.execute(
                table.update()
                .where(table.c.provider == provider, table.c.project_id == project_id)
                .values(account=name)
            )


def downgrade() -> None:
    # Back to one connection per provider and scope: each scope keeps its default account
    # (the one its `use` names, else the oldest); the others are deleted.
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT c.id, c.provider, c.project_id, c.account, d.account AS chosen "
            "FROM credentials c LEFT JOIN integration_defaults d "
            "ON d.provider = c.provider AND d.project_id = c.project_id ORDER BY c.id"
        )
    ).all()
    keep: dict[tuple[str, str], tuple[int, str]] = {}  # (provider, scope) -> (id, account)
    for row in rows:  # oldest first: the oldest is kept unless the scope chose another
        key = (row.provider, row.project_id)
        if key not in keep or (row.account == row.chosen and keep[key][1] != row.chosen):
            keep[key] = (row.id, row.account)
    kept = {row_id for row_id, _ in keep.values()}
    drop = [row.id for row in rows if row.id not in kept]
    if drop:
        delete = sa.text("DELETE FROM credentials WHERE id IN :ids")
        conn.execute(delete.bindparams(sa.bindparam("ids", expanding=True)), {"ids": drop})
    conn.execute(
        sa.text(
            "DELETE FROM integration_status WHERE NOT EXISTS (SELECT 1 FROM credentials c "
            "WHERE c.provider = integration_status.provider "
            "AND c.project_id = integration_status.project_id "
            "AND c.account = integration_status.account)"
        )
    )
    op.drop_index("ix_credentials_refresh_by", "credentials")
    op.drop_index("ix_credentials_expires_at", "credentials")
    with op.batch_alter_table("integration_defaults") as batch:
        batch.drop_column("account")
    with op.batch_alter_table("integration_status") as batch:
        batch.drop_constraint("uq_status_account", type_="unique")
        batch.create_unique_constraint("uq_status_scope", ["provider", "project_id"])
        batch.drop_column("account")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint("uq_credentials_account", type_="unique")
        batch.create_unique_constraint("uq_credentials_scope", ["provider", "project_id"])
        batch.drop_column("refresh_by")
        batch.drop_column("expires_at")
        batch.drop_column("account")
