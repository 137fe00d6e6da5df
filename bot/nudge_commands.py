"""`learnbot tick`, `learnbot dispatch` and `learnbot nudges status|run`: nudges from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import resource
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.config import Settings


def _when(text: str) -> dt.datetime:
    from nudges.clock import as_utc

    try:
        return as_utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"--at {text!r} is not an ISO time like 2026-12-01T09:00:00Z") from None


def cmd_tick(args: argparse.Namespace, settings: Settings) -> int:
    """Run one planner and dispatcher pass, as if it were --at (default: now)."""
    from bot.adapters.console import ConsoleSender, render_reply
    from bot.app import open_bot
    from bot.wiring import senders
    from nudges.clock import ManualClock
    from nudges.scheduler import run_tick

    bot = open_bot(settings)
    bot.clock = ManualClock(_when(args.at) if args.at else bot.clock.now())
    registered = senders(settings, bot.clock, engine=bot.engine)
    result = run_tick(bot, registered)
    console = registered["console"]
    assert isinstance(console, ConsoleSender)
    for when, message in console.delivered:
        to = message.to
        where = f"DM {to.user_id}" if to.user_id else f"#{to.channel_id}"
        print(f"── {when:%Y-%m-%d %H:%M} UTC · console · {where} ──")
        print("\n".join(render_reply(message.reply)))
    planned = result.plan
    print(
        f"tick at {result.at:%Y-%m-%dT%H:%M:%SZ}: enrolled {planned.enrolled}, planned {planned.steps} steps "
        f"and {planned.follow_ups} follow-ups ({planned.deferred_by_cap} held back by the weekly cap, "
        f"{planned.opted_out} opted out, {planned.unreachable} people unreachable), "
        f"{result.campaign_posts} campaign posts; "
        f"sent {result.dispatch.sent}, retrying {result.dispatch.retried}, failed {result.dispatch.failed}"
    )
    if result.next_wake:
        print(f"next nudge due {result.next_wake:%Y-%m-%dT%H:%M:%SZ}")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Queued, deferred, sending, sent, failed and cancelled counts, unreachable people, what is due next."""
    from bot.app import open_bot
    from bot.wiring import senders
    from nudges.clock import ManualClock
    from nudges.status import lines, summary

    bot = open_bot(settings)
    now = _when(args.at) if args.at else bot.clock.now()
    bot.clock = ManualClock(now)
    with bot.session() as session:
        status = summary(
            session=session,
            config=bot.config,
            now=now,
            senders=senders(settings, bot.clock, engine=bot.engine),
            limit=args.limit,
        )
    if args.json:
        print(json.dumps(status.as_json()))
        return 0
    print("\n".join(lines(status)))
    return 0


def cmd_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Deliver due outbox messages until none are left (or --seconds pass); prints one JSON summary line."""
    from sqlmodel import col, func, select

    from bot.wiring import senders
    from nudges.clock import SystemClock
    from nudges.outbox import Dispatcher, DispatchResult
    from storage.db import make_engine, require_current, session_scope
    from storage.models import OutboxMessage
    from storage.outbox import PENDING, SENDING

    engine = make_engine(settings.db_url)
    require_current(engine)  # no app.yaml or search index needed just to deliver
    clock = SystemClock()
    registered = senders(settings, clock, engine=engine)
    if args.platform:
        registered = {name: sender for name, sender in registered.items() if name in args.platform}
    dispatcher = Dispatcher(
        engine,
        registered,
        clock,
        batch=args.batch,
        workers=args.workers,
        lease=dt.timedelta(seconds=args.lease),
    )
    total = DispatchResult()
    started = busy_until = time.perf_counter()
    deadline = started + args.seconds
    try:
        while time.perf_counter() < deadline:
            result = dispatcher.run_once()
            total.add(result)
            if result.busy:
                busy_until = time.perf_counter()
                continue
            with session_scope(engine) as session:
                left = session.exec(
                    select(func.count()).where(
                        col(OutboxMessage.status).in_([PENDING, SENDING]),
                        col(OutboxMessage.platform).in_(list(registered)),
                    )
                ).one()
            if not left:
                break
            time.sleep(0.1)
    finally:
        dispatcher.close()
    elapsed = busy_until - started  # time spent delivering, not waiting for others' leases
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        "peak_mb": round(peak_mb, 1),
        "sent": total.sent,
        "retried": total.retried,
        "deferred": total.deferred,
        "found": total.found,
        "lost": total.lost,
        "failed": total.failed,
        "seconds": round(elapsed, 3),
    }
    print(json.dumps(summary), flush=True)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the scheduler in this process (planner, dispatcher and campaign crons) until Ctrl-C."""
    from bot.app import open_bot
    from bot.wiring import senders
    from nudges.scheduler import NudgeScheduler

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    bot = open_bot(settings)
    registered = senders(settings, bot.clock, engine=bot.engine)
    scheduler = NudgeScheduler(bot, registered, settings=settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    print(f"learnbot nudges running for {', '.join(registered)} (Ctrl-C to stop)", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown()
    return 0


def add_commands(commands: Any, settings_for: Callable[[argparse.Namespace], Settings]) -> None:
    """Register the nudge commands on the `learnbot` parser."""

    def bind(func: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: func(args, settings_for(args))

    tick = commands.add_parser("tick", help=cmd_tick.__doc__, description=cmd_tick.__doc__)
    tick.add_argument("--at", help="the time to act as if it were, e.g. 2026-12-01T09:00:00Z")
    tick.set_defaults(func=bind(cmd_tick))

    dispatch = commands.add_parser("dispatch", help=cmd_dispatch.__doc__, description=cmd_dispatch.__doc__)
    dispatch.add_argument("--batch", type=int, default=200, help="rows claimed per pass (default 200)")
    dispatch.add_argument("--workers", type=int, default=8, help="concurrent sends (default 8)")
    dispatch.add_argument("--lease", type=float, default=60, help="seconds a claim lasts (default 60)")
    dispatch.add_argument("--seconds", type=float, default=300, help="stop after this long (default 300)")
    dispatch.add_argument("--platform", action="append", help="only this platform (repeatable)")
    dispatch.set_defaults(func=bind(cmd_dispatch))

    nudges = commands.add_parser("nudges", help="nudge delivery: status and the scheduler")
    sub = nudges.add_subparsers(dest="nudges_command", required=True, metavar="NUDGES_COMMAND")
    status = sub.add_parser("status", help=cmd_status.__doc__, description=cmd_status.__doc__)
    status.add_argument("--at", help="count as if it were this time")
    status.add_argument("--limit", type=int, default=5, help="how many next-due rows to list (default 5)")
    status.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    status.set_defaults(func=bind(cmd_status))
    run = sub.add_parser("run", help=cmd_run.__doc__, description=cmd_run.__doc__)
    run.set_defaults(func=bind(cmd_run))
