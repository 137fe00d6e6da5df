"""Hero pathways in storage: their ordered steps."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import ContentItem, PathwayStep


def pathway_steps(*, session: Session, pathway_id: str) -> list[str]:
    steps = session.exec(
        select(PathwayStep).where(PathwayStep.pathway_id == pathway_id).order_by(PathwayStep.position)
    )
    return [step.content_id for step in steps]


def active_steps(*, session: Session, pathway_id: str) -> list[str]:
    """The steps whose lesson is still in the library: what learners are taken through."""
    query = (
        select(PathwayStep.content_id)
        .join(ContentItem, col(ContentItem.id) == col(PathwayStep.content_id))
        .where(PathwayStep.pathway_id == pathway_id, col(ContentItem.active).is_(True))
        .order_by(col(PathwayStep.position))
    )
    return list(session.exec(query))
