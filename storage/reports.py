"""Read-only views for the Home tab: a learner's recent answers, and headline numbers for L&D."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import AnswerShown, ContentItem, Feedback, Question, Rating, utcnow


@dataclass(frozen=True)
class AnsweredQuestion:
    """A question the learner asked, the lesson shown first, and their latest verdict and rating."""

    question: Question
    item: ContentItem
    verdict: str | None
    rated: bool


def recent_answers(*, session: Session, user_id: int, limit: int = 5) -> list[AnsweredQuestion]:
    """The learner's latest answered questions, newest first, with what they said about each."""
    query = (
        select(Question, ContentItem)
        .join(AnswerShown, col(AnswerShown.question_id) == col(Question.id))
        .join(ContentItem, col(ContentItem.id) == col(AnswerShown.content_id))
        .where(Question.user_id == user_id, AnswerShown.rank == 0)
        .order_by(col(Question.asked_at).desc(), col(Question.id).desc())
        .limit(limit)
    )
    rows = list(session.exec(query))
    ids = [question.id for question, _ in rows]
    feedback = list(
        session.exec(
            select(Feedback)
            .where(col(Feedback.question_id).in_(ids), Feedback.user_id == user_id)
            .order_by(col(Feedback.created_at), col(Feedback.id))
        )
    )
    rated_ids = set(
        session.exec(
            select(Rating.content_id).where(
                Rating.user_id == user_id, col(Rating.content_id).in_([item.id for _, item in rows])
            )
        )
    )  # ratings are one per person and lesson (storage.ratings)
    out = []
    for question, item in rows:
        mine = [f for f in feedback if f.question_id == question.id]
        verdicts = [f.verdict for f in mine if f.verdict in ("helpful", "not_helpful")]
        rated = any(f.verdict == "rating" for f in mine) or item.id in rated_ids
        out.append(AnsweredQuestion(question, item, verdicts[-1] if verdicts else None, rated))
    return out


def headline_numbers(*, session: Session, days: int = 7) -> dict[str, float | int]:
    """Questions asked, how many got an answer, and the helpful share of verdicts, over the last `days`."""
    since = utcnow() - dt.timedelta(days=days)
    asked = session.exec(
        select(func.count()).select_from(Question).where(col(Question.asked_at) >= since)
    ).one()
    answered = session.exec(
        select(func.count())
        .select_from(Question)
        .where(col(Question.asked_at) >= since, col(Question.answered).is_(True))
    ).one()
    verdicts = dict(
        session.exec(
            select(Feedback.verdict, func.count())
            .where(col(Feedback.created_at) >= since, col(Feedback.verdict).in_(("helpful", "not_helpful")))
            .group_by(col(Feedback.verdict))
        ).all()
    )
    helpful, missed = verdicts.get("helpful", 0), verdicts.get("not_helpful", 0)
    return {
        "asked": asked,
        "answered": answered,
        "helpful": helpful,
        "verdicts": helpful + missed,
    }
