"""Migration 0010 adds `sourcestate` to a database in use, keeps what is there, and can be taken back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from storage.db import _alembic_config, current_revision, make_engine, upgrade


def test_0010_adds_source_state_beside_existing_lessons_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0009")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO contentitem (id, source, kind, title, summary, body, skills, impact, audience,"
                " content_hash, location, active, created_at, updated_at)"
                " VALUES ('welcome', 'sharepoint', 'lesson', 'Welcome', '', '', '[]', '[]', '[]', 'h',"
                " 'sharepoint/pages/Welcome.aspx', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    assert "sourcestate" not in sa.inspect(engine).get_table_names()

    upgrade(engine, "0010")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO sourcestate (name, delta_link, data, updated_at)"
                " VALUES ('sharepoint', 'https://graph/delta?token=7', '{}', CURRENT_TIMESTAMP)"
            )
        )
        assert connection.execute(sa.text("SELECT title FROM contentitem")).scalars().all() == ["Welcome"]
        link = connection.execute(sa.text("SELECT delta_link FROM sourcestate")).scalar_one()
    assert link.endswith("token=7")

    command.downgrade(_alembic_config(engine), "0009")
    assert current_revision(engine) == "0009" and "sourcestate" not in sa.inspect(engine).get_table_names()
    upgrade(engine)
    engine.dispose()
