"""The outbox under faults: a slow or flaky Slack, dropped connections, killed and competing dispatchers.

Findings 1, 2 and 4 of issue 9: every message arrives once, however slow Slack is, whichever
dispatcher dies, and whether or not Slack's answer got lost on the way back. Processes are real
`learnbot dispatch` processes; Slack is the local fake; the database is real (PostgreSQL where
two processes share it). Nothing waits a fixed time: each wait is for a condition, with a deadline.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bot.events import ConversationRef, Reply
from nudges.clock import ManualClock
from nudges.outbox import Dispatcher, MemorySender, reply_payload
from storage.db import session_scope
from storage.outbox import claim, enqueue_many, mark_retry, mark_sent, message_row, renew
from tests.fake_slack import FakeSlack
from tests.nudges.test_nudge_delivery import NOW, ROOT, _dispatcher, _engine, _env, _fill, _keys, _rows


def _dispatch_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "dispatch", "--seconds", "120", *options]


def _summary(output: str) -> dict[str, int]:
    return json.loads(output.strip().splitlines()[-1])


# ---- fencing, in storage ----------------------------------------------------------------------


def test_a_claim_that_expired_can_no_longer_change_the_row(db_url: str) -> None:
    engine = _engine(db_url)
    _fill(engine, 1)
    lease = dt.timedelta(seconds=10)
    with session_scope(engine) as session:
        [first] = claim(session=session, now=NOW, platforms=["slack"], limit=5, lease=lease)
    later = NOW + dt.timedelta(seconds=11)
    with session_scope(engine) as session:  # the first holder is too late to renew or record
        assert (
            renew(session=session, ids=[first.id], token=first.claim_token, now=later, lease=lease) == set()
        )
        [second] = claim(session=session, now=later, platforms=["slack"], limit=5, lease=lease)
    assert second.claim_token != first.claim_token and second.maybe_sent  # taken over: it may have been sent
    with session_scope(engine) as session:
        assert not mark_sent(session=session, message_id=first.id, token=first.claim_token, now=later)
        assert not mark_retry(
            session=session, message_id=first.id, token=first.claim_token, now=later, due_at=later, error="x"
        )
        assert mark_sent(session=session, message_id=second.id, token=second.claim_token, now=later)
    [row] = _rows(engine)
    assert (row.status, row.claim_token, row.attempts) == ("sent", None, 2)


def test_a_claim_takes_at_most_its_limit(db_url: str) -> None:
    """On PostgreSQL, UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED) could claim every due
    row (the subquery re-run per row): one dispatcher then held everything and the other idled."""
    engine = _engine(db_url)
    _fill(engine, 50)
    lease = dt.timedelta(seconds=60)
    sizes = []
    for _ in range(3):
        with session_scope(engine) as session:
            sizes.append(len(claim(session=session, now=NOW, platforms=["slack"], limit=20, lease=lease)))
    assert sizes == [20, 20, 10]


def test_each_row_is_marked_sent_right_after_its_own_send(tmp_path: Path) -> None:
    """Finding 1's root: a row is recorded when it is sent, not when the whole batch is done."""
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _fill(engine, 3)
    clock = ManualClock(NOW)
    statuses: list[list[str]] = []

    def look(_outbound: object) -> None:
        statuses.append(sorted(row.status for row in _rows(engine)))

    dispatcher = Dispatcher(engine, {"slack": MemorySender("slack", clock, fail=look)}, clock, workers=1)
    assert dispatcher.run_once().sent == 3
    dispatcher.close()
    assert statuses == [["sending"] * 3, ["sending", "sending", "sent"], ["sending", "sent", "sent"]]


# ---- finding 4: an answer lost on the way back ------------------------------------------------


def test_a_post_whose_answer_was_lost_is_found_in_history_not_sent_twice(db_url: str) -> None:
    engine = _engine(db_url)
    _fill(engine, 2)
    clock = ManualClock(NOW)
    with FakeSlack() as fake:
        fake.drop("chat.postMessage", times=2)  # both posts take effect; neither answer comes back
        dispatcher = _dispatcher(engine, fake, clock, workers=1)
        first = dispatcher.run_once()
        assert (first.sent, first.retried) == (0, 2)
        assert all(row.maybe_sent and row.status == "pending" for row in _rows(engine))
        clock.advance(dt.timedelta(minutes=5))
        second = dispatcher.drain()
        dispatcher.close()
        assert (second.sent, second.found) == (2, 2)
        assert _keys(fake) == {"step:test:0": 1, "step:test:1": 1}
        assert len(fake.called("chat.postMessage")) == 2  # looked up, never posted again
        history = fake.called("conversations.history")
        assert history and all(c.params["include_all_metadata"] in ("1", "true", True) for c in history)
    rows = _rows(engine)
    assert [(r.status, r.maybe_sent) for r in rows] == [("sent", False)] * 2
    assert all(r.delivery_id for r in rows)


