"""Encrypted credentials per provider and scope (the PRD's original table).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("provider", "project_id", name="uq_credentials_scope"),
    )
    op.create_index("ix_credentials_key_id", "credentials", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_credentials_key_id", "credentials")
    op.drop_table("credentials")
