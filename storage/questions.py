"""Questions asked, the lessons shown for them, and feedback: the raw material of reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage.models import AnswerShown, Feedback, Question, utcnow

MAX_ID = 2**31 - 1  # the largest id an INTEGER key holds on PostgreSQL (and well within SQLite's)


def get_question(*, session: Session, question_id: int | str | None) -> Question | None:
    """The question with this id, or None: unknown, not a number, or too large to be an id."""
    if isinstance(question_id, str):
        question_id = int(question_id) if question_id.isascii() and question_id.isdigit() else None
    if question_id is None or not 0 < question_id <= MAX_ID:
        return None
    return session.get(Question, question_id)


def mark_unanswered(*, session: Session, question_ids: Sequence[int]) -> list[int]:
    """Count these questions as not answered (their answer never reached the asker): gaps, not answers."""
    marked = []
    for question_id in question_ids:
        question = get_question(session=session, question_id=question_id)
        if question is not None and question.answered:
            question.answered = False
            session.add(question)
            marked.append(question_id)
    return marked


def record_question(
    *,
    session: Session,
    user_id: int | None,
    platform: str,
    channel_id: str,
    thread_id: str | None,
    text: str,
    shown: Sequence[tuple[str, float]],
    answered: bool,
    confidence: float,
    now: dt.datetime | None = None,
) -> Question:
    """Store a question, how sure search was, and every lesson shown for it (rank 0 is the answer card).

    `now` is the bot's clock (so a test or a demo that moves the clock dates questions with it)."""
    when = now or utcnow()
    question = Question(
        user_id=user_id,
        platform=platform,
        channel_id=channel_id,
        thread_id=thread_id,
        text=text,
        answered=answered,
        confidence=confidence,
        asked_at=when,
    )
    session.add(question)
    session.flush()
    assert question.id is not None
    for rank, (content_id, confidence) in enumerate(shown):
        session.add(
            AnswerShown(
                question_id=question.id,
                content_id=content_id,
                rank=rank,
                confidence=confidence,
                shown_at=when,
            )
        )
    return question


def answers_shown(*, session: Session, question_id: int) -> list[AnswerShown]:
    return list(
        session.exec(
            select(AnswerShown).where(AnswerShown.question_id == question_id).order_by(AnswerShown.rank)
        )
    )


def record_feedback(
    *,
    session: Session,
    user_id: int | None,
    content_id: str,
    verdict: str,
    question_id: int | None = None,
    relevance: int | None = None,
    clarity: int | None = None,
    comment: str | None = None,
) -> Feedback:
    """Store a verdict; a second click on the same answer replaces the first rather than adding.

    A rating is one per person per lesson: rating it again updates that row.
    """
    existing = None
    if question_id is not None and verdict in ("helpful", "not_helpful"):
        existing = session.exec(
            select(Feedback).where(
                Feedback.question_id == question_id,
                Feedback.content_id == content_id,
                Feedback.user_id == user_id,
                col(Feedback.verdict).in_(("helpful", "not_helpful")),
            )
        ).first()
    elif verdict == "rating" and user_id is not None:
        existing = session.exec(
            select(Feedback)
            .where(Feedback.user_id == user_id, Feedback.content_id == content_id)
            .where(Feedback.verdict == "rating")
            .order_by(col(Feedback.id))
        ).first()
        if existing is not None:
            existing.question_id = question_id if question_id is not None else existing.question_id
    feedback = existing or Feedback(
        user_id=user_id, content_id=content_id, question_id=question_id, verdict=verdict
    )
    feedback.verdict, feedback.relevance, feedback.clarity = verdict, relevance, clarity
    feedback.comment = comment
    session.add(feedback)
    return feedback


def content_gaps(*, session: Session, limit: int = 10) -> list[Question]:
    """The most recent questions learnbot could not answer, or whose answers were all marked not helpful."""
    missed = select(Feedback.question_id).where(Feedback.verdict == "not_helpful")
    helped = select(Feedback.question_id).where(
        Feedback.verdict == "helpful", col(Feedback.question_id).is_not(None)
    )
    gap = or_(
        col(Question.answered).is_(False), and_(col(Question.id).in_(missed), col(Question.id).not_in(helped))
    )
    query = (
        select(Question)
        .where(gap)
        .order_by(col(Question.asked_at).desc(), col(Question.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))
