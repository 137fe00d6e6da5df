"""Upgrading a database filled at the previous schema (0003) keeps every row, now owned by people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from storage.db import make_engine, upgrade

T = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

# What a live install at 0003 holds: two Slack learners, a console admin, and their learning.
ROWS: list[tuple[str, dict[str, Any]]] = [
    ("pillar", {"id": "people", "name": "Growing our people"}),
    ("contentitem", {"id": "give-feedback", "source": "lessons", "title": "Give feedback"}),
    ("contentitem", {"id": "hard-talks", "source": "lessons", "title": "Hard conversations"}),
    ("pathway", {"id": "feedback", "title": "Feedback", "pillar_id": "people"}),
    ("pathwaystep", {"pathway_id": "feedback", "position": 0, "content_id": "give-feedback"}),
    ("pathwaystep", {"pathway_id": "feedback", "position": 1, "content_id": "hard-talks"}),
    ("user", {"id": 7, "platform": "slack", "platform_user_id": "U0SAM", "email": "sam@acme.example"}),
    ("user", {"id": 8, "platform": "slack", "platform_user_id": "U0MIA", "manager_id": None}),
    ("user", {"id": 9, "platform": "console", "platform_user_id": "console-admin", "role": "admin"}),
    ("conversationreference", {"user_id": 7, "platform": "slack", "channel_id": "D0SAM"}),
    ("question", {"id": 1, "user_id": 7, "platform": "slack", "text": "how do I give feedback"}),
    ("question", {"id": 2, "user_id": 8, "platform": "slack", "text": "wifi password", "answered": False}),
    ("answershown", {"question_id": 1, "content_id": "give-feedback"}),
    ("feedback", {"user_id": 7, "content_id": "give-feedback", "question_id": 1, "verdict": "helpful"}),
    ("enrolment", {"id": 3, "user_id": 7, "pathway_id": "feedback"}),
    ("stepprogress", {"enrolment_id": 3, "content_id": "give-feedback", "takeaway": "ask first"}),
    ("nudgepreference", {"user_id": 8, "opted_out": True}),
    ("campaign", {"id": "feedback-month", "title": "Feedback month", "pathway_id": "feedback"}),
    ("campaignevent", {"campaign_id": "feedback-month", "kind": "join", "user_id": 7}),
    (
        "outboxmessage",
        {"idempotency_key": "step:3:hard-talks:1", "platform": "slack", "user_id": 7, "kind": "step"},
    ),
    ("processedevent", {"id": "Ev01"}),
]


def _filler(column: sa.Column) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.Float):
        return 0.0
    if isinstance(kind, sa.DateTime):
        return T
    if isinstance(kind, sa.Date):
        return T.date()
    if isinstance(kind, sa.JSON):
        return [] if column.name in ("skills", "impact", "audience", "channels") else {}
    return "x"


def _fill(engine: sa.Engine) -> dict[str, int]:
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.begin() as connection:
        for name, values in ROWS:
            table = meta.tables[name]
            row = dict(values)
            for column in table.columns:
                needed = not column.nullable and column.server_default is None
                generated = column.primary_key and isinstance(column.type, sa.Integer)
                if column.name not in row and needed and not generated:
                    row[column.name] = _filler(column)
            connection.execute(table.insert().values(**row))
    return _counts(engine)


def _counts(engine: sa.Engine) -> dict[str, int]:
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {
            name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in meta.tables.items()
            if name != "alembic_version"
        }


def test_upgrading_a_filled_database_keeps_every_row_and_makes_people(db_url: str) -> None:
    engine = make_engine(db_url)
    assert upgrade(engine, "0003") == "0003"
    before = _counts(engine) | {}
    filled = _fill(engine)
    assert filled["user"] == 3

    assert upgrade(engine, "0004") == "0004"

    after = _counts(engine)
    expected = {name: count for name, count in filled.items() if name != "user"}
    assert {name: after[name] for name in expected} == expected, "a row was lost"
    assert after["person"] == 3 and after["identity"] == 3 and "user" not in after
    assert before["processedevent"] == 0
    with engine.connect() as connection:
        people = connection.execute(sa.text("SELECT id, email FROM person ORDER BY id")).all()
        identities = connection.execute(
            sa.text("SELECT person_id, platform, platform_user_id FROM identity ORDER BY person_id")
        ).all()
        reference = connection.execute(
            sa.text("SELECT user_id, platform_user_id, channel_id FROM conversationreference")
        ).one()
        owners = {
            table: connection.execute(sa.text(f"SELECT user_id FROM {table}")).scalars().all()
            for table in (
                "question",
                "feedback",
                "enrolment",
                "nudgepreference",
                "campaignevent",
                "outboxmessage",
            )
        }
    assert [p.id for p in people] == [7, 8, 9]
    assert people[0].email == "sam@acme.example"
    assert [tuple(i) for i in identities] == [
        (7, "slack", "U0SAM"),
        (8, "slack", "U0MIA"),
        (9, "console", "console-admin"),
    ]
    assert tuple(reference) == (7, "U0SAM", "D0SAM")
    assert owners["question"] == [7, 8] and owners["enrolment"] == [7] and owners["nudgepreference"] == [8]
    engine.dispose()


def test_the_upgraded_database_enforces_people_as_owners(db_url: str) -> None:
    """Foreign keys now point at person: a question for nobody is refused."""
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        try:
            connection.execute(
                sa.text(
                    "INSERT INTO question"
                    " (user_id, platform, channel_id, text, answered, confidence, asked_at)"
                    " VALUES (999, 'slack', '', 'q', true, 0, :t)"
                ),
                {"t": T},
            )
            connection.commit()
        except sa.exc.IntegrityError:
            connection.rollback()
        else:
            raise AssertionError("a question owned by a person who does not exist was stored")
    engine.dispose()
