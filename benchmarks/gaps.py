"""How long listing content gaps takes as they pile up: 300, 1,000 and 3,000 gap questions.

Questions are generated from the sample evaluation set's unanswerable and off-topic questions with
varied openings and endings (about one distinct text in three repeats), stored in a fresh SQLite
database, then clustered by `content_index.gaps.gap_clusters` (the semantic tier when installed):

- cold: the first listing in a process (every question embedded, then clustered);
- rebuilt: vectors known (in memory or the embedding cache file), clustering from scratch;
- again: nothing new since the last listing (the kept clustering is reused);
- +10 new: ten questions asked since the last listing (only they are clustered).

The baseline in the same run is the flat list `gaps` showed before issue 13
(`storage.questions.content_gaps`: the ten latest gap questions, one query). Run:
`python -m benchmarks.gaps [--sizes 300,1000,3000]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

import content_index.gaps as gaps
from content_index.semantic import unavailable_reason
from storage.db import make_engine, upgrade
from storage.models import Person, Question
from storage.questions import content_gaps

ROOT = Path(__file__).resolve().parent.parent
OPENINGS = ["", "hi, ", "quick one: ", "does anyone know ", "sorry, ", "help - "]
ENDINGS = ["", " please", " for my team", " this week", " in the {city} office", "?", " asap"]
CITIES = ["Leeds", "Leicester", "Lyon", "Lisbon", "Lagos", "Lima", "Linz", "Luton", "Lund", "Lille"]


def questions(n: int, seed: int = 7) -> list[str]:
    """`n` gap questions: base needs reworded, about a third of them repeats of earlier wordings."""
    rng = random.Random(seed)
    base = [
        json.loads(line)["text"]
        for name in ("unanswerable.jsonl", "offtopic.jsonl")
        for line in (ROOT / "samples" / "eval" / name).read_text().splitlines()
        if line.strip()
    ]
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < 0.33:
            out.append(rng.choice(out))
            continue
        ending = rng.choice(ENDINGS).format(city=rng.choice(CITIES))
        out.append(rng.choice(OPENINGS) + rng.choice(base) + ending)
    return out


def seed_db(url: str, texts: list[str], start: dt.datetime) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        people = [Person(display_name=f"P{i}") for i in range(50)]
        session.add_all(people)
        session.flush()
        for n, text in enumerate(texts):
            session.add(
                Question(
                    user_id=people[n % 50].id,
                    platform="console",
                    text=text,
                    answered=False,
                    asked_at=start + dt.timedelta(minutes=n),
                )
            )
        session.commit()
    engine.dispose()


def timed(step: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = step()
    return time.perf_counter() - started, result


def run(size: int, folder: Path) -> list[tuple[str, float, int]]:
    url = f"sqlite:///{folder / f'gaps-{size}.db'}"
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    texts = questions(size + 10)
    seed_db(url, texts[:size], start)
    engine = make_engine(url)
    since, now = start, start + dt.timedelta(days=60)
    rows: list[tuple[str, float, int]] = []
    with Session(engine) as session:
        seconds, flat = timed(lambda: content_gaps(session=session, limit=10))
        rows.append(("baseline: the ten latest gap questions (before issue 13)", seconds, len(flat)))  # type: ignore[arg-type]
        gaps._VECTORS.clear()
        gaps._CLUSTERINGS.clear()

        def listing() -> list[gaps.GapCluster]:
            return gaps.gap_clusters(session=session, since=since, now=now)

        for label in ("cold: embed and cluster", "rebuilt: vectors known", "again: nothing new"):
            if label.startswith("rebuilt"):
                gaps._CLUSTERINGS.clear()
            seconds, clusters = timed(listing)
            rows.append((label, seconds, len(clusters)))  # type: ignore[arg-type]
        for n, text in enumerate(texts[size:]):
            asked = start + dt.timedelta(minutes=size + n)
            session.add(Question(platform="console", text=text, answered=False, asked_at=asked))
        session.commit()
        seconds, clusters = timed(listing)
        rows.append(("+10 new questions", seconds, len(clusters)))  # type: ignore[arg-type]
    engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1000,3000")
    args = parser.parse_args(argv)
    tier = "semantic (all-MiniLM-L6-v2 int8)" if unavailable_reason() is None else "lexical (rapidfuzz)"
    print(f"Similarity: {tier}. Times in ms; ratio to the baseline of the same size.\n")
    print("| gap questions | step | ms | × baseline | clusters (or rows) |")
    print("|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            rows = run(size, Path(folder))
            baseline = rows[0][1]
            for label, seconds, count in rows:
                ratio = seconds / baseline if baseline else float("nan")
                print(f"| {size:,} | {label} | {seconds * 1000:,.1f} | {ratio:,.0f} | {count:,} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak memory of this process: {peak:,.0f} MB.")


if __name__ == "__main__":
    main()
