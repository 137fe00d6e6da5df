"""The planner: which nudge goes to whom, and when, politely, for every registered kind.

Each pass asks every kind in `nudges.kinds.KINDS` what it could send and from when. For the
personal kinds it then works out the earliest moment each may go — in the person's own time
zone, inside working hours, never on a quiet day, after any snooze, one a day and within
`max_per_week` in any 7 days, on the platform they chose or used last — and enqueues those
whose moment is now: one per person per pass. Someone learnbot cannot reach on any platform
with a sender is counted (`unreachable`) and their nudge waits. Channel kinds (campaign posts)
are enqueued at their own moments. Keys come from stored state, so two processes planning at
once make one row, not two. A personal kind with `capped = False` (the manager's 1:1 prompt) keeps
opt-out and reach but chooses its own moment: the caps, snooze and one-per-pass do not hold it
back, and it does not count towards them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.config import AppConfig
from bot.events import ConversationRef
from nudges.clock import as_utc
from nudges.hours import Window, next_slot, window_for, window_payload
from nudges.kinds import KINDS, Kind, Message, Pending, Planning, capped_names
from nudges.outbox import reply_payload
from nudges.reach import addresses
from storage.models import Person
from storage.outbox import enqueue_many, message_row, sent_times_since
from storage.preferences import all_preferences

WEEK = dt.timedelta(days=7)
log = logging.getLogger(__name__)
# column sizes of the outbox (storage.models.OutboxMessage)
LIMITS = {"idempotency_key": 300, "platform": 20, "kind": 40, "channel_id": 100}


# ---- polite times (nudges.hours) -----------------------------------------------------------


def capped_slot(
    earliest: dt.datetime, window: Window, sent: list[dt.datetime], cap: int
) -> tuple[dt.datetime | None, bool]:
    """`next_slot`, moved on to a day without a nudge yet, and while `cap` nudges fall in the 7 days
    before it; returns (slot, deferred by the weekly cap)."""
    if cap <= 0:
        return None, True
    slot, deferred = next_slot(earliest, window), False
    days = {as_utc(t).astimezone(window.zone).date() for t in sent}
    for _ in range(cap + 16):
        if slot is None:
            return None, deferred
        day = slot.astimezone(window.zone).date()
        if day in days:  # one nudge a day at most
            slot = next_slot(
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=window.zone), window
            )
            continue
        inside = sorted(t for t in sent if slot - WEEK < t <= slot)
        if len(inside) < cap:
            return slot, deferred
        deferred = True
        slot = next_slot(inside[len(inside) - cap] + WEEK + dt.timedelta(seconds=1), window)
    return slot, deferred


def promised_slot(
    *, session: Session, config: AppConfig, person: Person, earliest: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime | None, Window]:
    """When the planner will next nudge this person about something due from `earliest`: their
    working hours and quiet days, one a day, `max_per_week`; what a reply may promise them."""
    window = window_for(config.nudges, person.timezone)
    kinds = capped_names()
    sent = sent_times_since(session=session, since=now - WEEK, kinds=kinds).get(person.id or 0, [])
    slot, _ = capped_slot(
        max(as_utc(earliest), as_utc(now)), window, [as_utc(t) for t in sent], config.nudges.max_per_week
    )
    return slot, window


def start_of_next_day(now: dt.datetime, window: Window) -> dt.datetime:
    """Midnight at the start of tomorrow in the person's zone, in UTC."""
    tomorrow = as_utc(now).astimezone(window.zone).date() + dt.timedelta(days=1)
    return as_utc(dt.datetime.combine(tomorrow, dt.time(0), tzinfo=window.zone))


def when_words(slot: dt.datetime, now: dt.datetime, zone: ZoneInfo, *, days: int | None = None) -> str:
    """'tomorrow', 'in 7 days' (when `days` on is that day), 'on Monday' or 'on Monday 14 December'."""
    today = as_utc(now).astimezone(zone).date()
    day = as_utc(slot).astimezone(zone).date()
    if day == today + dt.timedelta(days=1):
        return "tomorrow"
    if days is not None and day == today + dt.timedelta(days=days):
        return f"in {days} days"
    if day - today < dt.timedelta(days=7):
        return f"on {day:%A}"
    return f"on {day:%A} {day.day} {day:%B}"


