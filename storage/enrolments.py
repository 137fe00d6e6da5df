"""Learners on hero pathways: enrolments and progress rows (the rules for them live in `nudges.pathways`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Enrolment, Pathway, PathwayStep, StepProgress


def enrol(
    *, session: Session, user_id: int, pathway_id: str, joined_by: str, now: dt.datetime
) -> tuple[Enrolment, bool]:
    """The learner's enrolment on this pathway and whether it is new; re-activates a dropped one."""
    existing = session.exec(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.pathway_id == pathway_id)
    ).first()
    if existing is not None:
        created = existing.status != "active"
        if created:
            existing.status, existing.enrolled_at, existing.next_nudge_at = "active", now, None
            session.add(existing)
        return existing, created
    enrolment = Enrolment(user_id=user_id, pathway_id=pathway_id, joined_by=joined_by, enrolled_at=now)
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:  # a double click raced us: the other insert won
        found = session.exec(
            select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.pathway_id == pathway_id)
        ).one()
        return found, False
    return enrolment, True


def pathways_with_step(*, session: Session, content_id: str) -> list[Pathway]:
    """Active pathways that include this lesson (once each, even if it is two of the steps), by id."""
    query = (
        select(Pathway)
        .join(PathwayStep, col(PathwayStep.pathway_id) == col(Pathway.id))
        .where(PathwayStep.content_id == content_id, col(Pathway.active).is_(True))
        .order_by(col(Pathway.id))
    )
    return list({pathway.id: pathway for pathway in session.exec(query)}.values())


def active_pathways(*, session: Session) -> list[Pathway]:
    return list(session.exec(select(Pathway).where(col(Pathway.active).is_(True)).order_by(col(Pathway.id))))


def enrolments_for(*, session: Session, user_id: int) -> list[tuple[Enrolment, Pathway]]:
    """The learner's active enrolments with their pathways, oldest first."""
    query = (
        select(Enrolment, Pathway)
        .join(Pathway, col(Pathway.id) == col(Enrolment.pathway_id))
        .where(Enrolment.user_id == user_id, Enrolment.status == "active")
        .order_by(col(Enrolment.enrolled_at), col(Enrolment.id))
    )
    return [(enrolment, pathway) for enrolment, pathway in session.exec(query)]


def completed_steps(*, session: Session, enrolment_id: int) -> set[str]:
    rows = session.exec(
        select(StepProgress.content_id).where(
            StepProgress.enrolment_id == enrolment_id, col(StepProgress.completed_at).is_not(None)
        )
    )
    return set(rows)


def count_active_enrolments(*, session: Session) -> int:
    return len(list(session.exec(select(Enrolment.id).where(Enrolment.status == "active"))))


def progress_for(
    *, session: Session, enrolment_id: int, content_id: str, create: bool = True
) -> StepProgress | None:
    """The learner's progress on one step, created empty when asked to."""
    found = session.exec(
        select(StepProgress).where(
            StepProgress.enrolment_id == enrolment_id, StepProgress.content_id == content_id
        )
    ).first()
    if found is None and create:
        found = StepProgress(enrolment_id=enrolment_id, content_id=content_id)
        session.add(found)
    return found
