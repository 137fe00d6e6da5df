"""The outbox under faults: two dispatcher processes on PostgreSQL, a slow and flaky Slack, a SIGKILL.

Each algorithm runs two scenarios on a fresh schema with the same rows (one DM each, so no
per-channel pacing):

- **fault-free**: every `chat.postMessage` takes 1–3 s (uniform), nothing fails;
- **faults**: the same delays, plus random HTTP 429s (Retry-After 1), HTTP 500s (not
  processed) and dropped connections after the post took effect (the dispatcher cannot tell);
  one dispatcher is killed with SIGKILL mid-batch once 10% of the posts are out, and a
  replacement starts. The faults clear once 40% are out and the killed dispatcher's lease has
  run out (its rows are free again).

`fenced` is today's dispatcher (`learnbot dispatch`). `baseline` is the dispatcher as it was
before issue 9 (commit BASELINE), loaded from git into its own process: it marks a batch sent
after the whole batch and does not check its lease. The fake Slack counts every post that took
effect, by the outbox key in its metadata: *sent* is distinct keys delivered, *duplicates*
posts beyond the first per key, *lost* keys never delivered (failed rows included).
Throughput is distinct keys delivered per second up to 95% of the rows, from the first post
(fault-free) or from the moment faults cleared (faults): the tail is retries' back-off.

Run: `python -m benchmarks.outbox_faults [--rows 800] [--workers 16] [--lease 30]` (needs
PostgreSQL at 127.0.0.1:5432, or LEARNBOT_BENCH_PG_URL; about four minutes with the defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("LEARNBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BASELINE = "31402db"  # main before issue 9's outbox changes
TOKEN = "xoxb-bench"
DUE = "2026-01-05T09:00:00+00:00"  # in the past: real-clock dispatchers find every row due

# The dispatcher before issue 9, from git, with its own Slack sender (the old error classes).
OLD_DISPATCH = textwrap.dedent(
    """
    import datetime as dt, json, subprocess, sys, time, types
    import storage.db, storage.models
    commit, root, batch, workers, lease, seconds = sys.argv[1:7]

    def load(name, path):
        source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=root, check=True,
                                capture_output=True, text=True).stdout
        module = types.ModuleType(name)
        module.__file__ = f"{commit}:{path}"
        sys.modules[name] = module
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        return module

    load("storage.outbox", "storage/outbox.py")
    old = load("nudges.outbox", "nudges/outbox.py")
    old_sender = load("learnbot_old_slack_sender", "bot/adapters/slack/sender.py")
    from bot.config import load_settings
    from nudges.clock import SystemClock
    from sqlmodel import col, func, select
    from storage.db import make_engine, session_scope
    from storage.models import OutboxMessage
    settings = load_settings()
    engine = make_engine(settings.db_url)
    sender = old_sender.SlackSender(old_sender.outbox_client(settings))
    dispatcher = old.Dispatcher(engine, {"slack": sender}, SystemClock(), batch=int(batch),
                                workers=int(workers), lease=dt.timedelta(seconds=float(lease)))
    total, deadline = old.DispatchResult(), time.monotonic() + float(seconds)
    while time.monotonic() < deadline:  # the old `learnbot dispatch` loop
        result = dispatcher.run_once()
        total.add(result)
        if result.sent or result.retried or result.failed or result.paced:
            continue
        with session_scope(engine) as session:
            left = session.exec(select(func.count()).where(
                col(OutboxMessage.status).in_(["pending", "sending"]))).one()
        if not left:
            break
        time.sleep(0.1)
    dispatcher.close()
    print(json.dumps({"sent": total.sent, "retried": total.retried, "failed": total.failed}), flush=True)
    """
)


@dataclass
class Outcome:
    algorithm: str
    scenario: str
    rows: int
    sent: int
    duplicates: int
    lost: int
    seconds: float
    throughput: float  # distinct keys a second up to 95% (from the start, or from when faults cleared)


def _schema(url: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, f"{url}?options=-csearch_path%3D{schema}"


def _drop(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _fill(url: str, rows: int) -> None:
    import datetime as dt

    from bot.events import ConversationRef, Reply
    from nudges.outbox import reply_payload
    from storage.db import make_engine, session_scope, upgrade
    from storage.outbox import enqueue_many, message_row

    engine = make_engine(url)
    upgrade(engine)
    due = dt.datetime.fromisoformat(DUE)
    batch = [
        message_row(
            f"step:bench:{n}",
            "slack",
            "step",
            reply_payload(Reply(text=f"Step {n}"), to=ConversationRef("slack", f"U{n}", f"D{n:06d}")),
            due,
            channel_id=f"D{n:06d}",
        )
        for n in range(rows)
    ]
    with session_scope(engine) as session:
        for start in range(0, rows, 1000):
            enqueue_many(session=session, rows=batch[start : start + 1000])
    engine.dispose()


def _command(algorithm: str, args: argparse.Namespace) -> list[str]:
    if algorithm == "baseline":
        options = [
            BASELINE,
            str(ROOT),
            str(args.batch),
            str(args.workers),
            str(args.lease),
            str(args.deadline),
        ]
        return [sys.executable, "-c", OLD_DISPATCH, *options]
    return [
        sys.executable,
        *("-m", "bot.cli", "dispatch"),
        *("--batch", str(args.batch), "--workers", str(args.workers)),
        *("--lease", str(args.lease), "--seconds", str(args.deadline)),
    ]


def _throughput(first_seen: list[float], since: float, rows: int) -> float:
    """Distinct keys a second from `since` until 95% of all rows were delivered."""
    target = int(rows * 0.95)
    if len(first_seen) < target:
        return 0.0
    end = first_seen[target - 1]
    after = [t for t in first_seen[:target] if t >= since]
    return len(after) / max(end - since, 1e-6)


def run(algorithm: str, faults: bool, args: argparse.Namespace) -> Outcome:
    from tests.fake_slack import FakeSlack

    schema, url = _schema(args.pg_url)
    try:
        _fill(url, args.rows)
        with FakeSlack() as fake:
            fake.chaos(
                "chat.postMessage",
                delay=(1.0, 3.0),
                rate_limited=args.rate_limited if faults else 0.0,
                errors=args.errors if faults else 0.0,
                dropped=args.dropped if faults else 0.0,
                seed=args.seed,
            )
            if faults:  # the history lookups go through the same slow, rate-limited Slack
                fake.chaos("conversations.history", delay=(1.0, 3.0), rate_limited=args.rate_limited, seed=1)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_API_URL": fake.url,
                "LEARNBOT_CONFIG": str(ROOT / "app.yaml"),
                "LEARNBOT_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
            }
            start = time.monotonic()
            spawn = lambda: subprocess.Popen(  # noqa: E731
                _command(algorithm, args),
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            procs = [spawn(), spawn()]
            cleared = start
            killed_at = None
            while any(p.poll() is None for p in procs):
                delivered = len(set(fake.delivered_keys()))
                now = time.monotonic()
                if faults and killed_at is None and delivered >= args.rows * args.kill_after:
                    os.kill(procs[0].pid, signal.SIGKILL)  # mid-batch: it holds a claimed batch
                    killed_at = now
                    procs.append(spawn())
                if (
                    faults
                    and killed_at is not None
                    and cleared == start
                    and delivered >= args.rows * args.clear_after
                    and now >= killed_at + args.lease + 2  # the killed dispatcher's rows are free again
                ):
                    for method in ("chat.postMessage", "conversations.history"):  # still slow, no faults
                        fake.chaos(method, delay=(1.0, 3.0), seed=args.seed + 1)
                    cleared = now
                if now - start > args.deadline + 30:
                    for proc in procs:
                        proc.kill()
                time.sleep(0.2)
            seconds = time.monotonic() - start
            posts = [
                (call.at, call.params["metadata"]["event_payload"]["key"])
                for call in fake.called("chat.postMessage")
                if call.response.get("ok") and isinstance(call.params.get("metadata"), dict)
            ]
        keys = Counter(key for _, key in posts)
        first: dict[str, float] = {}
        for at, key in sorted(posts):
            first.setdefault(key, at)
        # from the first post (process start-up is not delivery), or from when the faults cleared
        since = cleared if faults and cleared != start else min(first.values(), default=start)
        return Outcome(
            algorithm,
            "faults + SIGKILL" if faults else "fault-free",
            args.rows,
            len(keys),
            sum(n - 1 for n in keys.values()),
            args.rows - len(keys),
            seconds,
            _throughput(sorted(first.values()), since, args.rows),
        )
    finally:
        _drop(args.pg_url, schema)


def table(outcomes: Sequence[Outcome]) -> str:
    free = {o.algorithm: o.throughput for o in outcomes if o.scenario == "fault-free"}
    lines = [
        "| dispatcher | scenario | rows | sent | duplicates | lost | wall time | throughput (msg/s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        ratio = ""
        if o.scenario != "fault-free" and free.get(o.algorithm):
            ratio = f" after faults clear ({o.throughput / free[o.algorithm]:.0%} of fault-free)"
        lines.append(
            f"| {o.algorithm} | {o.scenario} | {o.rows} | {o.sent} | {o.duplicates} | {o.lost} "
            f"| {o.seconds:.0f} s | {o.throughput:.1f}{ratio} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[Outcome]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=800)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=16, help="concurrent sends per dispatcher")
    parser.add_argument(
        "--lease", type=float, default=30.0, help="seconds; longer than a send can take (2 × 10 s) + 5 s"
    )
    parser.add_argument("--rate-limited", type=float, default=0.05, help="share of posts answered 429")
    parser.add_argument("--errors", type=float, default=0.05, help="share of posts answered 500")
    parser.add_argument(
        "--dropped", type=float, default=0.03, help="share of posts dropped after taking effect"
    )
    parser.add_argument("--kill-after", type=float, default=0.1, help="SIGKILL once this share is delivered")
    parser.add_argument(
        "--clear-after", type=float, default=0.4, help="faults stop once this share is delivered"
    )
    parser.add_argument("--deadline", type=float, default=240.0, help="seconds each dispatcher may run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=["fenced", "baseline"], help="run one algorithm")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    outcomes = []
    for algorithm in [args.only] if args.only else ["fenced", "baseline"]:
        for faults in (False, True):
            outcomes.append(run(algorithm, faults, args))
            print(
                f"  {algorithm}, {outcomes[-1].scenario}: done in {outcomes[-1].seconds:.0f} s",
                file=sys.stderr,
            )
    if args.json:
        print(json.dumps([o.__dict__ for o in outcomes]))
    else:
        print(table(outcomes))
    return outcomes


if __name__ == "__main__":
    main()
