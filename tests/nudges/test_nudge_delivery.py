"""Delivering the outbox to a local fake Slack: rate limits, failures, pacing, crashes and two dispatchers."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.config import Settings
from bot.events import Button, ConversationRef, Reply
from bot.wiring import slack_sender
from nudges.clock import ManualClock
from nudges.outbox import Dispatcher, MemorySender, reply_payload
from storage.db import make_engine, session_scope, upgrade
from storage.models import OutboxMessage
from storage.outbox import enqueue_many, message_row, status_counts
from tests.fake_slack import FakeSlack
from tests.nudges.helpers import at

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-outbox-test"
NOW = at("2026-01-05T09:00:00Z")  # in the past, so real-clock dispatchers find the rows due


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _fill(engine: Engine, count: int, *, channel: str | None = None) -> None:
    rows = [
        message_row(
            f"step:test:{n}",
            "slack",
            "step",
            reply_payload(
                Reply(text=f"Step {n} is ready", buttons=(Button("Done", "nudge_done", f"{n}|x"),)),
                to=ConversationRef("slack", f"U{n}", channel or f"D{n:05d}"),
            ),
            NOW,
            channel_id=channel or f"D{n:05d}",
        )
        for n in range(count)
    ]
    with session_scope(engine) as session:
        for start in range(0, count, 1000):
            enqueue_many(session=session, rows=rows[start : start + 1000])


def _dispatcher(engine: Engine, fake: FakeSlack, clock: ManualClock, **options: object) -> Dispatcher:
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=fake.url)
    return Dispatcher(engine, {"slack": slack_sender(settings)}, clock, **options)  # type: ignore[arg-type]


def _rows(engine: Engine) -> list[OutboxMessage]:
    with session_scope(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _keys(fake: FakeSlack) -> Counter[str]:
    posted = fake.called("chat.postMessage")
    return Counter(c.params["metadata"]["event_payload"]["key"] for c in posted if c.response.get("ok"))


def test_a_429_is_retried_after_retry_after_and_delivered_once(tmp_path: Path) -> None:
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _fill(engine, 1)
    clock = ManualClock(NOW)
    with FakeSlack() as fake:
        fake.rate_limit("chat.postMessage", retry_after=7)
        dispatcher = _dispatcher(engine, fake, clock)
        assert dispatcher.run_once().deferred == 1
        [row] = _rows(engine)
        assert (row.status, row.attempts) == ("pending", 0)  # a rate limit uses up no attempt
        assert row.due_at.replace(tzinfo=dt.UTC) == NOW + dt.timedelta(seconds=7)
        assert "429" in (row.last_error or "")
        clock.advance(dt.timedelta(seconds=6))
        assert dispatcher.run_once().sent == 0  # Retry-After is honoured
        clock.advance(dt.timedelta(seconds=1))
        assert dispatcher.run_once().sent == 1
        dispatcher.close()
        assert len(fake.called("chat.postMessage")) == 2
        assert _keys(fake) == {"step:test:0": 1}
        sent = fake.called("chat.postMessage")[-1].params
        assert sent["channel"] == "D00000" and sent["text"] == "Step 0 is ready"
        assert sent["blocks"][-1]["elements"][0]["action_id"].startswith("lb:nudge_done")
    [row] = _rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_five_429s_in_a_row_defer_the_row_and_it_is_still_delivered(tmp_path: Path) -> None:
    """Finding 3: rate limits wait as long as Retry-After says and never use up the attempts."""
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _fill(engine, 1)
    clock = ManualClock(NOW)
    with FakeSlack() as fake:
        fake.rate_limit("chat.postMessage", retry_after=2, times=7)
        dispatcher = _dispatcher(engine, fake, clock, max_attempts=5)
        for _ in range(7):
            dispatcher.run_once()
            [row] = _rows(engine)
            assert row.status == "pending", row.last_error
            clock.advance(dt.timedelta(seconds=2))
        assert dispatcher.run_once().sent == 1
        dispatcher.close()
        assert _keys(fake) == {"step:test:0": 1}
        assert len(fake.called("chat.postMessage")) == 8
    [row] = _rows(engine)
    assert (row.status, row.attempts) == ("sent", 1)


def test_permanent_errors_fail_at_once_and_transient_ones_after_the_last_attempt(tmp_path: Path) -> None:
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _fill(engine, 2)
    clock = ManualClock(NOW)
    with FakeSlack() as fake:
        fake.fail("chat.postMessage", "channel_not_found")
        fake.fail("chat.postMessage", "internal_error", times=3)
        dispatcher = _dispatcher(engine, fake, clock, max_attempts=3, workers=1)
        for _ in range(4):
            dispatcher.run_once()
            clock.advance(dt.timedelta(hours=1))
        dispatcher.close()
    failed = {row.idempotency_key: row.last_error for row in _rows(engine)}
    assert failed["step:test:0"] == "not retried: Slack refused: channel_not_found (attempt 1 of 3)"
    assert failed["step:test:1"] == "gave up: Slack error: internal_error (HTTP 200) (attempt 3 of 3)"
    with session_scope(engine) as session:
        assert status_counts(session=session, now=clock.now())["failed"] == 2


def test_one_channel_gets_one_message_a_second(tmp_path: Path) -> None:
    """Pacing, on a clock the test controls: no wall-clock timing in the assertion."""
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _fill(engine, 3, channel="C0GENERAL")
    now = [100.0]
    sent_at: list[float] = []

    def pause(seconds: float) -> None:
        now[0] += seconds

    sender = MemorySender("slack", ManualClock(NOW), min_interval=1.0, fail=lambda _: sent_at.append(now[0]))
    dispatcher = Dispatcher(engine, {"slack": sender}, ManualClock(NOW), ticks=lambda: now[0], pause=pause)
    assert dispatcher.run_once().sent == 3
    dispatcher.close()
    assert sent_at == [100.0, 101.0, 102.0]


def _env(db_url: str, fake: FakeSlack, config: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": fake.url,
        "LEARNBOT_CONFIG": str(config),
        "PYTHONPATH": str(ROOT),
    }


CLAIM_THEN_HANG = """
import datetime as dt, sys, threading
from bot.config import load_settings
from bot.wiring import slack_sender
from nudges.clock import SystemClock
from nudges.outbox import Dispatcher
from storage.db import make_engine
settings = load_settings()
sender = slack_sender(settings)
engine = make_engine(settings.db_url)
dispatcher = Dispatcher(engine, {"slack": sender}, SystemClock(), lease=dt.timedelta(seconds=2))
print("claimed", len(dispatcher.claim()), flush=True)
threading.Event().wait()  # killed here: after the claim, before any send
dispatcher.run_once()
"""


def test_a_dispatcher_killed_between_claim_and_send_loses_nothing(tmp_path: Path, pg_url: str) -> None:
    engine = _engine(pg_url)
    _fill(engine, 5)
    with FakeSlack() as fake:
        env = _env(pg_url, fake, tmp_path / "unused.yaml")
        doomed = subprocess.Popen(
            [sys.executable, "-c", CLAIM_THEN_HANG], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert doomed.stdout is not None
        assert doomed.stdout.readline().strip() == "claimed 5"
        doomed.kill()
        doomed.wait(timeout=10)
        assert {row.status for row in _rows(engine)} == {"sending"}
        assert fake.called("chat.postMessage") == []

        survivor = subprocess.run(
            [sys.executable, "-m", "bot.cli", "dispatch", "--seconds", "20"],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert survivor.returncode == 0, survivor.stderr
        assert json.loads(survivor.stdout.strip().splitlines()[-1])["sent"] == 5
        assert _keys(fake) == {f"step:test:{n}": 1 for n in range(5)}
    assert [(row.status, row.attempts) for row in _rows(engine)] == [("sent", 2)] * 5


def test_two_dispatcher_processes_on_postgresql_send_2000_messages_exactly_once(
    tmp_path: Path, pg_url: str
) -> None:
    engine = _engine(pg_url)
    _fill(engine, 2000)
    with FakeSlack() as fake:
        env = _env(pg_url, fake, tmp_path / "unused.yaml")
        command = [sys.executable, "-m", "bot.cli", "dispatch", "--seconds", "60", "--batch", "100"]
        workers = [
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
            )
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=90) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in outputs]
        shares = [json.loads(out.strip().splitlines()[-1])["sent"] for out, _ in outputs]
        keys = _keys(fake)
    assert sum(shares) == 2000 and min(shares) > 0  # both did part of the work
    assert len(keys) == 2000 and max(keys.values()) == 1  # every message once, none twice, none lost
    with session_scope(engine) as session:
        assert status_counts(session=session, now=NOW)["sent"] == 2000
