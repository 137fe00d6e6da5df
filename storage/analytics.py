"""Metric queries for the report and the admins' Home: plain functions over one period [since, until).

Each function reads the rows of its period and counts in Python, so the same code gives the same
numbers on SQLite (naive datetimes) and PostgreSQL (aware ones). Rates are None when there is
nothing to divide by, never a made-up 0%.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.models import (
    CampaignEvent,
    ContentItem,
    Enrolment,
    Feedback,
    Meeting,
    NudgePreference,
    OutboxMessage,
    Pathway,
    PathwayStep,
    Pillar,
    Question,
    StepProgress,
)

# Enrolments a learner chose (not the automatic audience ones) count as their activity.
CHOSEN_ENROLMENTS = ("self", "campaign")
# Days from completing a step to "Applied it", as buckets: (label, lowest day, first day not included).
APPLY_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("same day", 0, 1),
    ("1-3 days", 1, 4),
    ("4-7 days", 4, 8),
    ("8-14 days", 8, 15),
    ("15-30 days", 15, 31),
    ("over 30 days", 31, float("inf")),
)


def utc(value: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC (SQLite hands back naive UTC, PostgreSQL aware)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return part / whole if whole else None


def _within(column: object, since: dt.datetime, until: dt.datetime) -> list[object]:
    return [col(column) >= since, col(column) < until]  # type: ignore[arg-type]


# ---- weekly active learners ------------------------------------------------------------------


@dataclass(frozen=True)
class WeekActivity:
    """One ISO week: distinct people who asked, clicked or progressed, and each kind on its own."""

    week: str  # "2026-W47"
    starts: dt.date  # that week's Monday
    learners: int
    asked: int
    clicked: int
    progressed: int


def iso_weeks(since: dt.datetime, until: dt.datetime) -> list[tuple[str, dt.date]]:
    """Every ISO week the period touches, oldest first, as (label, Monday)."""
    day = utc(since).date()
    last = (utc(until) - dt.timedelta(microseconds=1)).date()
    monday = day - dt.timedelta(days=day.weekday())
    weeks = []
    while monday <= last:
        year, week, _ = monday.isocalendar()
        weeks.append((f"{year}-W{week:02d}", monday))
        monday += dt.timedelta(days=7)
    return weeks


def _week_of(when: dt.datetime) -> str:
    year, week, _ = utc(when).date().isocalendar()
    return f"{year}-W{week:02d}"


def activity_events(
    *, session: Session, since: dt.datetime, until: dt.datetime
) -> list[tuple[int, dt.datetime, str]]:
    """(person, when, "asked" | "clicked" | "progressed") for everything a learner did in the period.

    Asked: a question. Clicked: a verdict or rating (Feedback), a campaign button. Progressed: a
    pathway step started, completed or applied, or a pathway they chose to join.
    """
    events: list[tuple[int, dt.datetime, str]] = []
    for user_id, at in session.exec(
        select(Question.user_id, Question.asked_at).where(*_within(Question.asked_at, since, until))
    ):
        if user_id is not None:
            events.append((user_id, at, "asked"))
    for user_id, at in session.exec(
        select(Feedback.user_id, Feedback.created_at).where(*_within(Feedback.created_at, since, until))
    ):
        if user_id is not None:
            events.append((user_id, at, "clicked"))
    for user_id, at in session.exec(
        select(CampaignEvent.user_id, CampaignEvent.at).where(*_within(CampaignEvent.at, since, until))
    ):
        if user_id is not None:
            events.append((user_id, at, "clicked"))
    for user_id, at in session.exec(
        select(Enrolment.user_id, Enrolment.enrolled_at).where(
            col(Enrolment.joined_by).in_(CHOSEN_ENROLMENTS), *_within(Enrolment.enrolled_at, since, until)
        )
    ):
        events.append((user_id, at, "progressed"))
    for column in (StepProgress.started_at, StepProgress.completed_at, StepProgress.applied_at):
        rows = session.exec(
            select(Enrolment.user_id, column)
            .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
            .where(*_within(column, since, until))
        )
        events += [(user_id, at, "progressed") for user_id, at in rows]
    return events


def weekly_active_learners(
    *, session: Session, since: dt.datetime, until: dt.datetime, extra: Iterable[tuple[int, dt.datetime]] = ()
) -> list[WeekActivity]:
    """Distinct active learners per ISO week of the period (weeks with nobody active show 0).

    `extra` adds (person, when) clicks from tables this module does not know (e.g. ratings).
    """
    events = activity_events(session=session, since=since, until=until)
    events += [(person, at, "clicked") for person, at in extra if since <= utc(at) < until]
    people: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for person, at, kind in events:
        people[_week_of(at)][kind].add(person)
    rows = []
    for label, monday in iso_weeks(since, until):
        kinds = people.get(label, {})
        everyone = set().union(*kinds.values()) if kinds else set()
        rows.append(
            WeekActivity(
                label,
                monday,
                len(everyone),
                len(kinds.get("asked", ())),
                len(kinds.get("clicked", ())),
                len(kinds.get("progressed", ())),
            )
        )
    return rows


def active_learners(*, session: Session, since: dt.datetime, until: dt.datetime) -> int:
    """Distinct people who asked, clicked or progressed at any time in the period."""
    return len({person for person, _, _ in activity_events(session=session, since=since, until=until)})


# ---- questions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionStats:
    """Questions asked and answered, and Helpful / Not helpful verdicts, in one week or the whole period."""

    label: str
    asked: int
    answered: int
    helpful: int
    not_helpful: int

    @property
    def answer_rate(self) -> float | None:
        return rate(self.answered, self.asked)

    @property
    def helpful_rate(self) -> float | None:
        return rate(self.helpful, self.helpful + self.not_helpful)


def question_stats(*, session: Session, since: dt.datetime, until: dt.datetime) -> list[QuestionStats]:
    """One row per ISO week, then a "total" row: asked, answered (a lesson was given), verdicts.

    A verdict counts in the week it was given (a second click on the same answer replaces the first).
    """
    weeks = {label: [0, 0, 0, 0] for label, _ in iso_weeks(since, until)}
    for at, answered in session.exec(
        select(Question.asked_at, Question.answered).where(*_within(Question.asked_at, since, until))
    ):
        counts = weeks.setdefault(_week_of(at), [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += int(bool(answered))
    for at, verdict in session.exec(
        select(Feedback.created_at, Feedback.verdict).where(
            col(Feedback.verdict).in_(("helpful", "not_helpful")), *_within(Feedback.created_at, since, until)
        )
    ):
        counts = weeks.setdefault(_week_of(at), [0, 0, 0, 0])
        counts[2 if verdict == "helpful" else 3] += 1
    rows = [QuestionStats(label, *counts) for label, counts in weeks.items()]
    total = [sum(row[i] for row in weeks.values()) for i in range(4)]
    return [*rows, QuestionStats("total", *total)]


# ---- nudges ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NudgeResponses:
    """Learners sent a personal nudge in the period, and how many of them answered each way."""

    nudges_sent: int
    learners_nudged: int
    started: int
    done: int
    snoozed: int
    stopped: int
    responded: int

    def rows(self) -> list[tuple[str, int, float | None]]:
        """(response, learners, share of learners nudged)."""
        pairs = [
            ("started a step", self.started),
            ("marked a step done", self.done),
            ("snoozed", self.snoozed),
            ("stopped nudges", self.stopped),
            ("any of these", self.responded),
        ]
        return [(name, count, rate(count, self.learners_nudged)) for name, count in pairs]


def nudge_responses(
    *, session: Session, since: dt.datetime, until: dt.datetime, kinds: Sequence[str]
) -> NudgeResponses:
    """Of the learners sent a nudge of a personal kind (outbox rows sent in the period), who responded.

    Started / done: a step started / completed in the period (StepProgress). Snoozed: their latest
    nudge preference change, in the period, paused nudges (`snoozed_until` after it). Stopped: they
    opted out in the period and still are. A preference keeps only its latest state, so a learner who
    snoozed and later turned nudges back on counts as neither.
    """
    sent = list(
        session.exec(
            select(OutboxMessage.user_id).where(
                col(OutboxMessage.kind).in_(list(kinds)),
                OutboxMessage.status == "sent",
                *_within(OutboxMessage.sent_at, since, until),
            )
        )
    )
    nudged = {user_id for user_id in sent if user_id is not None}

    def progressed(column: object) -> set[int]:
        rows = session.exec(
            select(Enrolment.user_id)
            .join(StepProgress, col(StepProgress.enrolment_id) == col(Enrolment.id))
            .where(*_within(column, since, until))
        )
        return set(rows) & nudged

    started, done = progressed(StepProgress.started_at), progressed(StepProgress.completed_at)
    snoozed, stopped = set(), set()
    for pref in session.exec(
        select(NudgePreference).where(*_within(NudgePreference.updated_at, since, until))
    ):
        if pref.user_id not in nudged:
            continue
        if pref.opted_out:
            stopped.add(pref.user_id)
        elif pref.snoozed_until is not None and utc(pref.snoozed_until) > utc(pref.updated_at):
            snoozed.add(pref.user_id)
    return NudgeResponses(
        len(sent),
        len(nudged),
        len(started),
        len(done),
        len(snoozed),
        len(stopped),
        len(started | done | snoozed | stopped),
    )


# ---- pathways --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PillarPathways:
    """Pathways of one pillar: who is enrolled, how far they are, how many finished."""

    pillar: str
    name: str
    pathways: int
    enrolled: int  # enrolments active or completed at the end of the period
    joined: int  # of which joined in the period
    steps_completed: int  # steps completed in the period
    average_progress: float | None  # mean share of steps done per enrolment
    completed: int  # enrolments with every step done

    @property
    def completion_rate(self) -> float | None:
        return rate(self.completed, self.enrolled)


def pathways_by_pillar(*, session: Session, since: dt.datetime, until: dt.datetime) -> list[PillarPathways]:
    """Enrolment, progress and completion per pillar, counting what was true at `until`."""
    names = {pillar.id: pillar.name for pillar in session.exec(select(Pillar))}
    pathway_pillar = {p.id: p.pillar_id for p in session.exec(select(Pathway).where(col(Pathway.active)))}
    steps: dict[str, set[str]] = defaultdict(set)
    for step in session.exec(select(PathwayStep)):
        steps[step.pathway_id].add(step.content_id)
    enrolments = list(
        session.exec(
            select(Enrolment).where(
                col(Enrolment.status).in_(("active", "completed")), col(Enrolment.enrolled_at) < until
            )
        )
    )
    done: dict[int, set[str]] = defaultdict(set)
    completed_in_period: dict[int, int] = defaultdict(int)
    for progress in session.exec(select(StepProgress).where(col(StepProgress.completed_at) < until)):
        done[progress.enrolment_id].add(progress.content_id)
        if progress.completed_at is not None and utc(progress.completed_at) >= since:
            completed_in_period[progress.enrolment_id] += 1
    by_pillar: dict[str, list[Enrolment]] = defaultdict(list)
    for enrolment in enrolments:
        if enrolment.pathway_id in pathway_pillar:
            by_pillar[pathway_pillar[enrolment.pathway_id]].append(enrolment)
    rows = []
    for pillar in sorted(set(pathway_pillar.values())):
        mine = by_pillar.get(pillar, [])
        shares = []
        finished = 0
        for enrolment in mine:
            assert enrolment.id is not None
            wanted = steps.get(enrolment.pathway_id, set())
            got = len(done[enrolment.id] & wanted)
            if wanted:
                shares.append(got / len(wanted))
                finished += int(got == len(wanted))
        rows.append(
            PillarPathways(
                pillar,
                names.get(pillar, pillar),
                sum(1 for p in pathway_pillar.values() if p == pillar),
                len(mine),
                sum(1 for e in mine if utc(e.enrolled_at) >= since),
                sum(completed_in_period[e.id] for e in mine if e.id is not None),
                statistics.fmean(shares) if shares else None,
                finished,
            )
        )
    return rows


# ---- learning to applying --------------------------------------------------------------------


@dataclass(frozen=True)
class Applying:
    """Days from completing a step to "Applied it", for steps applied in the period."""

    days: tuple[float, ...]

    @property
    def median(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    def buckets(self) -> list[tuple[str, int]]:
        return [(label, sum(1 for d in self.days if low <= d < high)) for label, low, high in APPLY_BUCKETS]


def learning_to_applying(*, session: Session, since: dt.datetime, until: dt.datetime) -> Applying:
    """StepProgress.completed_at → applied_at in days, for every step applied in the period."""
    rows = session.exec(
        select(StepProgress.completed_at, StepProgress.applied_at).where(
            col(StepProgress.completed_at).is_not(None), *_within(StepProgress.applied_at, since, until)
        )
    )
    days = sorted(
        max((utc(applied) - utc(completed)).total_seconds(), 0) / 86400
        for completed, applied in rows
        if completed is not None and applied is not None
    )
    return Applying(tuple(days))


# ---- 1:1 prompts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OneOnOnes:
    """1:1 prompts sent to managers in the period, and what they answered."""

    prompts_sent: int
    meetings: int  # scheduled 1:1s that started in the period
    discussed: int
    not_this_time: int

    @property
    def discussed_rate(self) -> float | None:
        """Share of prompts sent that the manager answered "Discussed it"."""
        return rate(self.discussed, self.prompts_sent)


def one_on_ones(
    *, session: Session, since: dt.datetime, until: dt.datetime, kind: str = "one_on_one"
) -> OneOnOnes:
    """Prompts: outbox rows of the 1:1 kind sent in the period; answers: Meeting.response given in it."""
    sent = len(
        list(
            session.exec(
                select(OutboxMessage.id).where(
                    OutboxMessage.kind == kind,
                    OutboxMessage.status == "sent",
                    *_within(OutboxMessage.sent_at, since, until),
                )
            )
        )
    )
    meetings = len(
        list(
            session.exec(
                select(Meeting.id).where(
                    Meeting.status != "cancelled", *_within(Meeting.start_at, since, until)
                )
            )
        )
    )
    answers = list(session.exec(select(Meeting.response).where(*_within(Meeting.responded_at, since, until))))
    return OneOnOnes(sent, meetings, answers.count("discussed"), answers.count("not_this_time"))


# ---- content ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleLesson:
    """An active lesson whose `reviewed` date is older than the review period."""

    content_id: str
    title: str
    pillar: str | None
    reviewed: dt.date
    days_since: int


def stale_content(*, session: Session, now: dt.datetime, review_after_days: int) -> list[StaleLesson]:
    """Active lessons last reviewed more than `review_after_days` ago, oldest review first."""
    today = utc(now).date()
    cutoff = today - dt.timedelta(days=review_after_days)
    query = select(ContentItem).where(
        col(ContentItem.active), col(ContentItem.reviewed).is_not(None), col(ContentItem.reviewed) < cutoff
    )
    rows = [
        StaleLesson(item.id, item.title, item.pillar, item.reviewed, (today - item.reviewed).days)
        for item in session.exec(query)
        if item.reviewed is not None
    ]
    return sorted(rows, key=lambda r: (r.reviewed, r.content_id))


def undated_content(*, session: Session) -> int:
    """Active lessons with no `reviewed` date at all (their source does not say)."""
    query = select(ContentItem.id).where(col(ContentItem.active), col(ContentItem.reviewed).is_(None))
    return len(list(session.exec(query)))
