"""The manager's 1:1 prompt: `one_on_ones.lead_hours` before each 1:1, what the report shared since the last.

Due `lead_hours` before the meeting if that is inside the manager's working hours, else at the
start of the last working hour before it (a 09:30 Monday 1:1 is prompted at 16:30 on Friday); a
meeting found too late for that is prompted at the next working moment still before it, or not
at all. One decision per occurrence, stored in `meetingprompt` and keyed
`one-on-one:<meeting>:<start>`, so reading calendars again never prompts twice; a moved meeting
whose prompt has not gone out is taken back and planned for the new time; a cancelled one is taken
back. A prompt is a manager's tool, not a learning nudge: the planner keeps opt-out ("Stop
nudges") and reach for it, but not the one-a-day and weekly caps, snooze or one-per-pass (a
manager with three 1:1s on Monday gets three prompts), and it does not count towards them.

Only what the report shares goes in (`storage.sharing`), and only to the report's own manager:
a meeting whose report now has another manager is skipped. Nothing new: nothing is sent, unless
`one_on_ones.when_nothing_new: suggest` asks for a short "maybe ask what they'd like to learn next".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.config import AppConfig
from nudges.clock import as_utc
from nudges.hours import Window, next_slot, window_for
from nudges.kinds.base import Message, Pending, Planning
from nudges.messages import one_on_one_reply
from storage.meeting_prompts import (
    CANCELLED,
    NOTHING_NEW,
    QUEUED,
    SCHEDULED,
    SENT,
    Upcoming,
    forget_prompts,
    next_unprompted,
    previous_meetings,
    record_prompts,
    set_outcome,
    take_back,
    upcoming_meetings,
)
from storage.models import Meeting, NudgePreference, Person
from storage.sharing import shared_learning

NAME = "one_on_one"
LOOKBACK = dt.timedelta(days=28)  # the window when there was no earlier 1:1 to count from
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class _Due:
    meeting: Meeting
    report: Person


def prompt_key(meeting_id: str, start: dt.datetime) -> str:
    """The outbox key of one occurrence's prompt (a long meeting id is hashed to fit the column)."""
    stamp = f"{as_utc(start):%Y%m%dT%H%M%SZ}"
    key = f"one-on-one:{meeting_id}:{stamp}"
    if len(key) > 300:
        key = f"one-on-one:sha1-{hashlib.sha1(meeting_id.encode()).hexdigest()}:{stamp}"
    return key


def last_working_moment(before: dt.datetime, window: Window) -> dt.datetime | None:
    """`before` itself when it is inside working hours on a working day, else the start of the last
    working hour before it (never before that day's opening), in UTC; None when every day is quiet."""
    local = as_utc(before).astimezone(window.zone)
    day = local.date()
    for _ in range(15):
        if day.weekday() not in window.quiet:
            opens = dt.datetime.combine(day, window.start, tzinfo=window.zone)
            closes = dt.datetime.combine(day, window.end, tzinfo=window.zone)
            if opens <= local < closes:
                return local.astimezone(dt.UTC)
            if local >= closes:
                return max(closes - HOUR, opens).astimezone(dt.UTC)
        day -= dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=window.zone)
    return None


def prompt_time(
    start: dt.datetime, *, lead: dt.timedelta, window: Window, now: dt.datetime
) -> dt.datetime | None:
    """When the prompt for a 1:1 at `start` goes: see the module docstring. None: too late for one."""
    slot = last_working_moment(as_utc(start) - lead, window)
    if slot is not None and slot >= now:
        return slot
    soonest = next_slot(now, window)  # found late: the next working moment, if still before the 1:1
    return soonest if soonest is not None and soonest < as_utc(start) else None


