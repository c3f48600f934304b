"""The failure kind of the last error, so that its advice is the right one later.

Revision ID: 0005
Revises: 0004

A stored error used to be re-classified from the status alone: a plugin's own
bug read back as a transient outage ("retry later"). The kind the recovery
rules gave it (``auth``, ``plugin``, ``rate_limited``…) is now kept beside it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integration_status") as batch:
        batch.add_column(sa.Column("error_kind", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integration_status") as batch:
        batch.drop_column("error_kind")
