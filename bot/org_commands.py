"""`learnbot org sync` and `learnbot one-on-ones scan`: the org chart and 1:1s from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import AppConfig, Settings, load_config
from nudges.clock import Clock, ManualClock, SystemClock, as_utc

EXIT_FAILED = 1
PROMPT_KIND = "one_on_one"


@dataclass
class OrgHost:
    """What the org sync and the scan need: app.yaml, the database and a clock (no search index)."""

    config: AppConfig
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)

    @contextmanager
    def session(self) -> Iterator[Session]:
        from storage.db import session_scope

        with session_scope(self.engine) as session:
            yield session


def open_host(settings: Settings) -> OrgHost:
    from storage.db import make_engine, require_current

    config = load_config(settings.config_path)
    engine = make_engine(settings.db_url)
    require_current(engine)
    return OrgHost(config, engine)


def _when(text: str) -> dt.datetime:
    try:
        return as_utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"--at {text!r} is not an ISO time like 2026-12-01T09:00:00Z") from None


def cmd_org_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Read the org chart (app.yaml org.source: graph or roster) and store people, teams and managers."""
    from nudges.org_sync import OrgSyncError, sync_org
    from nudges.roster_files import RosterError

    host = open_host(settings)
    try:
        result = sync_org(host, settings, source=args.source)
    except (OrgSyncError, RosterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    print(
        f"org chart from {result.source}: {result.listed} people listed, {result.added} added, "
        f"{result.updated} updated, {result.left} left (now inactive), {result.returned} back; "
        f"{result.managers} managers"
    )
    if result.unknown_managers:
        unknown = sorted(set(result.unknown_managers))
        print(f"managers not in the listing (left unlinked): {', '.join(unknown[:10])}")
    return 0


def cmd_scan(args: argparse.Namespace, settings: Settings) -> int:
    """Read managers' 1:1s (calendars or the roster), store them, and run one planner pass at --at."""
    from nudges.calendars import ScanError, scan
    from nudges.roster_files import RosterError

    host = open_host(settings)
    at = _when(args.at) if args.at else host.clock.now()
    host.clock = ManualClock(at)
    try:
        result = scan(host, settings, now=at, source=args.source)
    except (ScanError, RosterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    queued = plan_once(host, settings, at)
    if args.json:
        print(json.dumps({"meetings": result.meetings_json(), "prompts_queued": queued}))
    else:
        start, end = result.window
        print(f"1:1s from {result.source}, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC:")
        for meeting in result.meetings_json():
            print(f"  {meeting['start']}  {meeting['manager']} with {meeting['report']}  ({meeting['id']})")
        if not result.found:
            print("  none found")
        changes = result.changes
        print(
            f"{len(result.found)} found for {result.managers - result.failed} of {result.managers} managers: "
            f"{changes.added} new, {changes.moved} moved, {changes.restored} back, "
            f"{changes.cancelled} cancelled; {queued} prompts queued"
        )
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def plan_once(host: OrgHost, settings: Settings, at: dt.datetime) -> int:
    """One planner pass at `at`; how many 1:1 prompts it put in the outbox."""
    from sqlmodel import func, select

    from bot.wiring import senders
    from nudges.planner import plan
    from storage.models import OutboxMessage

    def prompts(session: Session) -> int:
        return int(session.exec(select(func.count()).where(OutboxMessage.kind == PROMPT_KIND)).one())

    registered = senders(settings, host.clock, engine=host.engine)
    with host.session() as session:
        before = prompts(session)
        plan(session=session, config=host.config, now=at, senders=registered)
        session.flush()
        return prompts(session) - before


def add_commands(commands: Any, settings_for: Callable[[argparse.Namespace], Settings]) -> None:
    """Register `org sync` and `one-on-ones scan` on the `learnbot` parser."""

    def bind(func: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: func(args, settings_for(args))

    org = commands.add_parser("org", help="the org chart: people, teams and managers")
    org_commands = org.add_subparsers(dest="org_command", required=True, metavar="ORG_COMMAND")
    sync = org_commands.add_parser("sync", help=cmd_org_sync.__doc__, description=cmd_org_sync.__doc__)
    sync.add_argument("--json", action="store_true", help="print one JSON object")
    sync.add_argument("--source", choices=["graph", "roster"], help="override app.yaml's org.source")
    sync.set_defaults(func=bind(cmd_org_sync))

    ones = commands.add_parser("one-on-ones", help="managers' 1:1s from calendars or a roster")
    ones_commands = ones.add_subparsers(dest="one_on_ones_command", required=True, metavar="COMMAND")
    scan = ones_commands.add_parser("scan", help=cmd_scan.__doc__, description=cmd_scan.__doc__)
    scan.add_argument("--at", help="act as if it were this time, e.g. 2026-12-01T09:00:00Z")
    scan.add_argument("--source", choices=["graph", "roster"], help="override app.yaml's one_on_ones.source")
    scan.add_argument(
        "--json", action="store_true", help='print one object: {"meetings": [...], "prompts_queued": N}'
    )
    scan.set_defaults(func=bind(cmd_scan))
