"""The org sync's record of who each source listed (Graph user id, sign-in name), so leavers are noticed.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orgmember",
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("principal_name", sa.String(length=320), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_orgmember_source", "orgmember", ["source"])
    op.create_index("ix_orgmember_external_id", "orgmember", ["external_id"])


def downgrade() -> None:
    op.drop_index("ix_orgmember_external_id", table_name="orgmember")
    op.drop_index("ix_orgmember_source", table_name="orgmember")
    op.drop_table("orgmember")
