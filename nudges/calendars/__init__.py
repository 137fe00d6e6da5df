"""Finding 1:1s: every manager's meetings with one direct report in the coming days, stored as meetings.

Two providers give the same thing, `FoundMeeting`s in a window: `nudges.calendars.graph` reads each
manager's Outlook calendar through Microsoft Graph, `nudges.calendars.roster` expands a file of
recurring 1:1s. `scan` picks the one app.yaml's `one_on_ones.source` names, reads outside any database
transaction, then stores what it found in one (`storage.meetings.upsert_meetings`): new occurrences
added, moved ones updated, ones no longer found cancelled, managers whose calendar failed untouched.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from bot.config import AppConfig, Settings
from nudges.calendars.managers import manager_calendars
from nudges.clock import Clock, as_utc
from storage.meetings import FoundMeeting, MeetingChanges, upsert_meetings

log = logging.getLogger(__name__)


class Host(Protocol):
    config: AppConfig
    clock: Clock

    def session(self) -> AbstractContextManager[Session]: ...


class ScanError(RuntimeError):
    """The 1:1s could not be read at all (source off, Graph not configured); nothing was changed."""


@dataclass
class ScanResult:
    """One scan: the window read, the 1:1s found, what changed in storage, and what went wrong."""

    source: str
    window: tuple[dt.datetime, dt.datetime]
    found: list[FoundMeeting] = field(default_factory=list)
    emails: dict[int, str] = field(default_factory=dict)  # person id -> email, for printing
    managers: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    changes: MeetingChanges = field(default_factory=MeetingChanges)

    def meetings_json(self) -> list[dict[str, str]]:
        return [
            {
                "manager": self.emails.get(m.manager_id, str(m.manager_id)),
                "report": self.emails.get(m.report_id, str(m.report_id)),
                "start": m.start_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "source": m.source,
                "id": m.id,
            }
            for m in sorted(self.found, key=lambda m: (m.start_at, m.id))
        ]


def window_from(now: dt.datetime, lookahead_days: int) -> tuple[dt.datetime, dt.datetime]:
    start = as_utc(now).replace(microsecond=0)
    return start, start + dt.timedelta(days=lookahead_days)


def scan(
    host: Host, settings: Settings | None, *, now: dt.datetime | None = None, source: str | None = None
) -> ScanResult:
    """Read the 1:1s for the next `lookahead_days` from `now` (default: the host's clock) and store them.

    `source` (graph or roster) overrides app.yaml's `one_on_ones.source`.
    """
    config = host.config.one_on_ones
    chosen = source or config.source
    if chosen == "off":
        raise ScanError("one_on_ones.source is off in app.yaml: set it to graph or roster")
    window = window_from(now or host.clock.now(), config.lookahead_days)
    result = ScanResult(source=chosen, window=window)
    if chosen == "roster":
        from nudges.calendars import roster

        if not config.roster:
            raise ScanError("one_on_ones.roster is not set in app.yaml (a CSV or YAML file)")
        path = host.config.resolve(config.roster)
        with host.session() as session:
            found, emails = roster.read(
                session=session, path=path, window=window, default_zone=host.config.nudges.default_timezone
            )
            result.found, result.emails = found, emails
            result.managers = len({m.manager_id for m in found})
            result.changes = upsert_meetings(
                session=session, found=found, window=window, now=window[0], source="roster"
            )
        return result
    from nudges.calendars import graph

    if settings is None or not settings.has_graph:
        raise ScanError(
            "one_on_ones.source is graph but Microsoft Graph is not configured: set GRAPH_TENANT_ID, "
            "GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET (permission Calendars.Read)"
        )
    with host.session() as session:
        calendars, emails = manager_calendars(session=session)
    read = graph.read(settings, calendars, window)
    result.found, result.emails, result.problems = read.found, emails, read.problems
    result.managers, result.failed = len(calendars), len(calendars) - len(read.managers_read)
    with host.session() as session:
        result.changes = upsert_meetings(
            session=session,
            found=read.found,
            window=window,
            now=window[0],
            source="graph",
            managers=read.managers_read,
        )
    for problem in read.problems:
        log.warning("1:1 scan: %s", problem)
    return result