# ---- what the planner decides ---------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    """A nudge the planner will send later, and when (`user_id` is None for a channel post)."""

    when: dt.datetime
    user_id: int | None
    kind: str
    content_id: str


@dataclass
class PlanResult:
    """What one planning pass did, and when the next nudge falls due.

    `counts` holds new outbox rows per kind (and `enrolled`: enrolments made by audience rules);
    `unreachable` is how many people have a nudge waiting that no registered platform can deliver.
    """

    counts: Counter[str] = field(default_factory=Counter)
    deferred_by_cap: int = 0
    opted_out: int = 0
    unreachable: int = 0
    upcoming: list[Upcoming] = field(default_factory=list)

    @property
    def next_wake(self) -> dt.datetime | None:
        return min((u.when for u in self.upcoming), default=None)

    @property
    def enrolled(self) -> int:
        return self.counts["enrolled"]

    @property
    def steps(self) -> int:
        return self.counts["step"]

    @property
    def follow_ups(self) -> int:
        return self.counts["follow_up"]

    @property
    def campaign_posts(self) -> int:
        return self.counts["campaign"]


def plan(
    *,
    session: Session,
    config: AppConfig,
    now: dt.datetime,
    senders: Mapping[str, Any] | None = None,
    kinds: Sequence[Kind] | None = None,
    upcoming_limit: int = 50,
) -> PlanResult:
    """One pass over `kinds` (default: every registered kind): enqueue what is due now, note what comes later.

    `senders` (platform → sender) are where this process can deliver; None: any platform.
    """
    now = as_utc(now)
    kinds = list(KINDS if kinds is None else kinds)
    planning = Planning(session, config, now)
    result = PlanResult()
    upcoming: list[Upcoming] = []
    personal: list[Pending] = []
    by_name = {kind.name: kind for kind in kinds}
    due: dict[str, list[Pending]] = {}
    for kind in kinds:
        for pending in kind.pending(planning):
            if kind.personal:
                personal.append(pending)
            elif as_utc(pending.earliest) <= now:
                due.setdefault(kind.name, []).append(pending)
            else:
                upcoming.append(Upcoming(as_utc(pending.earliest), None, kind.name, pending.subject))
    chosen, reach = _polite(planning, personal, [k for k in kinds if k.personal], senders, result, upcoming)
    for pending in chosen:
        due.setdefault(pending.kind, []).append(pending)
    for name, pendings in due.items():
        result.counts[name] += _enqueue(planning, by_name[name].messages(planning, pendings), reach)
    result.counts.update(planning.notes)
    upcoming.sort(key=lambda u: u.when)
    result.upcoming = upcoming[:upcoming_limit] if upcoming_limit else upcoming
    return result


