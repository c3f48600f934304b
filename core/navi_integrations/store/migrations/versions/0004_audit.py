"""The audit log: token reads (and, for the gateway, tool calls), never a value.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("caller", sa.String(255), nullable=False, server_default=""),
        sa.Column("tool", sa.String(255), nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False, server_default="ok"),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_at", "audit")
    op.drop_table("audit")
