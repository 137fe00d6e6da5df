"""The L&D report (`learnbot report`, and `report` in an admin's chat): metrics for a period as HTML and CSV.

`sections` computes every table (our metrics from `storage.analytics`, the audit, gaps, ratings
and pulse through adapters), `charts` draws them as SVG, `render` writes the page and CSVs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session

from bot.app import LearnBot
from bot.report.model import Report, Table
from bot.report.render import Written, write_report
from bot.report.sections import build_report, latest


def make_report(
    *,
    bot: LearnBot,
    days: int,
    folder: Path,
    until: dt.datetime | None = None,
    session: Session | None = None,
) -> Written:
    """Compute the report for the `days` before `until` (default now) and write it into `folder`.

    In `session` when given (a chat command's own transaction), else in a session of its own.
    """
    if days < 1:
        raise ValueError(f"the report period must be at least 1 day, not {days}")
    end = until or latest(bot.clock.now())
    since = end - dt.timedelta(days=days)
    if session is not None:
        return write_report(build_report(bot=bot, session=session, since=since, until=end), folder)
    with bot.session() as own:
        report = build_report(bot=bot, session=own, since=since, until=end)
    return write_report(report, folder)


__all__ = ["Report", "Table", "Written", "build_report", "make_report", "write_report"]
