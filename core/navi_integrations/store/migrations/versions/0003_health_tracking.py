"""Health tracking: shared rate-limit deadline and a running error total per scope.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integration_status") as batch:
        batch.add_column(sa.Column("rate_limited_until", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("error_total", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("integration_status") as batch:
        batch.drop_column("error_total")
        batch.drop_column("rate_limited_until")
