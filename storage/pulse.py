"""The purpose pulse in storage: answers (one per person per period, updatable) and their summary.

The summary never shows one person's answer: a period's distribution and mean, and a band's mean,
are given only for groups of at least `MIN_GROUP` people (else None, "too few to show"); the
correlation with learning activity only when at least `MIN_GROUP` people answered.
Learning activity is what a person did in the `ACTIVITY_DAYS` before answering: questions asked,
pathway steps completed, lessons applied.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import Enrolment, Person, PulseAnswer, Question, StepProgress

MIN_GROUP = 5  # the smallest group whose answers are shown (distribution, mean, correlation)
ACTIVITY_DAYS = 91  # learning activity counted before each answer (about a quarter)
BANDS = (("no activity", 0, 0), ("some", 1, 3), ("active", 4, None))  # events in ACTIVITY_DAYS
SCORES = (1, 2, 3, 4, 5)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def save_answer(
    *, session: Session, user_id: int, period: str, score: int, at: dt.datetime
) -> tuple[PulseAnswer, bool]:
    """Store this person's answer for the period, replacing an earlier one; True when it replaced one."""
    if score not in SCORES:
        raise ValueError(f"a pulse score is 1-5, not {score}")
    row = session.exec(
        select(PulseAnswer).where(PulseAnswer.user_id == user_id, PulseAnswer.period == period)
    ).first()
    updated = row is not None
    row = row or PulseAnswer(user_id=user_id, period=period, score=score, answered_at=at)
    row.score, row.answered_at = score, at
    session.add(row)
    session.flush()
    return row, updated


def answer_of(*, session: Session, user_id: int, period: str) -> PulseAnswer | None:
    return session.exec(
        select(PulseAnswer).where(PulseAnswer.user_id == user_id, PulseAnswer.period == period)
    ).first()


def answered(*, session: Session, period: str) -> set[int]:
    """Who has answered in this period."""
    return set(session.exec(select(PulseAnswer.user_id).where(PulseAnswer.period == period)))


def active_learners(*, session: Session, since: dt.datetime) -> list[Person]:
    """People still here with learning activity since `since`: a question, an enrolment or a finished step."""
    asked = select(Question.user_id).where(
        col(Question.asked_at) >= since, col(Question.user_id).is_not(None)
    )
    enrolled = select(Enrolment.user_id).where(
        or_(col(Enrolment.enrolled_at) >= since, col(Enrolment.status) == "active")
    )
    finished = (
        select(Enrolment.user_id)
        .join(StepProgress, col(StepProgress.enrolment_id) == col(Enrolment.id))
        .where(col(StepProgress.completed_at) >= since)
    )
    query = (
        select(Person)
        .where(col(Person.active).is_(True))
        .where(or_(col(Person.id).in_(asked), col(Person.id).in_(enrolled), col(Person.id).in_(finished)))
        .order_by(col(Person.id))
    )
    return list(session.exec(query))


# ---- the summary for the report -------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodPulse:
    """One period's answers: how many people, and (groups of MIN_GROUP or more) the distribution and mean."""

    period: str
    people: int
    distribution: dict[int, int] | None  # score → people; None when fewer than MIN_GROUP answered
    mean: float | None


@dataclass(frozen=True)
class BandPulse:
    """Answers by learning activity in the ACTIVITY_DAYS before answering: people, and their mean score."""

    band: str
    people: int
    mean: float | None  # None when fewer than MIN_GROUP people are in the band


@dataclass(frozen=True)
class PulseSummary:
    """The purpose pulse over a period, in groups only (see the module doc)."""

    periods: tuple[PeriodPulse, ...]
    bands: tuple[BandPulse, ...]
    answers: int
    correlation: float | None  # Spearman's rho of score and activity count; None below MIN_GROUP
    method: str = "spearman"
    min_group: int = MIN_GROUP
    activity_days: int = ACTIVITY_DAYS


def pulse_summary(*, session: Session, since: dt.datetime, now: dt.datetime) -> PulseSummary:
    """Answers given in [since, now): per period, by activity band, and the score-activity correlation."""
    since, now = _utc(since), _utc(now)
    rows = [
        row
        for row in session.exec(select(PulseAnswer).order_by(col(PulseAnswer.period), col(PulseAnswer.id)))
        if since <= _utc(row.answered_at) < now
    ]
    by_period: dict[str, list[int]] = {}
    for row in rows:
        by_period.setdefault(row.period, []).append(row.score)
    periods = tuple(_period(period, scores) for period, scores in sorted(by_period.items()))
    events = _activity_times(session, {row.user_id for row in rows})
    activity = [_count(events.get(row.user_id, []), _utc(row.answered_at)) for row in rows]
    bands = []
    for name, low, high in BANDS:
        scores = [
            row.score
            for row, n in zip(rows, activity, strict=True)
            if n >= low and (high is None or n <= high)
        ]
        mean = round(sum(scores) / len(scores), 2) if len(scores) >= MIN_GROUP else None
        bands.append(BandPulse(name, len(scores), mean))
    people = len({row.user_id for row in rows})
    correlation = None
    if people >= MIN_GROUP and len(rows) >= MIN_GROUP:
        correlation = spearman([row.score for row in rows], activity)
    return PulseSummary(periods, tuple(bands), len(rows), correlation)


def _period(period: str, scores: list[int]) -> PeriodPulse:
    if len(scores) < MIN_GROUP:
        return PeriodPulse(period, len(scores), None, None)
    counts = Counter(scores)
    return PeriodPulse(
        period, len(scores), {s: counts.get(s, 0) for s in SCORES}, round(sum(scores) / len(scores), 2)
    )


def _activity_times(session: Session, people: set[int]) -> dict[int, list[dt.datetime]]:
    """Each person's learning moments (questions, completed steps, applied lessons), sorted."""
    times: dict[int, list[dt.datetime]] = {}
    if not people:
        return times
    wanted = sorted(people)
    for user_id, at in session.exec(
        select(Question.user_id, Question.asked_at).where(col(Question.user_id).in_(wanted))
    ):
        if user_id is not None:
            times.setdefault(user_id, []).append(_utc(at))
    progress = (
        select(Enrolment.user_id, StepProgress.completed_at, StepProgress.applied_at)
        .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
        .where(col(Enrolment.user_id).in_(wanted))
    )
    for user_id, completed, applied in session.exec(progress):
        times.setdefault(user_id, []).extend(_utc(t) for t in (completed, applied) if t is not None)
    for moments in times.values():
        moments.sort()
    return times


def _count(moments: list[dt.datetime], at: dt.datetime) -> int:
    """Moments in the ACTIVITY_DAYS up to `at`."""
    return bisect_right(moments, at) - bisect_left(moments, at - dt.timedelta(days=ACTIVITY_DAYS))


def band_of(events: int) -> str:
    """The activity band a number of learning events falls in."""
    return next(name for name, low, high in BANDS if events >= low and (high is None or events <= high))


def _ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson's r of the ranks); None when either side is constant."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    n = len(rx)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return round(cov / (vx * vy) ** 0.5, 3)
