"""Nudges at scale: plan and deliver a step to 10,000 enrolled learners in one tick, on PostgreSQL.

Learners are spread over seven time zones that are all inside working hours at the tick
(Monday 16 November 2026, 12:00 UTC). Planning and each dispatcher run in processes of their
own (peak RSS is theirs); the fake Slack runs in another process with no rate limit and counts
every outbox key it receives, so duplicates and losses are counted where a user would see them.

Baselines in the same run: a per-learner planner (a few queries and one insert per learner,
the obvious first version) and a dispatcher that claims, sends and marks one row per
transaction. Both run on a sample (default 1,000) and are compared per learner / per message.
Run: `python -m benchmarks.nudges [--learners 10000] [--baseline 1000]` (needs PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LEARNBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = "2026-11-16T12:00:00+00:00"  # a past Monday noon: real-clock dispatchers find the messages due
ZONES = [
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Lagos",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Asia/Dubai",
]
PLAN_TARGET_S, DISPATCH_TARGET = 10.0, 200.0

PLAN = textwrap.dedent(
    """
    import datetime as dt, json, resource, sys, time
    from bot.config import load_config
    from nudges.outbox import MemorySender
    from nudges.planner import plan
    from storage.db import make_engine, session_scope
    engine, config = make_engine(sys.argv[1]), load_config(sys.argv[2])
    now = dt.datetime.fromisoformat(sys.argv[3])
    start = time.perf_counter()
    with session_scope(engine) as session:  # delivered on Slack: the platforms this process has senders for
        result = plan(session=session, config=config, now=now, senders={"slack": MemorySender("slack")})
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "planned": result.steps}))
    """
)

# The obvious first version: per learner, look everything up and insert one row.
NAIVE_PLAN = textwrap.dedent(
    """
    import datetime as dt, json, sys, time
    from sqlmodel import col, func, select
    from bot.config import load_config
    from nudges.clock import as_utc
    from bot.events import ConversationRef
    from nudges.outbox import reply_payload
    from nudges.hours import next_slot, window_for
    from nudges.messages import step_reply
    from storage.db import make_engine, session_scope
    from storage.models import (ContentItem, Enrolment, NudgePreference, OutboxMessage, Pathway,
                                Person, StepProgress)
    from storage.outbox import enqueue
    from storage.pathways import pathway_steps
    from storage.people import choose_reference, references
    engine, config, limit = make_engine(sys.argv[1]), load_config(sys.argv[2]), int(sys.argv[4])
    now = dt.datetime.fromisoformat(sys.argv[3])
    start = time.perf_counter()
    planned = 0
    with session_scope(engine) as session:
        for enrolment in session.exec(select(Enrolment).order_by(col(Enrolment.id)).limit(limit)).all():
            user = session.get(Person, enrolment.user_id)
            pref = session.get(NudgePreference, user.id)
            if pref is not None and pref.opted_out:
                continue
            pathway = session.get(Pathway, enrolment.pathway_id)
            steps = pathway_steps(session=session, pathway_id=pathway.id)
            done = set(session.exec(select(StepProgress.content_id).where(
                StepProgress.enrolment_id == enrolment.id, col(StepProgress.completed_at).is_not(None))))
            upcoming = next((s for s in steps if s not in done), None)
            week = session.exec(select(func.count()).where(
                OutboxMessage.user_id == user.id, OutboxMessage.due_at > now - dt.timedelta(days=7))).one()
            window = window_for(config.nudges, user.timezone)
            slot = next_slot(max(as_utc(enrolment.enrolled_at), now), window)
            if upcoming is None or week >= config.nudges.max_per_week or slot is None or slot > now:
                continue
            item = session.get(ContentItem, upcoming)
            ref = choose_reference(user, references(session=session, person_ids=[user.id]).get(user.id, []),
                                   ["slack"])
            if ref is None:
                continue
            to = ConversationRef(ref.platform, ref.platform_user_id or "", ref.channel_id, data=ref.data)
            reply = step_reply(pathway, item, pillar=None, imperative=pathway.imperative,
                               number=steps.index(upcoming) + 1, total=len(steps), enrolment_id=enrolment.id,
                               reminder=False)
            enqueue(session=session, key=f"naive:{enrolment.id}:{upcoming}", platform=to.platform,
                    kind="step", payload=reply_payload(reply, to=to), due_at=now, user_id=user.id,
                    channel_id=to.channel_id)
            planned += 1
        session.rollback()  # measure only; leave the outbox as the real planner made it
    print(json.dumps({"seconds": time.perf_counter() - start, "planned": planned}))
    """
)

# The obvious first dispatcher: claim one row, send it, mark it, one transaction each.
NAIVE_DISPATCH = textwrap.dedent(
    """
    import datetime as dt, json, sys, time
    from bot.config import load_settings
    from bot.wiring import slack_sender
    from nudges.clock import SystemClock
    from nudges.outbox import Outbound, payload_reply, row_ref
    from storage.db import make_engine, session_scope
    from storage.outbox import claim, mark_sent
    settings = load_settings()
    engine, sender, clock = make_engine(settings.db_url), slack_sender(settings), SystemClock()
    start, sent = time.perf_counter(), 0
    while True:
        with session_scope(engine) as session:
            rows = claim(session=session, now=clock.now(), platforms=["slack"], limit=1,
                         lease=dt.timedelta(seconds=60))
        if not rows:
            break
        row = rows[0]
        sender.send(Outbound(row.idempotency_key, row.kind, row_ref(row), payload_reply(row.payload)))
        with session_scope(engine) as session:
            mark_sent(session=session, message_id=row.id, token=row.claim_token, now=clock.now())
        sent += 1
    print(json.dumps({"sent": sent, "seconds": time.perf_counter() - start}))
    """
)


def _serve_fake_slack(conn: Any) -> None:
    """The fake Slack in its own process; answers 'report' with the keys received since the last report."""
    sys.path.insert(0, str(ROOT))
    from tests.fake_slack import FakeSlack

    with FakeSlack() as fake:
        conn.send(fake.url)
        while (command := conn.recv()) != "stop":
            assert command == "report"
            keys = Counter(
                call.params["metadata"]["event_payload"]["key"]
                for call in fake.called("chat.postMessage")
                if call.response.get("ok")
            )
            fake.reset()
            conn.send(keys)


def _run(script: str | list[str], env: dict[str, str], *args: str) -> dict[str, Any]:
    command = [sys.executable, "-c", script, *args] if isinstance(script, str) else script
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _dispatchers(count: int, env: dict[str, str]) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "bot.cli", "dispatch", "--seconds", "600"]
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        for _ in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise SystemExit(f"dispatcher failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _populate(url: str, learners: int, config: Path, data_dir: Path) -> None:
    """The sample library and pathways, then `learners` people on Slack with DMs, enrolled a day ago."""
    import datetime as dt

    from bot.app import prepare
    from bot.config import Settings
    from storage.db import make_engine
    from storage.models import ConversationReference, Enrolment, Identity, Person

    prepare(Settings(data_dir=data_dir, config_path=config, database_url=url))
    engine = make_engine(url)
    joined = dt.datetime.fromisoformat(NOW) - dt.timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                {
                    "display_name": f"U{n:06d}",
                    "timezone": ZONES[n % len(ZONES)],
                    "active": True,
                    "created_at": joined,
                }
                for n in range(learners)
            ],
        )
        ids = connection.execute(select(Person.id, Person.display_name)).all()
        connection.execute(
            insert(Identity),
            [
                {"person_id": uid, "platform": "slack", "platform_user_id": pid, "created_at": joined}
                for uid, pid in ids
            ],
        )
        connection.execute(
            insert(ConversationReference),
            [
                {
                    "user_id": uid,
                    "platform": "slack",
                    "platform_user_id": pid,
                    "channel_id": "D" + pid[1:],
                    "data": {},
                    "updated_at": joined,
                }
                for uid, pid in ids
            ],
        )
        connection.execute(
            insert(Enrolment),
            [
                {
                    "user_id": uid,
                    "pathway_id": "feedback-culture",
                    "joined_by": "admin",
                    "status": "active",
                    "enrolled_at": joined,
                    "nudges_for_step": 0,
                }
                for uid, _ in ids
            ],
        )
    engine.dispose()


def _bench_config(folder: Path) -> Path:
    """The sample app.yaml with working hours all day, every day: dispatchers run on the real clock,
    and a benchmark started in the evening must not find every nudge held until the morning."""
    import yaml

    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    for source in data["content_sources"]:
        source["path"] = str(ROOT / source["path"])
    data["nudges"] = {**data["nudges"], "working_hours": {"start": "00:00", "end": "23:59"}, "quiet_days": []}
    path = folder / "app.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _losses(keys: Counter[str], expected: int) -> tuple[int, int]:
    return sum(n - 1 for n in keys.values()), expected - len(keys)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000, help="learners / messages for the baselines")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from storage.db import make_engine, upgrade
    from storage.models import OutboxMessage

    schema = f"lb_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=_serve_fake_slack, args=(child,), daemon=True)
    server.start()
    fake_url = parent.recv()
    rows: list[tuple[str, str, str, str]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = _bench_config(Path(tmp))
            engine = make_engine(url)
            upgrade(engine)
            started = time.perf_counter()
            _populate(url, args.learners, config, Path(tmp))
            setup = time.perf_counter() - started
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_API_URL": fake_url,
                "LEARNBOT_CONFIG": str(config),
                "PYTHONPATH": str(ROOT),
            }
            naive = _run(NAIVE_PLAN, env, url, str(config), NOW, str(args.baseline))
            planned = _run(PLAN, env, url, str(config), NOW)
            assert planned["planned"] == args.learners, planned
            per_learner = planned["seconds"] / args.learners
            naive_per = naive["seconds"] / max(naive["planned"], 1)

            one = _dispatchers(1, env)
            parent.send("report")
            dupes1, lost1 = _losses(parent.recv(), args.learners)
            with engine.begin() as connection:
                connection.execute(
                    update(OutboxMessage).values(status="pending", attempts=0, sent_at=None, lease_until=None)
                )
            two = _dispatchers(2, env)
            parent.send("report")
            dupes2, lost2 = _losses(parent.recv(), args.learners)
            with engine.begin() as connection:
                sample = select(OutboxMessage.id).order_by(OutboxMessage.id).limit(args.baseline)
                connection.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sample.scalar_subquery()))
                    .values(status="pending", attempts=0, sent_at=None, lease_until=None)
                )
            naive_sent = _run(NAIVE_DISPATCH, env)
            parent.send("report")
            dupes_b, lost_b = _losses(parent.recv(), args.baseline)
            engine.dispose()

        rate1 = one[0]["sent"] / one[0]["seconds"]
        per_process = [r["sent"] / r["seconds"] for r in two]
        together = args.learners / max(r["seconds"] for r in two)
        naive_rate = naive_sent["sent"] / naive_sent["seconds"]
        n = f"{args.learners:,}"
        rows = [
            ("setup: library + learners + DMs + enrolments", f"{setup:.1f} s", "", ""),
            (
                f"planning {n} learners (one tick)",
                f"{planned['seconds']:.2f} s",
                f"≤ {PLAN_TARGET_S:.0f} s",
                f"{naive_per / per_learner:.1f}× faster per learner than per-learner baseline "
                f"({naive['seconds']:.2f} s for {naive['planned']:,})",
            ),
            ("planner peak RSS", f"{planned['peak_mb']:.0f} MB", "", ""),
            (
                "dispatch, 1 process",
                f"{rate1:.0f} msg/s",
                f"≥ {DISPATCH_TARGET:.0f} msg/s",
                f"{rate1 / naive_rate:.1f}× one-row-per-transaction baseline ({naive_rate:.0f} msg/s)",
            ),
            (
                "dispatch, 2 processes (each)",
                " / ".join(f"{r:.0f}" for r in per_process) + " msg/s",
                f"≥ {DISPATCH_TARGET:.0f} msg/s",
                f"shares {two[0]['sent']:,} + {two[1]['sent']:,}",
            ),
            (
                "dispatch, 2 processes (together)",
                f"{together:.0f} msg/s",
                "",
                f"{together / rate1:.2f}× one process",
            ),
            ("dispatcher peak RSS", f"{max(r['peak_mb'] for r in one + two):.0f} MB", "", ""),
            ("duplicates / losses, 1 process", f"{dupes1} / {lost1}", "0 / 0", ""),
            ("duplicates / losses, 2 processes", f"{dupes2} / {lost2}", "0 / 0", ""),
            ("duplicates / losses, baseline", f"{dupes_b} / {lost_b}", "0 / 0", ""),
        ]
        print("| measure | result | target | compared with |")
        print("|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        met = (
            planned["seconds"] <= PLAN_TARGET_S
            and rate1 >= DISPATCH_TARGET
            and min(per_process) >= DISPATCH_TARGET
            and dupes1 == lost1 == dupes2 == lost2 == 0
        )
        print(
            f"\ntargets {'met' if met else 'NOT met'} ({os.cpu_count()} CPUs; fake Slack in its own process)"
        )
    finally:
        parent.send("stop")
        server.join(timeout=10)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