def test_an_ambiguous_failure_that_did_not_arrive_is_sent_again(tmp_path: Path) -> None:
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    _fill(engine, 1)
    clock = ManualClock(NOW)
    with FakeSlack() as fake:
        fake.chaos("chat.postMessage", errors=1.0)  # HTTP 500: maybe processed, as far as we can tell
        dispatcher = _dispatcher(engine, fake, clock, workers=1)
        assert dispatcher.run_once().retried == 1
        fake.calm("chat.postMessage")
        [row] = _rows(engine)
        assert row.maybe_sent
        clock.advance(dt.timedelta(minutes=1))
        assert dispatcher.run_once().sent == 1
        dispatcher.close()
        assert _keys(fake) == {"step:test:0": 1}
        assert fake.called("conversations.history")
    [row] = _rows(engine)
    assert row.status == "sent"


def test_a_dm_opened_by_user_id_is_looked_up_too(tmp_path: Path) -> None:
    engine = _engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    payload = reply_payload(Reply(text="Step 1"), to=ConversationRef("slack", "U42"))
    with session_scope(engine) as session:
        enqueue_many(session=session, rows=[message_row("step:dm", "slack", "step", payload, NOW)])
    clock = ManualClock(NOW)
    with FakeSlack() as fake:
        fake.drop("chat.postMessage")
        dispatcher = _dispatcher(engine, fake, clock, workers=1)
        dispatcher.run_once()
        clock.advance(dt.timedelta(minutes=1))
        assert dispatcher.run_once().found == 1
        dispatcher.close()
        assert _keys(fake) == {"step:dm": 1}
        assert fake.called("conversations.history")[0].params["channel"] == "DU42"


# ---- findings 1 and 2: real processes ---------------------------------------------------------


def test_two_dispatchers_against_a_slow_slack_send_every_message_once(tmp_path: Path, pg_url: str) -> None:
    """Finding 1: each post takes 2.6 s, so one batch takes longer than the lease (scaled down from
    200 rows and a 60 s lease to 48 rows and an 8 s one). Before the fix both dispatchers sent all."""
    engine = _engine(pg_url)
    _fill(engine, 48)
    with FakeSlack() as fake:
        fake.slow("chat.postMessage", 2.6)
        env = _env(pg_url, fake, tmp_path / "unused.yaml")
        command = _dispatch_command("--lease", "8", "--workers", "8")
        workers = [
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
            )
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=150) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in outputs]
        sent = [_summary(out)["sent"] for out, _ in outputs]
        keys = _keys(fake)
    assert max(keys.values()) == 1, Counter(keys.values())  # no message twice
    assert len(keys) == 48 and sum(sent) == 48  # none lost, and each counted by one dispatcher
    assert {row.status for row in _rows(engine)} == {"sent"}


def test_a_dispatcher_killed_mid_batch_leaves_nothing_to_send_twice(tmp_path: Path, pg_url: str) -> None:
    """Finding 2: kill -9 while posts are going out (0.2 s each); a second dispatcher finishes the
    job, looking up the rows that were in flight instead of sending them again."""
    engine = _engine(pg_url)
    _fill(engine, 60)
    with FakeSlack() as fake:
        fake.slow("chat.postMessage", 0.2)
        env = _env(pg_url, fake, tmp_path / "unused.yaml")
        doomed = subprocess.Popen(
            _dispatch_command("--lease", "3", "--workers", "4"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            assert len(fake.wait_for("chat.postMessage", 12, timeout=30)) >= 12
        finally:
            doomed.kill()  # SIGKILL, mid-batch
            doomed.wait(timeout=10)
        done_before = len(fake.delivered_keys())
        assert done_before < 60
        survivor = subprocess.run(
            _dispatch_command("--lease", "3"), env=env, capture_output=True, text=True, cwd=ROOT, timeout=150
        )
        assert survivor.returncode == 0, survivor.stderr
        keys = _keys(fake)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    assert len(keys) == 60
    assert {row.status for row in _rows(engine)} == {"sent"}
