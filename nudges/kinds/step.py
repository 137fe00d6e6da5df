"""Pathway steps: each active enrolment's next unfinished step, every `cadence_days`, one reminder if ignored.

A learner's answer (Snooze, Not now) sets when the step comes again and restarts the count, so
what the reply promised happens; a step ignored twice (the nudge and its reminder) waits for the
learner (it is on their Home).

Before looking, everyone a pathway's audience rule names is enrolled (`enrolled` in the
planner's notes). The key is `step:<enrolment>:<lesson>:<n>:<earliest>` with n the how-many-th
nudge since the learner last answered and `earliest` the stored moment it was due from, so
replanning makes no second row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from nudges.clock import as_utc
from nudges.kinds.base import Message, Pending, Planning
from nudges.messages import step_reply
from nudges.pathways import enrol_by_audience
from storage.enrolments import active_pathways as stored_pathways
from storage.models import ContentItem, Enrolment, Pathway, PathwayStep, Person, StepProgress

NAME = "step"
MAX_STEP_NUDGES = 2  # the nudge of a step and one reminder if it is ignored


@dataclass(frozen=True)
class _Step:
    enrolment: Enrolment
    pathway: Pathway
    number: int
    total: int


def steps_by_pathway(session: Session) -> dict[str, list[str]]:
    """Every pathway's lesson ids in order, in one query: only lessons still in the library (a step
    whose lesson file was deleted is skipped for learners; admins see it in `pathway ID`)."""
    steps: dict[str, list[str]] = {}
    query = (
        select(PathwayStep.pathway_id, PathwayStep.content_id)
        .join(ContentItem, col(ContentItem.id) == col(PathwayStep.content_id))
        .where(col(ContentItem.active).is_(True))
        .order_by(col(PathwayStep.pathway_id), col(PathwayStep.position))
    )
    for pathway_id, content_id in session.exec(query):
        steps.setdefault(pathway_id, []).append(content_id)
    return steps


def active_pathways(session: Session) -> dict[str, Pathway]:
    """The running pathways by id."""
    return {p.id: p for p in stored_pathways(session=session)}


def lessons(session: Session, ids: Iterable[str]) -> dict[str, ContentItem]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {i.id: i for i in session.exec(select(ContentItem).where(col(ContentItem.id).in_(wanted)))}


class Steps:
    """The next step of a pathway, as a direct message with Start, Done, Snooze, Not now, Stop nudges."""

    name = NAME
    personal = True
    priority = 1

    def pending(self, planning: Planning) -> Iterable[Pending]:
        session = planning.session
        planning.notes["enrolled"] += enrol_by_audience(session=session, now=planning.now)
        pathways = active_pathways(session)
        steps = steps_by_pathway(session)
        done: dict[int, set[str]] = {}
        for enrolment_id, content_id in session.exec(
            select(StepProgress.enrolment_id, StepProgress.content_id).where(
                col(StepProgress.completed_at).is_not(None)
            )
        ):
            done.setdefault(enrolment_id, set()).add(content_id)
        active = select(Enrolment, Person).join(Person, col(Person.id) == col(Enrolment.user_id))
        query = active.where(Enrolment.status == "active", col(Person.active).is_(True))
        for enrolment, person in session.exec(query):
            pathway_steps = steps.get(enrolment.pathway_id, [])
            pathway = pathways.get(enrolment.pathway_id)
            if pathway is None or not pathway_steps:
                continue
            finished = done.get(enrolment.id or 0, set())
            number, upcoming = next(
                ((n, s) for n, s in enumerate(pathway_steps, start=1) if s not in finished), (0, None)
            )
            if upcoming is None:
                continue
            count = enrolment.nudges_for_step if enrolment.nudged_step == upcoming else 0
            if count >= MAX_STEP_NUDGES:
                continue  # waiting for the learner to come back; they can pick it up from Home
            earliest = as_utc(enrolment.next_nudge_at or enrolment.enrolled_at)
            step = _Step(enrolment, pathway, number, len(pathway_steps))
            yield Pending(NAME, earliest, person, upcoming, step)

    def messages(self, planning: Planning, due: Sequence[Pending]) -> list[Message]:
        out: list[Message] = []
        items = lessons(planning.session, (p.subject for p in due))
        pillars = {p.id: p for p in planning.config.pillars}
        updates: list[dict[str, Any]] = []
        for pending in due:
            step: _Step = pending.data
            item, enrolment, pathway = items.get(pending.subject), step.enrolment, step.pathway
            if item is None or enrolment.id is None:
                continue
            count = (enrolment.nudges_for_step if enrolment.nudged_step == item.id else 0) + 1
            pillar = pillars.get(pathway.pillar_id)
            reply = step_reply(
                pathway,
                item,
                pillar=pillar.name if pillar else None,
                imperative=pathway.imperative or (pillar.imperative if pillar else ""),
                number=step.number,
                total=step.total,
                enrolment_id=enrolment.id,
                reminder=count > 1,
            )
            updates.append(
                {
                    "id": enrolment.id,
                    "nudged_step": item.id,
                    "nudges_for_step": count,
                    "next_nudge_at": planning.now + dt.timedelta(days=pathway.cadence_days),
                }
            )
            key = f"step:{enrolment.id}:{item.id}:{count}:{as_utc(pending.earliest):%Y%m%dT%H%M%S}"
            out.append(Message(key, reply, pending, extra={"pathway": pathway.id}))
        if updates:
            planning.session.execute(update(Enrolment), sorted(updates, key=lambda r: r["id"]))
        return out
