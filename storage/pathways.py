"""Pillars and hero pathways, mirrored from app.yaml into storage so enrolments can refer to them."""

from __future__ import annotations

import logging

from sqlmodel import Session, delete, select

from bot.config import AppConfig
from content_index.sources.base import slugify
from storage.models import Pathway, PathwayStep, Pillar

log = logging.getLogger(__name__)


def sync_from_config(*, session: Session, config: AppConfig) -> None:
    """Make stored pillars and pathways match app.yaml; pathways no longer configured become inactive.

    Steps an L&D admin edited in chat (`edited_at` set) are kept until `pathway ID reset`.
    """
    for pillar in config.pillars:
        row = session.get(Pillar, pillar.id) or Pillar(id=pillar.id, name=pillar.name)
        row.name, row.imperative = pillar.name, pillar.imperative
        session.add(row)
    session.flush()
    configured = {p.id for p in config.pathways}
    for pathway in config.pathways:
        row = session.get(Pathway, pathway.id) or Pathway(
            id=pathway.id, title=pathway.title, pillar_id=pathway.pillar
        )
        row.title, row.pillar_id, row.imperative = pathway.title, pathway.pillar, pathway.imperative
        row.audience = pathway.audience.model_dump()
        row.cadence_days, row.due, row.active = pathway.cadence_days, pathway.due, True
        session.add(row)
        session.flush()
        if row.edited_at is not None:
            if pathway_steps(session=session, pathway_id=row.id) != [slugify(s) for s in pathway.steps]:
                log.warning(
                    "pathway %s keeps the steps edited in chat by %s; app.yaml's differ",
                    row.id,
                    row.edited_by,
                )
            continue
        session.exec(delete(PathwayStep).where(PathwayStep.pathway_id == pathway.id))  # type: ignore[call-overload]
        for position, step in enumerate(pathway.steps):
            session.add(PathwayStep(pathway_id=pathway.id, position=position, content_id=slugify(step)))
    for row in session.exec(select(Pathway)):
        if row.id not in configured and row.active:
            row.active = False
            session.add(row)


def pathway_steps(*, session: Session, pathway_id: str) -> list[str]:
    steps = session.exec(
        select(PathwayStep).where(PathwayStep.pathway_id == pathway_id).order_by(PathwayStep.position)
    )
    return [step.content_id for step in steps]
