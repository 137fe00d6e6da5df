"""The xAPI sweep at scale: record and batch every learning event, then sweep again with nothing new.

A database is seeded with `--learners` people (default 2,000), each with 5 answered questions,
a Helpful click on each, 2 pathway steps started, completed and applied, a shared takeaway and a
rating: 23 events a learner. Each sweep runs in a process of its own (peak RSS is its own).

  first sweeps  record every statement and queue the outbox batches (50 statements each), at most
                10,000 statements a sweep, each sweep its own transaction
  steady sweep  nothing new: what every planner tick pays once caught up (the NOT EXISTS queries)
  1% new        after 1% of the learners asked one more question (answered, Helpful)

Baseline in the same run: the steady sweep done the obvious way, listing every event and looking
its statement id up (uuid5 in Python, `IN` queries of 500), as the sweep's first version did.
Run: `python -m benchmarks.xapi_sweep [--learners 2000] [--db sqlite|postgresql|both]`.
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
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LEARNBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)

SWEEP = textwrap.dedent(
    """
    import datetime as dt, json, resource, sys, time
    from bot.config import load_config
    from nudges.xapi.sweep import sweep
    from storage.db import make_engine, session_scope
    engine, config = make_engine(sys.argv[1]), load_config(sys.argv[2])
    start, recorded, batches, sweeps, more = time.perf_counter(), 0, 0, 0, True
    while more:  # as `learnbot xapi sweep` does: bounded pieces, each in its own transaction
        with session_scope(engine) as session:
            result = sweep(session=session, config=config, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
        recorded, batches = recorded + sum(result.recorded.values()), batches + result.batches
        sweeps += 1
        more = result.more
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "recorded": recorded, "batches": batches,
                      "sweeps": sweeps}))
    """
)

# The obvious way: every event listed, its id computed in Python and looked up in chunks.
NAIVE = textwrap.dedent(
    """
    import json, resource, sys, time
    from sqlmodel import select
    from bot.config import load_config
    from nudges.xapi.statements import statement_id
    from storage.db import make_engine, session_scope
    from storage.models import AnswerShown, Feedback, Question, Rating, StepProgress
    from storage.xapi import known_ids
    engine, config = make_engine(sys.argv[1]), load_config(sys.argv[2])
    base = config.xapi.iri_base
    start = time.perf_counter()
    with session_scope(engine) as session:
        keys = [f"asked:question:{i}" for i in session.exec(select(Question.id))]
        keys += [f"answered:question:{q}:{c}" for q, c in session.exec(
            select(AnswerShown.question_id, AnswerShown.content_id).where(AnswerShown.rank == 0))]
        for p in session.exec(select(StepProgress)):
            moments = (("experienced", p.started_at), ("completed", p.completed_at),
                       ("applied", p.applied_at))
            keys += [f"{verb}:step:{p.id}" for verb, at in moments if at]
            if p.share_with_manager and p.takeaway:
                keys.append(f"shared:step:{p.id}")
        for r in session.exec(select(Rating)):
            keys.append(f"rated:rating:{r.id}:{r.role_relevance}:{r.strategic_clarity}")
        keys += [f"rated:feedback:{f.id}:{f.verdict}" for f in session.exec(select(Feedback))]
        ids = [statement_id(base, key) for key in keys]
        missing = len(ids) - len(known_ids(session=session, ids=ids))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "missing": missing, "events": len(ids)}))
    """
)


def _run(script: str, url: str, config: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, url, str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def seed(url: str, learners: int) -> None:
    """People and a season of learning, inserted in bulk."""
    from storage.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    lessons = [f"lesson-{n}" for n in range(20)]
    with engine.begin() as c:
        c.execute(
            insert(table("pillar")), [{"id": "people-growth", "name": "Growing our people", "imperative": ""}]
        )
        c.execute(
            insert(table("contentitem")),
            [
                {
                    "id": lid,
                    "source": "bench",
                    "kind": "lesson",
                    "title": f"Lesson {lid}",
                    "summary": "",
                    "body": "",
                    "skills": [],
                    "pillar": "people-growth",
                    "impact": [],
                    "audience": [],
                    "url": f"https://learn.example.com/{lid}",
                    "content_hash": "x",
                    "location": "",
                    "active": True,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for lid in lessons
            ],
        )
        c.execute(
            insert(table("pathway")),
            [
                {
                    "id": "feedback-culture",
                    "title": "Feedback that helps",
                    "pillar_id": "people-growth",
                    "imperative": "",
                    "audience": {},
                    "cadence_days": 7,
                    "active": True,
                }
            ],
        )
        people = [
            {
                "id": n,
                "display_name": f"P{n}",
                "email": f"p{n}@acme.example",
                "active": True,
                "created_at": T0,
            }
            for n in range(1, learners + 1)
        ]
        c.execute(insert(table("person")), people)
        c.execute(
            insert(table("identity")),
            [
                {"person_id": n, "platform": "slack", "platform_user_id": f"U{n:06d}", "created_at": T0}
                for n in range(1, learners + 1)
            ],
        )
        c.execute(
            insert(table("enrolment")),
            [
                {
                    "id": n,
                    "user_id": n,
                    "pathway_id": "feedback-culture",
                    "joined_by": "self",
                    "status": "active",
                    "enrolled_at": T0,
                    "nudges_for_step": 0,
                }
                for n in range(1, learners + 1)
            ],
        )
        steps = []
        for n in range(1, learners + 1):
            for s in range(2):
                steps.append(
                    {
                        "enrolment_id": n,
                        "content_id": lessons[s],
                        "started_at": T0,
                        "completed_at": T0,
                        "applied_at": T0,
                        "takeaway": "t" if s == 0 else None,
                        "share_with_manager": s == 0,
                        "follow_ups": 0,
                    }
                )
        c.execute(insert(table("stepprogress")), steps)
        questions, shown, feedback = [], [], []
        qid = 0
        for n in range(1, learners + 1):
            for q in range(5):
                qid += 1
                lesson = lessons[(n + q) % len(lessons)]
                questions.append(
                    {
                        "id": qid,
                        "user_id": n,
                        "platform": "slack",
                        "channel_id": "D1",
                        "text": "how",
                        "answered": True,
                        "confidence": 0.9,
                        "asked_at": T0,
                    }
                )
                shown.append(
                    {"question_id": qid, "content_id": lesson, "rank": 0, "confidence": 0.9, "shown_at": T0}
                )
                feedback.append(
                    {
                        "user_id": n,
                        "content_id": lesson,
                        "question_id": qid,
                        "verdict": "helpful",
                        "created_at": T0,
                    }
                )
        c.execute(insert(table("question")), questions)
        c.execute(insert(table("answershown")), shown)
        c.execute(insert(table("feedback")), feedback)
        c.execute(
            insert(table("rating")),
            [
                {
                    "user_id": n,
                    "content_id": lessons[0],
                    "role_relevance": 4,
                    "strategic_clarity": 3,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for n in range(1, learners + 1)
            ],
        )
        if c.dialect.name == "postgresql":
            c.execute(text("SELECT setval('question_id_seq', (SELECT max(id) FROM question))"))
    engine.dispose()


def more_questions(url: str, learners: int) -> None:
    from storage.db import make_engine

    engine = make_engine(url)
    with engine.begin() as c:
        start = int(c.execute(text("SELECT max(id) FROM question")).scalar() or 0)
        extra = max(1, learners // 100)
        rows = [
            {
                "id": start + n,
                "user_id": n,
                "platform": "slack",
                "channel_id": "D1",
                "text": "again",
                "answered": True,
                "confidence": 0.9,
                "asked_at": T0,
            }
            for n in range(1, extra + 1)
        ]
        c.execute(insert(table("question")), rows)
        c.execute(
            insert(table("answershown")),
            [
                {
                    "question_id": r["id"],
                    "content_id": "lesson-3",
                    "rank": 0,
                    "confidence": 0.9,
                    "shown_at": T0,
                }
                for r in rows
            ],
        )
        c.execute(
            insert(table("feedback")),
            [
                {
                    "user_id": r["user_id"],
                    "content_id": "lesson-3",
                    "question_id": r["id"],
                    "verdict": "helpful",
                    "created_at": T0,
                }
                for r in rows
            ],
        )
    engine.dispose()


def table(name: str) -> Any:
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401 - registers the tables

    return SQLModel.metadata.tables[name]


def measure(kind: str, url: str, learners: int, config: Path) -> list[tuple[str, str, str, str]]:
    seed(url, learners)
    events = learners * 23
    first = _run(SWEEP, url, config)
    assert first["recorded"] == events, first
    steady = _run(SWEEP, url, config)
    naive = _run(NAIVE, url, config)
    assert steady["recorded"] == 0 and naive["missing"] == 0 and naive["events"] == events, (steady, naive)
    more_questions(url, learners)
    new = _run(SWEEP, url, config)
    ratio = naive["seconds"] / steady["seconds"] if steady["seconds"] else float("inf")
    return [
        (
            kind,
            f"first sweeps ({events:,} events, {first['sweeps']} sweeps of at most 10,000)",
            f"{first['seconds']:.2f} s",
            f"{events / first['seconds']:,.0f} statements/s, {first['batches']} batches, "
            f"peak {first['peak_mb']:.0f} MB",
        ),
        (
            kind,
            "steady sweep (nothing new)",
            f"{steady['seconds'] * 1000:.0f} ms",
            f"baseline {naive['seconds'] * 1000:.0f} ms: {ratio:.1f}x faster; peak {steady['peak_mb']:.0f} MB"
            f" (baseline {naive['peak_mb']:.0f} MB)",
        ),
        (
            kind,
            f"sweep after 1% asked again ({new['recorded']} events)",
            f"{new['seconds'] * 1000:.0f} ms",
            "",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "app.yaml"
        config.write_text("pillars:\n  - {id: people-growth, name: Growing our people}\n")
        if args.db in ("sqlite", "both"):
            rows += measure("SQLite", f"sqlite:///{folder}/bench.db", args.learners, config)
        if args.db in ("postgresql", "both"):
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG_URL)
            with admin.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                rows += measure("PostgreSQL", url, args.learners, config)
            finally:
                with admin.begin() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print(f"xAPI sweep, {args.learners:,} learners\n")
    print("| database | what | time | notes |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