class OneOnOnePrompts:
    """Before each 1:1, the manager's prompt with the report's shared learning and questions to ask."""

    name = NAME
    personal = True
    capped = False  # a manager's tool: not under the learning caps (see the module docstring)
    priority = 0

    def pending(self, planning: Planning) -> Iterable[Pending]:
        settings = planning.config.one_on_ones
        lead, now = dt.timedelta(hours=settings.lead_hours), planning.now
        horizon = now + dt.timedelta(days=settings.lookahead_days + 1) + lead
        found = upcoming_meetings(session=planning.session, after=now, until=horizon)
        self._reconcile(planning, found)
        windows: dict[str | None, Window] = {}
        for upcoming in found:
            meeting, manager, report = upcoming.meeting, upcoming.manager, upcoming.report
            if upcoming.prompt is not None or meeting.status != SCHEDULED:
                continue
            if not (manager.active and report.active) or report.manager_id != manager.id:
                planning.notes["one_on_one_not_a_report"] += 1  # the org chart moved on: not theirs to see
                continue
            window = windows.get(manager.timezone) or windows.setdefault(
                manager.timezone, window_for(planning.config.nudges, manager.timezone)
            )
            slot = prompt_time(meeting.start_at, lead=lead, window=window, now=now)
            if slot is None:
                planning.notes["one_on_one_too_late"] += 1
                continue
            yield Pending(NAME, slot, manager, meeting.id, _Due(meeting, report))

    def _reconcile(self, planning: Planning, found: list[Upcoming]) -> None:
        """Moved and cancelled meetings: take back a prompt that has not gone out, plan a moved one again."""
        session = planning.session
        cancelled_keys: dict[str, str] = {}
        moved_keys: dict[str, str] = {}
        forget: list[str] = []
        for upcoming in found:
            prompt, meeting = upcoming.prompt, upcoming.meeting
            if prompt is None:
                continue
            moved = as_utc(prompt.start_at) != as_utc(meeting.start_at)
            if meeting.status != SCHEDULED and prompt.outcome in (QUEUED, NOTHING_NEW):
                if prompt.outbox_key and prompt.outcome == QUEUED:
                    cancelled_keys[prompt.outbox_key] = meeting.id
                else:
                    set_outcome(session=session, meeting_ids=[meeting.id], outcome=CANCELLED)
            elif meeting.status == SCHEDULED and prompt.outcome == CANCELLED:
                forget.append(meeting.id)  # back on: decide again
            elif meeting.status == SCHEDULED and moved:
                if prompt.outcome == QUEUED and prompt.outbox_key:
                    moved_keys[prompt.outbox_key] = meeting.id
                else:
                    forget.append(meeting.id)
        taken = take_back(session=session, keys=cancelled_keys, reason="the 1:1 was cancelled")
        set_outcome(session=session, meeting_ids=[cancelled_keys[k] for k in taken], outcome=CANCELLED)
        set_outcome(
            session=session,
            meeting_ids=[m for k, m in cancelled_keys.items() if k not in taken],
            outcome=SENT,
        )
        if taken:
            planning.notes["one_on_one_cancelled"] += len(taken)
        taken = take_back(session=session, keys=moved_keys, reason="the 1:1 moved")
        if taken:
            planning.notes["one_on_one_moved"] += len(taken)
        forget += [moved_keys[key] for key in taken]
        for key, meeting_id in moved_keys.items():
            if key not in taken:  # already sent for this occurrence: the move sends no second prompt
                upcoming = next(u for u in found if u.meeting.id == meeting_id)
                set_outcome(
                    session=session,
                    meeting_ids=[meeting_id],
                    outcome=QUEUED,
                    start_at=upcoming.meeting.start_at,
                )
        forget_prompts(session=session, meeting_ids=forget)
        again = set(forget)
        if again:
            for number, upcoming in enumerate(found):
                if upcoming.meeting.id in again:
                    found[number] = Upcoming(upcoming.meeting, upcoming.manager, upcoming.report, None)

    def messages(self, planning: Planning, due: Sequence[Pending]) -> list[Message]:
        session, now, config = planning.session, planning.now, planning.config
        items: list[tuple[Pending, _Due]] = [(p, p.data) for p in due if p.person is not None]
        meetings = [d.meeting for _, d in items]
        previous = previous_meetings(session=session, meetings=meetings, since=now - LOOKBACK)
        since = {
            d.report.id or 0: (last.news_since if (last := previous.get(d.meeting.id)) else now - LOOKBACK)
            for _, d in items
        }
        learning = shared_learning(session=session, report_ids=since, since=since, until=now)
        pillars = {p.id: p for p in config.pillars}
        suggest = config.one_on_ones.when_nothing_new == "suggest"
        out: list[Message] = []
        decided: list[dict[str, Any]] = []
        for pending, info in items:
            meeting, report = info.meeting, info.report
            shared = learning[report.id or 0]
            key = prompt_key(meeting.id, meeting.start_at)
            decision = {"meeting_id": meeting.id, "start_at": as_utc(meeting.start_at), "decided_at": now}
            if shared.is_empty and not suggest:
                decided.append({**decision, "outbox_key": None, "outcome": NOTHING_NEW})
                planning.notes["one_on_one_nothing_new"] += 1
                continue
            assert pending.person is not None
            zone = window_for(config.nudges, pending.person.timezone).zone
            reply = one_on_one_reply(
                report=report.display_name or report.email or "your report",
                meeting_id=meeting.id,
                start=meeting.start_at,
                since=last.start if (last := previous.get(meeting.id)) else None,
                now=now,
                zone=zone,
                learning=shared,
                pillars=pillars,
            )
            decided.append({**decision, "outbox_key": key, "outcome": QUEUED})
            out.append(Message(key, reply, pending, extra={"meeting": meeting.id}))
        record_prompts(session=session, rows=decided)
        return out


def upcoming_note(
    *, session: Session, config: AppConfig, report: Person, now: dt.datetime
) -> tuple[Person, Meeting] | None:
    """The manager and the 1:1 whose prompt will carry what `report` shares now: their manager's next
    1:1 with them whose prompt is still to come (and can come); None when none is known, so nothing
    may promise it."""
    manager = session.get(Person, report.manager_id) if report.manager_id else None
    if manager is None or manager.id is None or report.id is None or not manager.active:
        return None
    pref = session.get(NudgePreference, manager.id)
    if pref is not None and pref.opted_out:
        return None  # the manager stopped messages from learnbot: no prompt will carry it
    meeting = next_unprompted(session=session, manager_id=manager.id, report_id=report.id, after=now)
    if meeting is None:
        return None
    window = window_for(config.nudges, manager.timezone)
    lead = dt.timedelta(hours=config.one_on_ones.lead_hours)
    if prompt_time(meeting.start_at, lead=lead, window=window, now=now) is None:
        return None
    return manager, meeting
