"""Learners on hero pathways: join, mark a step started, and read progress for the Home tab."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Enrolment, Pathway, PathwayStep, StepProgress, User, utcnow


def enrol(
    *, session: Session, user_id: int, pathway_id: str, joined_by: str = "self"
) -> tuple[Enrolment, bool]:
    """The learner's enrolment on this pathway and whether it is new; re-activates a dropped one."""
    existing = session.exec(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.pathway_id == pathway_id)
    ).first()
    if existing is not None:
        created = existing.status != "active"
        if created:
            existing.status = "active"
            session.add(existing)
        return existing, created
    enrolment = Enrolment(user_id=user_id, pathway_id=pathway_id, joined_by=joined_by)
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:  # a double click raced us: the other insert won
        found = session.exec(
            select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.pathway_id == pathway_id)
        ).one()
        return found, False
    return enrolment, True


def mark_started(*, session: Session, enrolment_id: int, content_id: str) -> StepProgress:
    """Note that the learner opened this step (kept if already started)."""
    progress = session.exec(
        select(StepProgress).where(
            StepProgress.enrolment_id == enrolment_id, StepProgress.content_id == content_id
        )
    ).first() or StepProgress(enrolment_id=enrolment_id, content_id=content_id)
    progress.started_at = progress.started_at or utcnow()
    session.add(progress)
    return progress


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


def fits(pathway: Pathway, user: User) -> bool:
    """A pathway is for everyone when its audience is empty, else for the listed roles, teams or users."""
    audience = pathway.audience or {}
    roles, teams, users = audience.get("roles", []), audience.get("teams", []), audience.get("users", [])
    if not (roles or teams or users):
        return True
    return user.role in roles or user.team in teams or user.platform_user_id in users


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


def get_enrolment(*, session: Session, user_id: int, pathway_id: str) -> Enrolment | None:
    return session.exec(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.pathway_id == pathway_id)
    ).first()


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


def enrolled_user_ids(*, session: Session, pathway_id: str) -> set[int]:
    """Everyone with an enrolment on this pathway, in any status (a learner who left is not re-added)."""
    return set(session.exec(select(Enrolment.user_id).where(Enrolment.pathway_id == pathway_id)))
