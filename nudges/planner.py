"""The planner: who gets which nudge, and when, politely.

Each tick looks at every active enrolment and every finished step awaiting its
"did you apply it?" question, works out the earliest moment each may be sent — in the
learner's own time zone, inside working hours, never on a quiet day, after any snooze, and
within `max_per_week` nudges in any 7 days — and enqueues those whose moment is now. One
learner gets at most one nudge per tick. Outbox keys come from stored state (enrolment, step,
how many times nudged), so two processes planning at once make one row, not two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.config import AppConfig
from bot.events import Button, Reply
from content_index.cards import card_for
from nudges.clock import as_utc
from nudges.hours import Window, next_slot, window_for, window_payload, zone_named
from nudges.outbox import reply_payload
from nudges.pathways import enrol_by_audience
from storage.models import (
    ContentItem,
    ConversationReference,
    Enrolment,
    NudgePreference,
    Pathway,
    PathwayStep,
    StepProgress,
    User,
)
from storage.outbox import enqueue_many, message_row, sent_times_since

STEP, FOLLOW_UP = "step", "follow_up"
NUDGE_KINDS = (STEP, FOLLOW_UP)
MAX_STEP_NUDGES = 3  # the first nudge of a step and at most two reminders or snoozes
MAX_FOLLOW_UPS = 2
WEEK = dt.timedelta(days=7)


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


# ---- what the planner decides ---------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    """A nudge the planner will send later, and when."""

    when: dt.datetime
    user_id: int
    kind: str
    content_id: str


@dataclass
class PlanResult:
    """What one planning pass did, and when the next nudge falls due."""

    enrolled: int = 0
    steps: int = 0
    follow_ups: int = 0
    deferred_by_cap: int = 0
    opted_out: int = 0
    upcoming: list[Upcoming] = field(default_factory=list)

    @property
    def next_wake(self) -> dt.datetime | None:
        return min((u.when for u in self.upcoming), default=None)


@dataclass
class _Candidate:
    kind: str
    earliest: dt.datetime
    user: User
    content_id: str
    enrolment: Enrolment | None = None
    progress: StepProgress | None = None
    number: int = 0
    total: int = 0


def _steps_by_pathway(session: Session) -> dict[str, list[str]]:
    steps: dict[str, list[str]] = {}
    query = select(PathwayStep).order_by(col(PathwayStep.pathway_id), col(PathwayStep.position))
    for step in session.exec(query):
        steps.setdefault(step.pathway_id, []).append(step.content_id)
    return steps


def _candidates(session: Session, pathways: dict[str, Pathway]) -> list[_Candidate]:
    """Every step nudge and follow-up that could be sent at some time, with its earliest moment."""
    steps = _steps_by_pathway(session)
    done: dict[int, set[str]] = {}
    for enrolment_id, content_id in session.exec(
        select(StepProgress.enrolment_id, StepProgress.content_id).where(
            col(StepProgress.completed_at).is_not(None)
        )
    ):
        done.setdefault(enrolment_id, set()).add(content_id)
    out: list[_Candidate] = []
    active = select(Enrolment, User).join(User, col(User.id) == col(Enrolment.user_id))
    for enrolment, user in session.exec(active.where(Enrolment.status == "active")):
        pathway_steps = steps.get(enrolment.pathway_id, [])
        if enrolment.pathway_id not in pathways or not pathway_steps:
            continue
        finished = done.get(enrolment.id or 0, set())
        number, upcoming = next(
            ((n, s) for n, s in enumerate(pathway_steps, start=1) if s not in finished), (0, None)
        )
        if upcoming is None:
            continue
        count = enrolment.nudges_for_step if enrolment.nudged_step == upcoming else 0
        if count >= MAX_STEP_NUDGES:
            continue  # waiting for the learner to come back; they can pick it up from Home
        earliest = as_utc(enrolment.next_nudge_at or enrolment.enrolled_at)
        out.append(_Candidate(STEP, earliest, user, upcoming, enrolment, None, number, len(pathway_steps)))
    follow = (
        select(StepProgress, Enrolment, User)
        .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
        .join(User, col(User.id) == col(Enrolment.user_id))
        .where(
            col(StepProgress.follow_up_at).is_not(None),
            col(StepProgress.applied_at).is_(None),
            col(Enrolment.status).in_(["active", "completed"]),
        )
    )
    for progress, enrolment, user in session.exec(follow):
        if enrolment.pathway_id in pathways and progress.follow_ups < MAX_FOLLOW_UPS:
            assert progress.follow_up_at is not None
            earliest = as_utc(progress.follow_up_at)
            out.append(_Candidate(FOLLOW_UP, earliest, user, progress.content_id, enrolment, progress))
    return out


def plan(*, session: Session, config: AppConfig, now: dt.datetime, upcoming_limit: int = 50) -> PlanResult:
    """One pass: enrol by audience, then enqueue every nudge whose polite moment is now."""
    now = as_utc(now)
    result = PlanResult(enrolled=enrol_by_audience(session=session, now=now))
    policy = config.nudges
    pathways = {p.id: p for p in session.exec(select(Pathway).where(col(Pathway.active).is_(True)))}
    prefs: dict[int, NudgePreference] = {p.user_id: p for p in session.exec(select(NudgePreference))}
    sent = {
        user: [as_utc(t) for t in times]
        for user, times in sent_times_since(session=session, since=now - WEEK, kinds=NUDGE_KINDS).items()
    }
    windows: dict[str | None, Window] = {}
    due: dict[int, _Candidate] = {}
    upcoming: list[Upcoming] = []
    for candidate in sorted(_candidates(session, pathways), key=lambda c: (c.earliest, c.kind != FOLLOW_UP)):
        user = candidate.user
        assert user.id is not None
        pref = prefs.get(user.id)
        if pref is not None and pref.opted_out:
            result.opted_out += 1
            continue
        earliest = max(candidate.earliest, now)
        if pref is not None and pref.snoozed_until is not None:
            earliest = max(earliest, as_utc(pref.snoozed_until))
        window = windows.get(user.timezone) or windows.setdefault(
            user.timezone, window_for(policy, user.timezone)
        )
        taken = sent.get(user.id, [])
        slot, deferred = capped_slot(earliest, window, taken, policy.max_per_week)
        if deferred:
            result.deferred_by_cap += 1
        if slot is None:
            continue
        if slot <= now and user.id not in due:
            due[user.id] = candidate
            sent.setdefault(user.id, []).append(now)
        else:
            upcoming.append(Upcoming(slot, user.id, candidate.kind, candidate.content_id))
    upcoming.sort(key=lambda u: u.when)
    result.upcoming = upcoming[:upcoming_limit] if upcoming_limit else upcoming
    _enqueue(session, config, pathways, list(due.values()), now, result)
    return result


# ---- the messages ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    return text.replace("*", "")


def step_reply(
    pathway: Pathway,
    item: ContentItem,
    *,
    pillar: str | None,
    imperative: str,
    number: int,
    total: int,
    enrolment_id: int,
    reminder: bool,
) -> Reply:
    """The next step: where it sits in the pathway, why it matters, the lesson, and the choices."""
    opener = "Still up for it? " if reminder else ""
    text = f"{opener}Step {number} of {total} on your pathway *{_clean(pathway.title)}*."
    reason = " — ".join(part for part in (pillar, imperative) if part)
    if reason:
        text += f"\nIt supports {reason}."
    value = f"{enrolment_id}|{item.id}"
    buttons = (
        Button("Start", "nudge_start", value, style="primary"),
        Button("Done", "nudge_done", value),
        Button("Snooze", "nudge_snooze", value),
        Button("Not now", "nudge_not_now", value),
        Button("Stop nudges", "nudge_stop", value, style="danger"),
    )
    return Reply(text=text, card=card_for(item, pillar_name=pillar, confidence=1.0), buttons=buttons)


def follow_up_reply(item: ContentItem, progress_id: int, completed: dt.datetime, zone: ZoneInfo) -> Reply:
    """'Did you get to apply X?' with Applied it / Not yet."""
    finished = as_utc(completed).astimezone(zone).strftime("%A")
    text = (
        f"Did you get to apply *{_clean(item.title)}*? You finished it on {finished}; "
        "using it at work is what makes it stick."
    )
    value = str(progress_id)
    buttons = (
        Button("Applied it", "follow_up_applied", value, style="primary"),
        Button("Not yet", "follow_up_not_yet", value),
    )
    return Reply(text=text, buttons=buttons)


def _refs(session: Session, user_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    ids = list(user_ids)
    if not ids:
        return {}
    query = select(ConversationReference).where(col(ConversationReference.user_id).in_(ids))
    return {(ref.user_id, ref.platform): ref.channel_id for ref in session.exec(query)}


def _enqueue(
    session: Session,
    config: AppConfig,
    pathways: dict[str, Pathway],
    due: list[_Candidate],
    now: dt.datetime,
    result: PlanResult,
) -> None:
    if not due:
        return
    items = {
        item.id: item
        for item in session.exec(
            select(ContentItem).where(col(ContentItem.id).in_({c.content_id for c in due}))
        )
    }
    refs = _refs(session, (c.user.id for c in due if c.user.id is not None))
    names = {p.id: p for p in config.pillars}
    rows: list[dict[str, Any]] = []
    enrolment_updates: list[dict[str, Any]] = []
    progress_updates: list[dict[str, Any]] = []
    for c in due:
        item, user = items.get(c.content_id), c.user
        if item is None or c.enrolment is None or user.id is None:
            continue
        pathway = pathways[c.enrolment.pathway_id]
        channel = refs.get((user.id, user.platform))
        if c.kind == STEP:
            assert c.enrolment.id is not None
            count = (c.enrolment.nudges_for_step if c.enrolment.nudged_step == c.content_id else 0) + 1
            pillar = names.get(pathway.pillar_id)
            reply = step_reply(
                pathway,
                item,
                pillar=pillar.name if pillar else None,
                imperative=pathway.imperative or (pillar.imperative if pillar else ""),
                number=c.number,
                total=c.total,
                enrolment_id=c.enrolment.id,
                reminder=count > 1,
            )
            key = f"step:{c.enrolment.id}:{c.content_id}:{count}"
            cadence = dt.timedelta(days=pathway.cadence_days)
            enrolment_updates.append(
                {
                    "id": c.enrolment.id,
                    "nudged_step": c.content_id,
                    "nudges_for_step": count,
                    "next_nudge_at": now + cadence,
                }
            )
            result.steps += 1
        else:
            assert c.progress is not None and c.progress.id is not None
            zone = zone_named(user.timezone, config.nudges.default_timezone)
            completed = c.progress.completed_at or now
            reply = follow_up_reply(item, c.progress.id, completed, zone)
            count = c.progress.follow_ups + 1
            key = f"follow-up:{c.progress.id}:{count}"
            progress_updates.append({"id": c.progress.id, "follow_ups": count, "follow_up_at": None})
            result.follow_ups += 1
        window = window_payload(window_for(config.nudges, user.timezone))  # kept polite if delivery lags
        payload = reply_payload(reply, to_user=user.platform_user_id, pathway=pathway.id, window=window)
        rows.append(
            message_row(key, user.platform, c.kind, payload, now, user_id=user.id, channel_id=channel)
        )
    enqueue_many(session=session, rows=rows)
    if enrolment_updates:
        session.execute(update(Enrolment), sorted(enrolment_updates, key=lambda r: r["id"]))
    if progress_updates:
        session.execute(update(StepProgress), sorted(progress_updates, key=lambda r: r["id"]))
