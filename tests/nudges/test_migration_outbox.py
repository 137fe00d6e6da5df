"""Migration 0005 on a filled database: outbox rows and campaigns keep their data and get the new columns."""

from __future__ import annotations

import sqlalchemy as sa

from storage.db import make_engine, upgrade


def test_0005_adds_claims_and_pause_to_existing_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    assert upgrade(engine, "0004") == "0004"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outboxmessage (idempotency_key, platform, kind, payload, status, due_at,"
                " attempts, created_at) VALUES ('step:1:x:1', 'slack', 'step', '{}', 'sending', :t, 1, :t)"
            ),
            {"t": "2026-11-01 09:00:00+00:00"},
        )
        connection.execute(
            sa.text(
                "INSERT INTO campaign (id, title, message, platform, channels, timezone, source, active,"
                " created_at) VALUES ('c', 'C', '', 'slack', '[]', 'UTC', 'chat', true, :t)"
            ),
            {"t": "2026-11-01 09:00:00+00:00"},
        )
    assert upgrade(engine, "0005") == "0005"
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT status, attempts, claim_token, maybe_sent, delivery_id FROM outboxmessage")
        ).one()
        paused = connection.execute(sa.text("SELECT paused FROM campaign")).scalar_one()
    assert (row.status, row.attempts, row.claim_token, bool(row.maybe_sent), row.delivery_id) == (
        "sending",
        1,
        None,
        False,
        None,
    )
    assert not paused


def test_claims_oldest_first_have_an_index(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0006")
    indexes = {index["name"] for index in sa.inspect(engine).get_indexes("outboxmessage")}
    assert "ix_outboxmessage_status_created_at" in indexes
    engine.dispose()
