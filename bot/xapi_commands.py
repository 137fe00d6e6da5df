"""`learnbot xapi export|sweep|status`: the xAPI statements learnbot sends to an LRS."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings

_AGO = re.compile(r"^(\d+)\s*([dhw])$")


def since_time(text: str, now: dt.datetime) -> dt.datetime:
    """`30d`, `12h`, `2w` before `now`, or an ISO date/time (UTC unless it says otherwise)."""
    from nudges.clock import as_utc

    ago = _AGO.match(text.strip().lower())
    if ago:
        amount, unit = int(ago.group(1)), ago.group(2)
        return now - dt.timedelta(**{{"d": "days", "h": "hours", "w": "weeks"}[unit]: amount})
    try:
        return as_utc(dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"--since {text!r}: use a period like 30d, 12h or 2w, or a date like 2026-11-01"
        ) from None


def _open(settings: Settings) -> tuple[Any, Any]:
    from bot.config import load_config
    from storage.db import make_engine, require_current

    config = load_config(settings.config_path)
    engine = make_engine(settings.db_url)
    require_current(engine)
    return config, engine


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the xAPI statements for learning events since --since as one JSON array (what the LRS gets)."""
    from nudges.clock import SystemClock
    from nudges.xapi.sweep import export
    from storage.db import session_scope

    now = SystemClock().now()
    since = since_time(args.since, now)
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a folder; give a file name such as statements.json")
    config, engine = _open(settings)
    with session_scope(engine) as session:
        statements = export(session=session, config=config, since=since, now=now)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(statements, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(statements)} statements since {since:%Y-%m-%d %H:%M} UTC to {out}")
    return 0


def cmd_sweep(args: argparse.Namespace, settings: Settings) -> int:
    """Record new learning events as statements and queue them for the LRS now (each tick does too)."""
    from nudges.clock import SystemClock
    from nudges.xapi.sweep import sweep
    from storage.db import session_scope

    if not settings.xapi_endpoint:
        print("xAPI export is off: set XAPI_ENDPOINT, XAPI_KEY and XAPI_SECRET to send statements to an LRS")
        return 0
    config, engine = _open(settings)
    while True:  # a long history goes in pieces, each in its own transaction
        with session_scope(engine) as session:
            result = sweep(session=session, config=config, now=SystemClock().now())
        print(result.line())
        if not result.more:
            return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Statements recorded and sent to the LRS, batches waiting or failed, and the last failure's reason."""
    from storage.db import session_scope
    from storage.xapi import counts, last_failure

    _, engine = _open(settings)
    with session_scope(engine) as session:
        numbers, failure = counts(session=session), last_failure(session=session)
    where = settings.xapi_endpoint or "off (XAPI_ENDPOINT is not set)"
    batches = {k.removeprefix("batches_"): v for k, v in numbers.items() if k.startswith("batches_")}
    print(f"LRS: {where}")
    print(f"statements: {numbers['recorded']} recorded, {numbers['sent']} sent, {numbers['waiting']} waiting")
    print("batches: " + (", ".join(f"{n} {state}" for state, n in sorted(batches.items())) or "none"))
    if failure:
        print(f"last failure: {failure}")
    return 0


def add_commands(commands: Any, settings_for: Callable[[argparse.Namespace], Settings]) -> None:
    """Register `xapi export`, `xapi sweep` and `xapi status` on the `learnbot` parser."""

    def bind(func: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: func(args, settings_for(args))

    xapi = commands.add_parser("xapi", help="xAPI statements for a Learning Record Store")
    sub = xapi.add_subparsers(dest="xapi_command", required=True, metavar="XAPI_COMMAND")
    export = sub.add_parser("export", help=cmd_export.__doc__, description=cmd_export.__doc__)
    export.add_argument("--since", default="30d", help="how far back: 30d, 12h, 2w or a date (default 30d)")
    export.add_argument("--out", required=True, help="the JSON file to write")
    export.set_defaults(func=bind(cmd_export))
    sweep = sub.add_parser("sweep", help=cmd_sweep.__doc__, description=cmd_sweep.__doc__)
    sweep.set_defaults(func=bind(cmd_sweep))
    status = sub.add_parser("status", help=cmd_status.__doc__, description=cmd_status.__doc__)
    status.set_defaults(func=bind(cmd_status))
