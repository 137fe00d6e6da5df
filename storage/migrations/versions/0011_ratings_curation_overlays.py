"""Ratings (one per person and lesson), curated lessons and admins' pillar / impact overlays (issue 13).

Old "rating" feedback rows are copied into `rating`, the latest per person and lesson (their
relevance as role relevance, their clarity as strategic clarity); the feedback rows stay as history.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _copy_old_ratings() -> None:
    """The latest old rating per person and lesson (highest id wins), scores clamped to 1-5."""
    feedback = sa.table(
        "feedback",
        sa.column("id", sa.Integer()),
        sa.column("user_id", sa.Integer()),
        sa.column("content_id", sa.String()),
        sa.column("verdict", sa.String()),
        sa.column("relevance", sa.Integer()),
        sa.column("clarity", sa.Integer()),
        sa.column("comment", sa.Text()),
        sa.column("created_at", sa.DateTime(timezone=True)),  # typed, so SQLite's text reads as a datetime
    )
    query = (
        sa.select(feedback)
        .where(
            feedback.c.verdict == "rating",
            feedback.c.user_id.is_not(None),
            feedback.c.relevance.is_not(None),
            feedback.c.clarity.is_not(None),
        )
        .order_by(feedback.c.id)
    )
    rows = op.get_bind().execute(query).all()
    latest = {(row.user_id, row.content_id): row for row in rows}
    if not latest:
        return
    first = {}
    for row in rows:
        first.setdefault((row.user_id, row.content_id), row.created_at)
    now = dt.datetime.now(dt.UTC)
    rating = sa.table(
        "rating",
        sa.column("user_id", sa.Integer()),
        sa.column("content_id", sa.String()),
        sa.column("role_relevance", sa.Integer()),
        sa.column("strategic_clarity", sa.Integer()),
        sa.column("comment", sa.Text()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        rating,
        [
            {
                "user_id": row.user_id,
                "content_id": row.content_id,
                "role_relevance": min(5, max(1, row.relevance)),
                "strategic_clarity": min(5, max(1, row.clarity)),
                "comment": row.comment,
                "created_at": first[key] or now,
                "updated_at": row.created_at or now,
            }
            for key, row in latest.items()
        ],
    )


def upgrade() -> None:
    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("content_id", sa.String(length=200), sa.ForeignKey("contentitem.id"), nullable=False),
        sa.Column("role_relevance", sa.Integer(), nullable=False),
        sa.Column("strategic_clarity", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("comment_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "content_id"),
    )
    op.create_index("ix_rating_user_id", "rating", ["user_id"])
    op.create_index("ix_rating_content_id", "rating", ["content_id"])
    op.create_table(
        "curation",
        sa.Column("content_id", sa.String(length=200), sa.ForeignKey("contentitem.id"), primary_key=True),
        sa.Column("curated_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("channel_id", sa.String(length=100), nullable=True),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_curation_curated_by", "curation", ["curated_by"])
    op.create_table(
        "lessonoverlay",
        sa.Column("content_id", sa.String(length=200), sa.ForeignKey("contentitem.id"), primary_key=True),
        sa.Column("pillar", sa.String(length=100), nullable=True),
        sa.Column("impact", sa.JSON(), nullable=True),
        sa.Column("edited_by", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ratingask",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("content_id", sa.String(length=200), sa.ForeignKey("contentitem.id"), primary_key=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
    )
    _copy_old_ratings()


def downgrade() -> None:
    op.drop_table("ratingask")
    op.drop_table("lessonoverlay")
    op.drop_index("ix_curation_curated_by", table_name="curation")
    op.drop_table("curation")
    op.drop_index("ix_rating_content_id", table_name="rating")
    op.drop_index("ix_rating_user_id", table_name="rating")
    op.drop_table("rating")
