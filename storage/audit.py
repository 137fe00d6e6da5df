"""The "why" audit: the most-used lessons with their ratings, pillar and impact tag, and what needs fixing.

Use over a period [since, now) is counted per lesson as:
  answers   the lesson shown as the answer card (rank 0) for a question asked in the period,
  completions   pathway steps on it completed in the period,
  pathway_starts   pathway steps on it started in the period (Start on a nudge).
`uses` is their sum. The top 20% is a fifth of the active library (rounded up, at least one),
most uses first, ties by id; lessons nobody used are never in it.

Flags:
  no_impact       no impact tag (after any admin overlay);
  weak_clarity    average strategic clarity below 3 from at least `MIN_RATINGS` (3) ratings: fewer
                  ratings are too few to call a lesson unclear;
  past_review     `reviewed` more than `review_after_days` before `now`, or never reviewed.
Ratings are all-time (a lesson's clarity does not reset with the period).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.models import AnswerShown, ContentItem, Question, StepProgress
from storage.ratings import averages_for

TOP_SHARE = 0.2
MIN_RATINGS = 3
WEAK_CLARITY = 3.0
FLAGS = ("no_impact", "weak_clarity", "past_review")


@dataclass(frozen=True)
class AuditRow:
    """One of the most-used lessons: its use, ratings, pillar, impact tag and flags."""

    content_id: str
    title: str
    pillar: str | None
    impact: tuple[str, ...]
    uses: int
    answers: int
    completions: int
    pathway_starts: int
    ratings: int
    role_relevance: float | None  # average, None when nobody rated it
    strategic_clarity: float | None
    reviewed: dt.date | None
    review_due: dt.date | None  # reviewed + review_after_days (None: never reviewed)
    flags: tuple[str, ...]


def _window(query, column, since: dt.datetime, now: dt.datetime):  # type: ignore[no-untyped-def]
    return query.where(col(column) >= since, col(column) < now)


def usage(*, session: Session, since: dt.datetime, now: dt.datetime) -> dict[str, Counter[str]]:
    """Per lesson id: answers, completions and pathway_starts in [since, now)."""
    counts: dict[str, Counter[str]] = {}
    answers = _window(
        select(AnswerShown.content_id)
        .join(Question, col(Question.id) == col(AnswerShown.question_id))
        .where(AnswerShown.rank == 0),
        Question.asked_at,
        since,
        now,
    )
    for content_id in session.exec(answers):
        counts.setdefault(content_id, Counter())["answers"] += 1
    for name, column in (
        ("completions", StepProgress.completed_at),
        ("pathway_starts", StepProgress.started_at),
    ):
        for content_id in session.exec(_window(select(StepProgress.content_id), column, since, now)):
            counts.setdefault(content_id, Counter())[name] += 1
    return counts


def flags_for(
    item: ContentItem, ratings: int, clarity: float | None, *, today: dt.date, review_after_days: int
) -> tuple[str, ...]:
    """Which of the three problems this lesson has."""
    flags = []
    if not item.impact:
        flags.append("no_impact")
    if ratings >= MIN_RATINGS and clarity is not None and clarity < WEAK_CLARITY:
        flags.append("weak_clarity")
    if item.reviewed is None or item.reviewed + dt.timedelta(days=review_after_days) < today:
        flags.append("past_review")
    return tuple(flags)


def why_audit(
    *, session: Session, since: dt.datetime, now: dt.datetime, review_after_days: int = 365
) -> list[AuditRow]:
    """The top 20% most-used active lessons over [since, now), most used first, each with its flags."""
    if since >= now:
        raise ValueError(f"the audit period must start before it ends (since {since}, now {now})")
    if review_after_days < 1:
        raise ValueError(f"review_after_days must be at least 1, not {review_after_days}")
    items = {item.id: item for item in session.exec(select(ContentItem).where(col(ContentItem.active)))}
    if not items:
        return []
    counts = {cid: c for cid, c in usage(session=session, since=since, now=now).items() if cid in items}
    ranked = sorted(counts, key=lambda cid: (-sum(counts[cid].values()), cid))
    top = ranked[: max(1, math.ceil(len(items) * TOP_SHARE))]
    averages = averages_for(session=session, content_ids=top)
    rows = []
    for content_id in top:
        item, used, rated = items[content_id], counts[content_id], averages.get(content_id)
        n = rated.count if rated else 0
        clarity = rated.strategic_clarity if rated else None
        rows.append(
            AuditRow(
                content_id=content_id,
                title=item.title,
                pillar=item.pillar,
                impact=tuple(item.impact),
                uses=sum(used.values()),
                answers=used["answers"],
                completions=used["completions"],
                pathway_starts=used["pathway_starts"],
                ratings=n,
                role_relevance=rated.role_relevance if rated else None,
                strategic_clarity=clarity,
                reviewed=item.reviewed,
                review_due=item.reviewed + dt.timedelta(days=review_after_days) if item.reviewed else None,
                flags=flags_for(item, n, clarity, today=now.date(), review_after_days=review_after_days),
            )
        )
    return rows
