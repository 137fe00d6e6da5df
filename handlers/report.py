"""`report` in an admin's DM: write the L&D report for the last 30 days and say where it is.

The router lets only admins in a direct message reach this. The neutral `Reply` carries no files,
so the reply names the folder and the page to open; `report 90d` picks another period.
"""

from __future__ import annotations

import re

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Incoming, Reply
from bot.markup import Text, code
from bot.report import make_report

REPORT_DAYS = 30
MAX_DAYS = 3650
_COMMAND = re.compile(r"^/?report(?:\s+(?P<days>\S+))?\s*$", re.I)
_SPAN = re.compile(r"^(\d{1,4})([dw]?)$", re.I)


def match(incoming: Incoming) -> bool:
    """`report`, `report 30d`, `report 8w` (anything else after `report` gets the usage)."""
    return bool(_COMMAND.match(incoming.text.strip()))


def write_report(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Write report.html and the CSVs beside app.yaml in reports/, and reply with the page's path."""
    found = _COMMAND.match(incoming.text.strip())
    words = (found.group("days") if found else None) or f"{REPORT_DAYS}d"
    span = _SPAN.match(words)
    days = int(span.group(1)) * (7 if span.group(2).lower() == "w" else 1) if span else 0
    if not 1 <= days <= MAX_DAYS:
        usage = Text("I can report on a period like ", code("report 30d"), " or ", code("report 8w"))
        return [Reply(text=usage + f" (1 day to {MAX_DAYS // 365} years); {words[:20]!r} isn't one.")]
    folder = (bot.config_path.parent / "reports").resolve()
    written = make_report(bot=bot, days=days, folder=folder, session=session)
    text = Text(f"Your learning report for the last {days} days is ready: open ", code(str(written.html)))
    text += Text(f". Beside it are {len(written.csvs)} CSV files, one per table, in ", code(str(folder)), ".")
    text += "\n" + "\n".join(f"• {metric}: {value}" for metric, value in written.headline)
    return [Reply(text=text)]
