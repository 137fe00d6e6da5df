"""`learnbot report` (the L&D report as HTML and CSV) and `learnbot demo seed` (activity to report on)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings

_SPAN = re.compile(r"^\s*(\d{1,4})\s*([dw]?)\s*$", re.I)


def days_of(text: str) -> int:
    """`30d`, `8w` or `30` as a number of days; a clear ValueError otherwise."""
    found = _SPAN.match(text)
    if not found or int(found.group(1)) < 1:
        raise ValueError(f"--since {text!r}: give a period like 30d (days) or 8w (weeks), at least 1 day")
    return int(found.group(1)) * (7 if found.group(2).lower() == "w" else 1)


def moment(text: str, option: str) -> dt.datetime:
    """An ISO date or date-time (UTC unless it says otherwise); a clear ValueError otherwise."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} {text!r}: give an ISO date like 2026-11-27 or 2026-11-27T12:00") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def add_commands(commands: Any, settings_of: Callable[[argparse.Namespace], Settings]) -> None:
    """Register `report` and `demo seed` on the main parser's subcommands."""

    def cmd_report(args: argparse.Namespace) -> int:
        """Write the L&D report for a period: one self-contained HTML page and one CSV per table."""
        from bot.app import open_bot
        from bot.report import make_report

        days = days_of(args.since)
        until = moment(args.until, "--until") if args.until else None
        bot = open_bot(settings_of(args))
        try:
            written = make_report(bot=bot, days=days, folder=Path(args.out), until=until)
        finally:
            bot.engine.dispose()
        print(f"report: {written.html}")
        print(f"csv: {len(written.csvs)} tables in {written.html.parent}")
        return 0

    def cmd_demo_seed(args: argparse.Namespace) -> int:
        """Fill the database with sample learners and weeks of activity (deterministic), for the report."""
        from bot.demo import DemoError, seed_demo

        now = moment(args.now, "--now") if args.now else None
        try:
            summary = seed_demo(
                settings_of(args), people=args.people, weeks=args.weeks, seed=args.seed, now=now
            )
        except DemoError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"seeded: {summary.line()}")
        print("now run: learnbot report --since 30d")
        return 0

    report = commands.add_parser("report", help=cmd_report.__doc__, description=cmd_report.__doc__)
    report.add_argument("--since", default="30d", help="the period before --until: 30d, 8w … (default 30d)")
    report.add_argument("--until", help="end of the period, an ISO date or time in UTC (default now)")
    report.add_argument(
        "--out", default="reports", help="folder for report.html and the CSVs (default reports/)"
    )
    report.set_defaults(func=cmd_report)

    demo = commands.add_parser("demo", help="sample data for trying learnbot out")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True, metavar="DEMO_COMMAND")
    seed = demo_commands.add_parser("seed", help=cmd_demo_seed.__doc__, description=cmd_demo_seed.__doc__)
    seed.add_argument("--people", type=int, default=40, help="how many learners (default 40)")
    seed.add_argument("--weeks", type=int, default=8, help="how many weeks of activity (default 8)")
    seed.add_argument("--seed", type=int, default=13, help="random seed: same seed, same data (default 13)")
    seed.add_argument("--now", help="pretend it is this ISO date-time (UTC) when seeding (default now)")
    seed.set_defaults(func=cmd_demo_seed)
