"""Migration 0009 with meetings stored: the prompt table appears, meetings keep their data; and back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from storage.db import _alembic_config, make_engine, upgrade


def test_0009_adds_meeting_prompts_beside_existing_meetings_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    assert upgrade(engine, "0008") == "0008"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO person (display_name, active, created_at)"
                " VALUES ('Maria', true, :t), ('Sam', true, :t)"
            ),
            {"t": "2026-11-01 09:00:00+00:00"},
        )
        connection.execute(
            sa.text(
                "INSERT INTO meeting (id, manager_id, report_id, start_at, source, status, seen_at)"
                " VALUES ('roster:m:s:2026-11-30', 1, 2, :s, 'roster', 'scheduled', :t)"
            ),
            {"s": "2026-11-30 14:00:00+00:00", "t": "2026-11-01 09:00:00+00:00"},
        )
    assert upgrade(engine, "0009") == "0009"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO meetingprompt (meeting_id, start_at, outbox_key, outcome, decided_at)"
                " VALUES ('roster:m:s:2026-11-30', :s, 'one-on-one:x', 'queued', :t)"
            ),
            {"s": "2026-11-30 14:00:00+00:00", "t": "2026-11-30 12:00:00+00:00"},
        )
        assert connection.execute(sa.text("SELECT status FROM meeting")).scalar_one() == "scheduled"
        assert connection.execute(sa.text("SELECT outcome FROM meetingprompt")).scalar_one() == "queued"
    with engine.begin() as connection:  # a prompt must name a meeting that exists
        try:
            with connection.begin_nested():
                connection.execute(
                    sa.text(
                        "INSERT INTO meetingprompt (meeting_id, start_at, outcome, decided_at)"
                        " VALUES ('no-such-meeting', :t, 'queued', :t)"
                    ),
                    {"t": "2026-11-30 12:00:00+00:00"},
                )
            refused = False
        except sa.exc.IntegrityError:
            refused = True
    assert refused
    command.downgrade(_alembic_config(engine), "0008")
    with engine.connect() as connection:
        assert "meetingprompt" not in sa.inspect(connection).get_table_names()
        assert connection.execute(sa.text("SELECT count(*) FROM meeting")).scalar_one() == 1
    engine.dispose()
