"""Polite hours: a learner's time zone, working hours and quiet days, and the next moment inside them.

Shared by the planner (when to enqueue) and the dispatcher (a nudge delayed past the end of
the learner's working day waits for the next morning instead of arriving at night).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import WEEKDAYS, NudgePolicy
from nudges.clock import as_utc


@dataclass(frozen=True)
class Window:
    """When a learner may be nudged: their zone, working hours and quiet weekdays (0 = Monday)."""

    zone: ZoneInfo
    start: dt.time
    end: dt.time
    quiet: frozenset[int]


def zone_named(name: str | None, default: str) -> ZoneInfo:
    """The learner's zone, else the default one (also when the stored name is not a real zone)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def window_for(policy: NudgePolicy, timezone: str | None) -> Window:
    quiet = frozenset(WEEKDAYS.index(day) for day in policy.quiet_days)
    return Window(
        zone_named(timezone, policy.default_timezone),
        policy.working_hours.start,
        policy.working_hours.end,
        quiet,
    )


def next_slot(earliest: dt.datetime, window: Window) -> dt.datetime | None:
    """The first moment at or after `earliest` inside working hours on a working day, in UTC.

    Local wall-clock times are built per day, so a DST change moves the UTC moment, not the
    09:00. None only when every day of the week is quiet.
    """
    local = as_utc(earliest).astimezone(window.zone)
    day = local.date()
    for _ in range(15):
        if day.weekday() not in window.quiet:
            opens = dt.datetime.combine(day, window.start, tzinfo=window.zone)
            closes = dt.datetime.combine(day, window.end, tzinfo=window.zone)
            if local < closes:
                return max(local, opens).astimezone(dt.UTC)
        day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=window.zone)
    return None


def window_payload(window: Window) -> dict[str, Any]:
    """A window as JSON, carried in a nudge's outbox row."""
    return {
        "zone": window.zone.key,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "quiet": sorted(window.quiet),
    }


def window_from(data: dict[str, Any]) -> Window:
    return Window(
        ZoneInfo(data["zone"]),
        dt.time.fromisoformat(data["start"]),
        dt.time.fromisoformat(data["end"]),
        frozenset(data["quiet"]),
    )
