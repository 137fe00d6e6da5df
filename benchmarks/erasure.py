"""Exporting and erasing one learner's data in a database with many learners (SQLite, or --db-url).

Erasure searches every text and JSON column of every table for what identified the person, so its
cost grows with the whole database, not with the person. The baseline in the same run is reading
every row of every table once. Run: `python -m benchmarks.erasure [--people 2000] [--questions 20]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import insert, select
from sqlmodel import SQLModel

from storage.db import make_engine, session_scope, upgrade
from storage.models import (
    ContentItem,
    ConversationReference,
    Feedback,
    Identity,
    OutboxMessage,
    Person,
    Question,
)
from storage.personal_data import erase_person, export_person

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def seed(url: str, people: int, questions: int) -> None:
    """`people` learners, each with an identity, a reference, questions, a verdict each and a nudge."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                {
                    "display_name": f"Learner {n:05d}",
                    "email": f"learner{n:05d}@acme.example",
                    "active": True,
                    "created_at": NOW,
                }
                for n in range(1, people + 1)
            ],
        )
        connection.execute(
            insert(Identity),
            [
                {"person_id": n, "platform": "slack", "platform_user_id": f"U{n:08d}", "created_at": NOW}
                for n in range(1, people + 1)
            ],
        )
        connection.execute(
            insert(ConversationReference),
            [
                {
                    "user_id": n,
                    "platform": "slack",
                    "platform_user_id": f"U{n:08d}",
                    "channel_id": f"D{n:08d}",
                    "data": {"team": "T1"},
                    "updated_at": NOW,
                }
                for n in range(1, people + 1)
            ],
        )
        rows = [
            {
                "user_id": n,
                "platform": "slack",
                "channel_id": f"D{n:08d}",
                "answered": True,
                "text": f"how do I file expense claim {q} as learner {n:05d}",
                "asked_at": NOW,
            }
            for n in range(1, people + 1)
            for q in range(questions)
        ]
        connection.execute(insert(Question), rows)
        connection.execute(
            insert(OutboxMessage),
            [
                {
                    "idempotency_key": f"step:{n}:1",
                    "platform": "slack",
                    "user_id": n,
                    "kind": "pathway_step",
                    "payload": {"to": {"user_id": f"U{n:08d}"}, "text": f"Hi Learner {n:05d}"},
                    "status": "sent",
                    "due_at": NOW,
                    "created_at": NOW,
                }
                for n in range(1, people + 1)
            ],
        )
        ids = connection.execute(select(Question.id, Question.user_id)).all()
        connection.execute(
            insert(ContentItem),
            [
                {
                    "id": "lesson",
                    "source": "x",
                    "title": "Lesson",
                    "content_hash": "h",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "skills": [],
                    "impact": [],
                    "audience": [],
                }
            ],
        )
        connection.execute(
            insert(Feedback),
            [
                {
                    "user_id": user,
                    "content_id": "lesson",
                    "question_id": qid,
                    "verdict": "helpful",
                    "created_at": NOW,
                }
                for qid, user in ids
            ],
        )
    engine.dispose()


def timed(label: str, work: object) -> tuple[str, float]:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return label, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=20, help="questions (and verdicts) per learner")
    parser.add_argument("--db-url", help="a PostgreSQL URL with an empty schema (default: a SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.db_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        seed(url, args.people, args.questions)
        engine = make_engine(url)
        person = args.people // 2

        def read_everything() -> None:
            with engine.connect() as connection:
                for table in SQLModel.metadata.sorted_tables:
                    connection.execute(select(table)).all()

        def export() -> None:
            with session_scope(engine) as session:
                export_person(session=session, person_id=person)

        def erase() -> None:
            with session_scope(engine) as session:
                erase_person(session=session, person_id=person)

        rows = [timed("read every row of every table (baseline)", read_everything)]
        rows.append(timed("export one learner", export))
        rows.append(timed("erase one learner", erase))
        engine.dispose()
    total = args.people * args.questions
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.people} learners, {total} questions and {total} verdicts; peak RSS {peak:.0f} MB")
    print("| step | seconds | ratio to baseline |")
    print("|---|---|---|")
    base = rows[0][1]
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
