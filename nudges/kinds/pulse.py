"""The purpose pulse (optional, app.yaml `purpose_pulse`, off by default): once a period, one question
to each active learner, "How clearly do you see how your learning connects to our goals?" (1-5).

A period starts at midnight UTC on the 1st of each month in `months` (default January, April,
July, October) or every `every_days` from 2026-01-05; the planner then asks in each learner's own
working hours, like every personal nudge (quiet days, caps, opt-out, Stop nudges). An active
learner is a person still here with learning activity (a question, an enrolment or a finished
step) in the last `ACTIVE_DAYS`. The key is `pulse:<period>:<person>`, and someone already asked
or who has answered in this period is not asked again. A pulse switched on (or a learner who
becomes active) in the last `LATE_DAYS` of a period waits for the next period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.config import PurposePulse
from nudges.clock import as_utc
from nudges.kinds.base import Message, Pending, Planning
from nudges.messages import pulse_reply
from storage.models import OutboxMessage
from storage.pulse import active_learners, answered

NAME = "pulse"
ACTIVE_DAYS = 182
LATE_DAYS = 14  # not started in a period's last two weeks: the next period's question follows soon
ANCHOR = dt.date(2026, 1, 5)  # every_days periods count from this Monday
DEFAULT_MONTHS = (1, 4, 7, 10)


@dataclass(frozen=True)
class Period:
    """One pulse period: its label (stored with each answer), first moment and end (UTC)."""

    label: str
    start: dt.datetime
    end: dt.datetime

    @property
    def last_day(self) -> dt.date:
        return (self.end - dt.timedelta(days=1)).date()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def period_at(settings: PurposePulse, now: dt.datetime) -> Period:
    """The pulse period `now` falls in, labelled "2027-Q1" (quarters), "2027-03" (other months) or by
    its first day ("2026-04-06", every_days)."""
    today = as_utc(now).date()
    if settings.every_days:
        every = settings.every_days
        start = ANCHOR + dt.timedelta(days=(today - ANCHOR).days // every * every)
        return Period(f"{start:%Y-%m-%d}", _midnight(start), _midnight(start + dt.timedelta(days=every)))
    months = sorted(settings.months or DEFAULT_MONTHS)
    earlier = [m for m in months if m <= today.month]
    start = dt.date(today.year, earlier[-1], 1) if earlier else dt.date(today.year - 1, months[-1], 1)
    later = [m for m in months if m > start.month]
    end = dt.date(start.year, later[0], 1) if later else dt.date(start.year + 1, months[0], 1)
    quarterly = tuple(months) == DEFAULT_MONTHS
    label = f"{start.year}-Q{(start.month - 1) // 3 + 1}" if quarterly else f"{start:%Y-%m}"
    return Period(label, _midnight(start), _midnight(end))


def asked(session: Session, period: str) -> set[int]:
    """Who already has a pulse row for this period in the outbox (sent, waiting or cancelled)."""
    query = select(OutboxMessage.user_id).where(
        OutboxMessage.kind == NAME, col(OutboxMessage.idempotency_key).startswith(f"{NAME}:{period}:")
    )
    return {user_id for user_id in session.exec(query) if user_id is not None}


class Pulses:
    """The purpose pulse question, once a period per active learner, with buttons 1-5."""

    name = NAME
    personal = True
    priority = 2  # after a pathway step or follow-up due at the same moment

    def pending(self, planning: Planning) -> Iterable[Pending]:
        settings = planning.config.purpose_pulse
        if not settings.enabled:
            return
        session = planning.session
        current = period_at(settings, planning.now)
        upcoming = period_at(settings, current.end)  # so the planner wakes when it starts
        periods = [upcoming]
        if current.end - planning.now > dt.timedelta(days=LATE_DAYS):
            periods.insert(0, current)
        since = planning.now - dt.timedelta(days=ACTIVE_DAYS)
        learners = active_learners(session=session, since=since)
        for period in periods:
            done = answered(session=session, period=period.label) | asked(session, period.label)
            for person in learners:
                if person.id is not None and person.id not in done:
                    yield Pending(NAME, period.start, person, period.label, period)

    def messages(self, planning: Planning, due: Sequence[Pending]) -> list[Message]:
        question = planning.config.purpose_pulse.question
        out = []
        for pending in due:
            period: Period = pending.data
            if pending.person is None or pending.person.id is None:
                continue
            reply = pulse_reply(question, period.label, period.last_day)
            key = f"{NAME}:{period.label}:{pending.person.id}"
            out.append(Message(key, reply, pending, extra={"pulse": period.label}))
        return out
