"""Hero pathways in storage: their ordered steps."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import PathwayStep


def pathway_steps(*, session: Session, pathway_id: str) -> list[str]:
    steps = session.exec(
        select(PathwayStep).where(PathwayStep.pathway_id == pathway_id).order_by(PathwayStep.position)
    )
    return [step.content_id for step in steps]
