"""1:1 meetings found in calendars or a roster, and what each learner shares with their manager.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.String(length=300), primary_key=True),
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", sa.String(length=20), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_meeting_manager_id", "meeting", ["manager_id"])
    op.create_index("ix_meeting_report_id", "meeting", ["report_id"])
    op.create_index("ix_meeting_start_at", "meeting", ["start_at"])
    op.create_table(
        "sharingpreference",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("completions", sa.Boolean(), nullable=False),
        sa.Column("ratings", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sharingpreference")
    op.drop_index("ix_meeting_start_at", table_name="meeting")
    op.drop_index("ix_meeting_report_id", table_name="meeting")
    op.drop_index("ix_meeting_manager_id", table_name="meeting")
    op.drop_table("meeting")
