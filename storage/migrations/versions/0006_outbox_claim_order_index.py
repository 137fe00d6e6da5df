"""Outbox claims take the oldest message first: an index on (status, created_at) keeps that cheap.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outboxmessage_status_created_at", "outboxmessage", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outboxmessage_status_created_at", table_name="outboxmessage")
