"""Migration 0014 widens the conversation-id columns for Teams (personal chat ids run past 100 characters),
on a filled database, SQLite and PostgreSQL: every row kept, a Teams-length id stored whole."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from storage.db import make_engine, upgrade

T = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
TEAMS_CHAT = "a:1" + "Zq9_x-" * 30  # 183 characters, the shape of a real personal chat id
TABLES = ("question", "conversationreference", "outboxmessage", "campaignevent")


def _insert(engine: sa.Engine, name: str, values: dict[str, Any]) -> None:
    meta = sa.MetaData()
    meta.reflect(engine, only=[name])
    table = meta.tables[name]
    row = dict(values)
    for column in table.columns:
        needed = not column.nullable and column.server_default is None and column.name not in row
        if needed and not (column.primary_key and isinstance(column.type, sa.Integer)):
            kind = column.type
            row[column.name] = (
                False
                if isinstance(kind, sa.Boolean)
                else 0
                if isinstance(kind, sa.Integer | sa.Float)
                else T
                if isinstance(kind, sa.DateTime)
                else {}
                if isinstance(kind, sa.JSON)
                else "x"
            )
    with engine.begin() as connection:
        connection.execute(table.insert().values(**row))


def _fill(engine: sa.Engine, channel: str, n: int) -> None:
    _insert(engine, "person", {"id": n, "display_name": f"p{n}"})
    _insert(engine, "question", {"user_id": n, "platform": "teams", "text": "q", "channel_id": channel})
    _insert(engine, "conversationreference", {"user_id": n, "platform": "teams", "channel_id": channel})
    _insert(engine, "outboxmessage", {"idempotency_key": f"k{n}", "platform": "teams", "channel_id": channel})
    _insert(engine, "campaign", {"id": f"c{n}", "title": "C", "channels": []})
    _insert(engine, "campaignevent", {"campaign_id": f"c{n}", "kind": "join", "channel_id": channel})


def _channels(engine: sa.Engine) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {
            table: sorted(connection.execute(sa.text(f"SELECT channel_id FROM {table}")).scalars())
            for table in TABLES
        }


def test_upgrading_to_0014_keeps_rows_and_stores_teams_conversation_ids_whole(db_url: str) -> None:
    engine = make_engine(db_url)
    assert upgrade(engine, "0013") == "0013"
    _fill(engine, "D0SAM", 1)
    assert upgrade(engine, "0014") == "0014"
    _fill(engine, TEAMS_CHAT, 2)
    assert _channels(engine) == {table: sorted(["D0SAM", TEAMS_CHAT]) for table in TABLES}
    engine.dispose()