def _polite(
    planning: Planning,
    personal: list[Pending],
    kinds: list[Kind],
    senders: Mapping[str, Any] | None,
    result: PlanResult,
    upcoming: list[Upcoming],
) -> tuple[list[Pending], dict[int, ConversationRef]]:
    """The personal nudges due now (at most one per person, after opt-out, reach, hours and caps),
    and where each person gets them."""
    if not personal:
        return [], {}
    session, policy, now = planning.session, planning.config.nudges, planning.now
    prefs = all_preferences(session=session)
    people = {p.person.id: p.person for p in personal if p.person is not None and p.person.id is not None}
    reach = addresses(session, people.values(), senders)
    sent = {
        user: [as_utc(t) for t in times]
        for user, times in sent_times_since(
            session=session, since=now - WEEK, kinds={*capped_names(), *capped_names(kinds)}
        ).items()
    }
    priority = {kind.name: kind.priority for kind in kinds}
    uncapped = {kind.name for kind in kinds if not getattr(kind, "capped", True)}
    also_due: list[Pending] = []  # uncapped kinds (1:1 prompts): due at their own moment, not one per pass
    windows: dict[str | None, Window] = {}
    unreachable: set[int] = set()
    due: dict[int, Pending] = {}
    for pending in sorted(personal, key=lambda p: (as_utc(p.earliest), priority.get(p.kind, 0))):
        person = pending.person
        if person is None or person.id is None:
            continue
        pref = prefs.get(person.id)
        if pref is not None and pref.opted_out:
            result.opted_out += 1
            continue
        if person.id not in reach:
            unreachable.add(person.id)
            continue
        if pending.kind in uncapped:  # opt-out and reach apply; caps, snooze and hours are the kind's own
            if as_utc(pending.earliest) <= now:
                also_due.append(pending)
            else:
                upcoming.append(Upcoming(as_utc(pending.earliest), person.id, pending.kind, pending.subject))
            continue
        earliest = max(as_utc(pending.earliest), now)
        if pref is not None and pref.snoozed_until is not None:
            earliest = max(earliest, as_utc(pref.snoozed_until))
        window = windows.get(person.timezone) or windows.setdefault(
            person.timezone, window_for(policy, person.timezone)
        )
        slot, deferred = capped_slot(earliest, window, sent.get(person.id, []), policy.max_per_week)
        if deferred:
            result.deferred_by_cap += 1
        if slot is None:
            continue
        if slot <= now and person.id not in due:
            due[person.id] = pending
            sent.setdefault(person.id, []).append(now)
        else:
            upcoming.append(Upcoming(slot, person.id, pending.kind, pending.subject))
    result.unreachable = len(unreachable)
    return list(due.values()) + also_due, reach


def _enqueue(planning: Planning, messages: list[Message], reach: dict[int, ConversationRef]) -> int:
    """The kind's messages as outbox rows: personal ones to the person's platform, with their window."""
    rows: list[dict[str, Any]] = []
    windows: dict[str | None, dict[str, Any]] = {}
    for message in messages:
        person = message.pending.person
        extra = dict(message.extra)
        to = message.to
        if person is not None and person.id is not None:
            to = to or reach.get(person.id)
            if person.timezone not in windows:  # kept polite if delivery lags
                windows[person.timezone] = window_payload(window_for(planning.config.nudges, person.timezone))
            extra["window"] = windows[person.timezone]
        if to is None:
            continue
        payload = reply_payload(message.reply, to=to, **extra)
        row = message_row(
            message.key,
            to.platform,
            message.pending.kind,
            payload,
            message.due_at or planning.now,
            user_id=None if person is None else person.id,
            channel_id=to.channel_id,
        )
        if problem := _unstorable(row):
            log.error("outbox row %.80s skipped: %s", message.key, problem)
            planning.notes["errors"] += 1
            continue
        rows.append(row)
    return _insert_isolated(planning, rows)


def _unstorable(row: dict[str, Any]) -> str | None:
    """Why the outbox cannot hold this row (a field longer than its column), before the database says so."""
    for name, limit in LIMITS.items():
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            return f"{name} is {len(value)} characters long; the column holds {limit}"
    return None


def _insert_isolated(planning: Planning, rows: list[dict[str, Any]]) -> int:
    """All rows at once in a savepoint; if the database refuses, each row in its own savepoint, so one
    bad row (one campaign, one learner) is logged and skipped and the others are still planned."""
    session = planning.session
    try:
        with session.begin_nested():
            return enqueue_many(session=session, rows=rows)
    except SQLAlchemyError:
        log.warning("planning: %d outbox rows refused together; inserting them one by one", len(rows))
    added = 0
    for row in rows:
        try:
            with session.begin_nested():
                added += enqueue_many(session=session, rows=[row])
        except SQLAlchemyError as exc:
            log.error("outbox row %.80s skipped: %s", row["idempotency_key"], str(exc).splitlines()[0])
            planning.notes["errors"] += 1
    return added
