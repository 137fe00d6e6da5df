"""xAPI statements built from learning events: what was (or will be) sent to the Learning Record Store.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xapistatement",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("key", sa.String(length=300), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("verb", sa.String(length=20), nullable=False),
        sa.Column("object", sa.String(length=2000), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("batch", sa.String(length=300), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_xapistatement_user_id", "xapistatement", ["user_id"])
    op.create_index("ix_xapistatement_timestamp", "xapistatement", ["timestamp"])
    op.create_index("ix_xapistatement_batch", "xapistatement", ["batch"])


def downgrade() -> None:
    op.drop_index("ix_xapistatement_batch", table_name="xapistatement")
    op.drop_index("ix_xapistatement_timestamp", table_name="xapistatement")
    op.drop_index("ix_xapistatement_user_id", table_name="xapistatement")
    op.drop_table("xapistatement")
