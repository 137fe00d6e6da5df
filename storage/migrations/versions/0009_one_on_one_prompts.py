"""1:1 prompts: the manager's prompt decided once per meeting occurrence (table `meetingprompt`).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meetingprompt",
        sa.Column("meeting_id", sa.String(length=300), sa.ForeignKey("meeting.id"), primary_key=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_key", sa.String(length=300), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meetingprompt")
