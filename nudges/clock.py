"""One injectable clock for everything that plans or sends: the real one, or one a person moves by hand.

Logic never calls `datetime.now()`; it asks the bot's clock, so `learnbot tick --at …` and the
console's `/clock +1d` replay exactly what would happen at that time.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Protocol
from zoneinfo import ZoneInfo

UTC = dt.UTC
_OFFSET = re.compile(r"^\+\s*(\d+)\s*([dhm])$")


class Clock(Protocol):
    """What time it is, timezone-aware, in UTC."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class ManualClock:
    """A clock that stands still until set or advanced (demos, `tick --at`, tests)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = as_utc(start) if start else dt.datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = as_utc(when)

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            self._now += delta


def as_utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive value (as SQLite returns stored times) is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_when(text: str, *, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """`+1d`, `+3h`, `+30m`, an ISO time (`2026-12-01T09:00:00Z`) or `2026-12-01 09:00` read in `zone`."""
    text = text.strip()
    offset = _OFFSET.match(text)
    if offset:
        amount, unit = int(offset.group(1)), offset.group(2)
        return now + dt.timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"can't read {text!r} as a time: use +1d, +3h, +30m, '2026-12-01 09:00' or 2026-12-01T09:00:00Z"
        ) from None
    return as_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=zone))
