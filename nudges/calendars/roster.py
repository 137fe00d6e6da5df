"""1:1s from a roster of recurring meetings, for companies without Graph calendars.

Columns (CSV header or YAML keys): manager_email, report_email, weekday (mon…sun), time (HH:MM, in
`timezone`), timezone (IANA; default the manager's stored zone, else nudges.default_timezone),
every_weeks (default 1), starting (YYYY-MM-DD: the first week; required when every_weeks > 1),
minutes (default 30). Each occurrence's id is "roster:<manager>:<report>:<local date>", so reading the
file again finds the same rows; local times are turned into UTC per date, so DST is followed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import WEEKDAYS
from nudges.roster_files import RosterError, email_problem, read_rows, zone_problem
from storage.meetings import FoundMeeting
from storage.org import people_by_email

COLUMNS = {
    "manager_email",
    "report_email",
    "weekday",
    "time",
    "timezone",
    "every_weeks",
    "starting",
    "minutes",
}
REQUIRED = {"manager_email", "report_email", "weekday", "time"}


def read(
    *, session: Session, path: Path, window: tuple[dt.datetime, dt.datetime], default_zone: str
) -> tuple[list[FoundMeeting], dict[int, str]]:
    """The roster's 1:1 occurrences starting in `window`; RosterError lists every bad row (nothing stored)."""
    rows = read_rows(path, COLUMNS, REQUIRED)
    people = people_by_email(
        session=session, emails=[r.get(k).lower() for r in rows for k in ("manager_email", "report_email")]
    )
    problems: list[str] = []
    found: list[FoundMeeting] = []
    emails: dict[int, str] = {}
    for row in rows:
        manager_email, report_email = row.get("manager_email").lower(), row.get("report_email").lower()
        bad = [
            f"{key} {p}"
            for key, v in (("manager_email", manager_email), ("report_email", report_email))
            if (p := email_problem(v))
        ]
        manager, report = people.get(manager_email), people.get(report_email)
        if not bad:
            for key, email, who in (
                ("manager_email", manager_email, manager),
                ("report_email", report_email, report),
            ):
                if who is None or not who.active:
                    bad.append(
                        f"{key} {email} is not anyone in the org chart (run `learnbot org sync` first)"
                    )
        if not bad and manager is not None and report is not None and report.manager_id != manager.id:
            bad.append(f"{report_email} does not report to {manager_email} in the org chart")
        day = row.get("weekday").lower()[:3]
        if day not in WEEKDAYS:
            bad.append(f"weekday {row.get('weekday')!r} is not a day (use mon, tue, wed, thu, fri, sat, sun)")
        try:
            at = dt.time.fromisoformat(row.get("time"))
        except ValueError:
            bad.append(f"time {row.get('time')!r} is not a time like 10:30")
            at = dt.time(0, 0)
        zone_name = row.get("timezone") or (manager.timezone if manager is not None else None) or default_zone
        if problem := zone_problem(zone_name):
            bad.append(f"timezone: {problem}")
        every = _number(row.get("every_weeks") or "1", "every_weeks", 1, 52, bad)
        minutes = _number(row.get("minutes") or "30", "minutes", 5, 480, bad)
        starting = None
        if row.get("starting"):
            try:
                starting = dt.date.fromisoformat(row.get("starting"))
            except ValueError:
                bad.append(f"starting {row.get('starting')!r} is not a date like 2026-12-07")
        elif every > 1:
            bad.append(f"starting (a date in the first week) is needed when every_weeks is {every}")
        if bad:
            problems += [f"{row.where}: {b}" for b in bad]
            continue
        assert manager is not None and report is not None and manager.id and report.id
        emails[manager.id], emails[report.id] = manager_email, report_email
        for start in _occurrences(window, WEEKDAYS.index(day), at, ZoneInfo(zone_name), every, starting):
            found.append(
                FoundMeeting(
                    id=f"roster:{manager_email}:{report_email}:{start[1].isoformat()}",
                    manager_id=manager.id,
                    report_id=report.id,
                    start_at=start[0],
                    end_at=start[0] + dt.timedelta(minutes=minutes),
                    source="roster",
                )
            )
    if problems:
        raise RosterError(path, problems)
    ids: dict[str, FoundMeeting] = {m.id: m for m in found}  # a pair listed twice on one day: once
    return sorted(ids.values(), key=lambda m: (m.start_at, m.id)), emails


def _number(text: str, key: str, low: int, high: int, bad: list[str]) -> int:
    try:
        value = int(text)
    except ValueError:
        bad.append(f"{key} {text!r} is not a whole number")
        return low
    if not low <= value <= high:
        bad.append(f"{key} {value} must be between {low} and {high}")
    return value


def _occurrences(
    window: tuple[dt.datetime, dt.datetime],
    weekday: int,
    at: dt.time,
    zone: ZoneInfo,
    every: int,
    starting: dt.date | None,
) -> list[tuple[dt.datetime, dt.date]]:
    """(UTC start, local date) of each meeting in the window."""
    first = window[0].astimezone(zone).date() - dt.timedelta(days=1)
    last = window[1].astimezone(zone).date() + dt.timedelta(days=1)
    anchor = starting - dt.timedelta(days=starting.weekday()) if starting else None  # Monday of that week
    out = []
    day = first
    while day <= last:
        on_day = day.weekday() == weekday and (starting is None or day >= starting)
        if on_day and (anchor is None or ((day - anchor).days // 7) % every == 0):
            start = dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)
            if window[0] <= start < window[1]:
                out.append((start, day))
        day += dt.timedelta(days=1)
    return out
