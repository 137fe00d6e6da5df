"""Content gaps in storage: the questions learnbot could not answer well, and what happened to clusters.

A question is a gap when it was not answered (no lesson, a "Not sure" choice nobody picked or
answered "None of these", an answer that never arrived) or when its asker marked an answer
"Not helpful" and never "Helpful". Clusters themselves are computed (content_index.gaps); a
`GapState` row (table gapcluster) keeps only their state: sent to the experts, closed by a lesson.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage.models import AnswerShown, Feedback, GapState, Person, Question


@dataclass(frozen=True)
class GapQuestion:
    """One gap question: `reason` is "unanswered" or "not_helpful"; `rejected` the lessons its asker
    marked not helpful; `shown` every lesson shown for it, best first."""

    id: int
    user_id: int | None
    text: str
    asked_at: dt.datetime
    reason: str
    rejected: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    role: str | None = None  # the asker's stored role: which lessons they see


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def gap_questions(*, session: Session, until: dt.datetime) -> list[GapQuestion]:
    """Every gap question asked before `until`, oldest first (ties by id): the order clusters are built in."""
    missed = select(Feedback.question_id).where(
        Feedback.verdict == "not_helpful", col(Feedback.question_id).is_not(None)
    )
    helped = select(Feedback.question_id).where(
        Feedback.verdict == "helpful", col(Feedback.question_id).is_not(None)
    )
    gap = or_(
        col(Question.answered).is_(False),
        and_(col(Question.id).in_(missed), col(Question.id).not_in(helped)),
    )
    query = (
        select(Question)
        .where(gap, col(Question.asked_at) < until)
        .order_by(col(Question.asked_at), col(Question.id))
    )
    questions = list(session.exec(query))
    ids = [q.id for q in questions if q.id is not None]
    rejected: dict[int, list[str]] = {}
    shown: dict[int, list[str]] = {}
    askers = sorted({q.user_id for q in questions if q.user_id is not None})
    roles: dict[int, str | None] = {}
    for start in range(0, len(askers), 500):
        chunk = askers[start : start + 500]
        roles.update(session.exec(select(Person.id, Person.role).where(col(Person.id).in_(chunk))).all())
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for question_id, content_id in session.exec(
            select(Feedback.question_id, Feedback.content_id)
            .where(col(Feedback.question_id).in_(chunk), Feedback.verdict == "not_helpful")
            .order_by(col(Feedback.id))
        ):
            if question_id is not None:
                rejected.setdefault(question_id, []).append(content_id)
        for question_id, content_id in session.exec(
            select(AnswerShown.question_id, AnswerShown.content_id)
            .where(col(AnswerShown.question_id).in_(chunk))
            .order_by(col(AnswerShown.question_id), col(AnswerShown.rank))
        ):
            shown.setdefault(question_id, []).append(content_id)
    return [
        GapQuestion(
            id=q.id,
            user_id=q.user_id,
            text=q.text,
            asked_at=_utc(q.asked_at),
            reason="unanswered" if not q.answered else "not_helpful",
            rejected=tuple(rejected.get(q.id, ())),
            shown=tuple(shown.get(q.id, ())),
            role=roles.get(q.user_id) if q.user_id is not None else None,
        )
        for q in questions
        if q.id is not None
    ]


def cluster_states(*, session: Session) -> dict[int, GapState]:
    """Every cluster's stored state (sent, closed) by cluster id."""
    return {row.id: row for row in session.exec(select(GapState))}


def _state(session: Session, cluster_id: int, now: dt.datetime) -> GapState:
    row = session.get(GapState, cluster_id)
    if row is None:
        row = GapState(id=cluster_id, updated_at=now)
    return row


def close_cluster(*, session: Session, cluster_id: int, lesson_id: str, at: dt.datetime) -> GapState:
    """Record that `lesson_id` now answers this cluster's questions (first closure wins)."""
    row = _state(session, cluster_id, at)
    if row.closed_at is None:
        row.closed_at, row.closed_by, row.updated_at = at, lesson_id[:200], at
        session.add(row)
        session.flush()
    return row


def mark_sent(*, session: Session, cluster_id: int, by: int | None, at: dt.datetime) -> bool:
    """Record that an admin sent this cluster to the experts; False when it was sent before."""
    row = _state(session, cluster_id, at)
    if row.sent_at is not None:
        return False
    row.sent_at, row.sent_by, row.updated_at = at, by, at
    session.add(row)
    session.flush()
    return True
