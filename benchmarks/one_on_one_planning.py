"""1:1 prompts at scale: plan the manager's prompt for 8,000 1:1s in one tick, beside 8,000 step nudges.

1,000 managers with 8 direct reports each; every report has a 1:1 on Monday 30 November 2026 at
14:00 UTC (the prompt is due at 12:00, the tick's moment), one finished and applied lesson with a
shared takeaway and one kept private, and a pathway step due, so both planners have 8,000 messages
to write. Each planner runs once, in a process of its own (peak RSS is its own), on the same
database, and rolls back so the other sees the same state. The baseline is the step-nudge planner
(the kind every learner already gets), for the same number of messages in the same run.
Run: `python -m benchmarks.one_on_one_planning [--managers 1000] [--reports 8] [--pg]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LEARNBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = "2026-11-30T12:00:00+00:00"  # Monday noon in London: the prompts for the 14:00 1:1s are due
MEETING = dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)

PLAN = textwrap.dedent(
    """
    import datetime as dt, json, resource, sys, time
    from sqlmodel import Session
    from bot.config import load_config
    from nudges.kinds.one_on_one import OneOnOnePrompts
    from nudges.kinds.step import Steps
    from nudges.outbox import MemorySender
    from nudges.planner import plan
    from storage.db import make_engine
    engine, config = make_engine(sys.argv[1]), load_config(sys.argv[2])
    now = dt.datetime.fromisoformat(sys.argv[3])
    kind = {"one_on_one": OneOnOnePrompts, "step": Steps}[sys.argv[4]]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    session = Session(engine)
    start = time.perf_counter()
    result = plan(session=session, config=config, now=now, senders={"console": MemorySender("console")},
                  kinds=[kind()])
    session.flush()
    seconds = time.perf_counter() - start
    session.rollback()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "before_mb": before,
                      "planned": result.counts[sys.argv[4]]}))
    """
)


def _populate(url: str, managers: int, reports: int, config: Path, data_dir: Path) -> int:
    """The sample library, then managers and their reports (console identities), the 1:1s and learning."""
    from bot.app import prepare
    from bot.config import Settings
    from storage.db import make_engine
    from storage.models import (
        ConversationReference,
        Enrolment,
        Identity,
        Meeting,
        Person,
        StepProgress,
    )

    prepare(Settings(data_dir=data_dir, config_path=config, database_url=url))
    engine = make_engine(url)
    now = dt.datetime.fromisoformat(NOW)
    joined = now - dt.timedelta(days=20)
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [{"display_name": f"M{m:05d}", "active": True, "created_at": joined} for m in range(managers)],
        )
        boss = {name: pid for pid, name in connection.execute(select(Person.id, Person.display_name))}
        connection.execute(
            insert(Person),
            [
                {
                    "display_name": f"R{m:05d}-{r}",
                    "manager_id": boss[f"M{m:05d}"],
                    "active": True,
                    "created_at": joined,
                }
                for m in range(managers)
                for r in range(reports)
            ],
        )
        people = connection.execute(select(Person.id, Person.display_name, Person.manager_id)).all()
        connection.execute(
            insert(Identity),
            [
                {"person_id": pid, "platform": "console", "platform_user_id": name, "created_at": joined}
                for pid, name, _ in people
            ],
        )
        connection.execute(
            insert(ConversationReference),
            [
                {
                    "user_id": pid,
                    "platform": "console",
                    "platform_user_id": name,
                    "channel_id": f"dm-{name}",
                    "data": {},
                    "updated_at": joined,
                }
                for pid, name, _ in people
            ],
        )
        staff = [(pid, name, manager) for pid, name, manager in people if manager is not None]
        connection.execute(
            insert(Meeting),
            [
                {
                    "id": f"roster:{manager}:{pid}:2026-11-30",
                    "manager_id": manager,
                    "report_id": pid,
                    "start_at": MEETING,
                    "end_at": MEETING + dt.timedelta(minutes=30),
                    "source": "roster",
                    "status": "scheduled",
                    "seen_at": joined,
                }
                for pid, _, manager in staff
            ],
        )
        connection.execute(
            insert(Enrolment),
            [
                {
                    "user_id": pid,
                    "pathway_id": "feedback-culture",
                    "joined_by": "admin",
                    "status": "active",
                    "enrolled_at": joined,
                    "next_nudge_at": now - dt.timedelta(hours=1),
                    "nudges_for_step": 0,
                }
                for pid, _, _ in staff
            ],
        )
        enrolments = connection.execute(select(Enrolment.id)).scalars().all()
        done = now - dt.timedelta(days=3)
        connection.execute(
            insert(StepProgress),
            [
                {
                    "enrolment_id": eid,
                    "content_id": lesson,
                    "started_at": done,
                    "completed_at": done,
                    "applied_at": done,
                    "takeaway": takeaway,
                    "share_with_manager": shared,
                    "follow_ups": 1,
                }
                for eid in enrolments
                for lesson, takeaway, shared in (
                    ("give-peer-feedback", "Ask for feedback early in the retro", True),
                    ("receive-feedback-well", "A private note", False),
                )
            ],
        )
    engine.dispose()
    return len(staff)


def _run(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PLAN, *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=900
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=1_000)
    parser.add_argument("--reports", type=int, default=8, help="direct reports per manager")
    parser.add_argument("--pg", action="store_true", help="on the PostgreSQL server (default: a SQLite file)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    schema = f"lb_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL) if args.pg else None
    with tempfile.TemporaryDirectory() as tmp:
        if admin is not None:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            from tests.conftest import write_config

            config = write_config(Path(tmp))
            started = time.perf_counter()
            meetings = _populate(url, args.managers, args.reports, config, Path(tmp) / "data")
            setup = time.perf_counter() - started
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            steps = _run(env, url, str(config), NOW, "step")
            prompts = _run(env, url, str(config), NOW, "one_on_one")
        finally:
            if admin is not None:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    assert prompts["planned"] == meetings and steps["planned"] == meetings, (prompts, steps, meetings)
    where = "PostgreSQL" if args.pg else "SQLite"
    shape = f"{args.managers:,} managers × {args.reports} reports"
    print(f"{meetings:,} 1:1s ({shape}) on {where}; setup {setup:.1f} s\n")
    print(
        "| planning pass (one tick) | messages | time | per message | peak RSS (planning's own) | vs steps |"
    )
    print("|---|---|---|---|---|---|")
    for name, row in (("step nudges (baseline)", steps), ("1:1 prompts", prompts)):
        per = 1000 * row["seconds"] / row["planned"]
        own = row["peak_mb"] - row["before_mb"]
        ratio_t = row["seconds"] / steps["seconds"]
        ratio_m = own / max(steps["peak_mb"] - steps["before_mb"], 1)
        print(
            f"| {name} | {row['planned']:,} | {row['seconds']:.2f} s | {per:.2f} ms "
            f"| {row['peak_mb']:.0f} MB ({own:.0f} MB) | {ratio_t:.2f}× time, {ratio_m:.2f}× memory |"
        )


if __name__ == "__main__":
    main()
