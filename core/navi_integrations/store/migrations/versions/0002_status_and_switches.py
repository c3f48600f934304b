"""Enable/usage/error columns on credentials; health status; per-scope switches (PRD v2).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("last_used_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text, nullable=True))
        batch.add_column(sa.Column("error_count", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "integration_status",
        sa.Column("id", sa.String(320), primary_key=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="unknown"),
        sa.Column("last_check_at", sa.BigInteger, nullable=True),
        sa.Column("last_success_at", sa.BigInteger, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("metadata", sa.Text, nullable=True),
        sa.UniqueConstraint("provider", "project_id", name="uq_status_scope"),
    )
    op.create_table(
        "integration_defaults",
        sa.Column("id", sa.String(320), primary_key=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("enabled", sa.Boolean, nullable=True),
        sa.Column("mcp_enabled", sa.Boolean, nullable=True),
        sa.Column("skill_enabled", sa.Boolean, nullable=True),
        sa.UniqueConstraint("provider", "project_id", name="uq_defaults_scope"),
    )


def downgrade() -> None:
    op.drop_table("integration_defaults")
    op.drop_table("integration_status")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("error_count")
        batch.drop_column("last_error")
        batch.drop_column("last_used_at")
        batch.drop_column("enabled")
