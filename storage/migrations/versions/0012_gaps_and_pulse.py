"""Content-gap clusters (sent to the experts, closed by a lesson) and purpose pulse answers.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gapcluster",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pulseanswer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "period"),
    )
    op.create_index("ix_pulseanswer_user_id", "pulseanswer", ["user_id"])
    op.create_index("ix_pulseanswer_period", "pulseanswer", ["period"])


def downgrade() -> None:
    op.drop_index("ix_pulseanswer_period", table_name="pulseanswer")
    op.drop_index("ix_pulseanswer_user_id", table_name="pulseanswer")
    op.drop_table("pulseanswer")
    op.drop_table("gapcluster")
