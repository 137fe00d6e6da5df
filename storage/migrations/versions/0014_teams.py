"""Teams: conversation ids fit (personal chat ids run past 100 characters), so widen channel_id to 300.

The columns that store a conversation id: a question's channel, a conversation reference, an outbox
row's channel and a campaign event's channel. Widening keeps every stored value; on SQLite it runs
through batch_alter_table (a table copy), on PostgreSQL it is an ALTER COLUMN TYPE.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("question", "conversationreference", "outboxmessage", "campaignevent")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("channel_id", type_=sa.String(300), existing_type=sa.String(100))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("channel_id", type_=sa.String(100), existing_type=sa.String(300))
