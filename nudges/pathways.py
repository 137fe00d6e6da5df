"""Hero pathways: who is on them (audience rule, an admin, the learner), progress per step, admins' edits.

app.yaml defines pathways and `learnbot index` mirrors them into storage. An L&D admin may
then change a pathway's steps from chat (add, remove, move): the edit is stored, the pathway
is marked as edited in chat, and later syncs from app.yaml keep the chat version of the steps
(title, pillar, audience and cadence still follow app.yaml) until an admin types
`pathway ID reset`, which puts app.yaml's steps back. Progress is kept per lesson, so editing
steps never loses what a learner has done.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from bot.config import AppConfig
from bot.ids import slugify
from storage.db import insert_ignore
from storage.enrolments import enrol, progress_for
from storage.models import (
    ContentItem,
    Enrolment,
    Identity,
    Pathway,
    PathwayStep,
    Person,
    Pillar,
    StepProgress,
)
from storage.pathways import active_steps, pathway_steps

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


class PathwayEditError(ValueError):
    """An admin's edit that cannot be applied; the message says why, in words for the chat."""


def audience_matches(audience: dict[str, list[str]], person: Person, user_ids: Iterable[str] = ()) -> bool:
    """True when the audience rule names this person's role, team, email or one of their platform ids."""
    roles, teams, users = audience.get("roles", []), audience.get("teams", []), audience.get("users", [])
    named = {u.lower() for u in users}
    return (
        (person.role is not None and person.role in roles)
        or (person.team is not None and person.team in teams)
        or any(uid.lower() in named for uid in user_ids)
        or (person.email is not None and person.email.lower() in named)
    )


def fits(pathway: Pathway, person: Person, user_ids: Iterable[str] = ()) -> bool:
    """A pathway is for everyone when its audience is empty, else for the people its rule names."""
    audience = pathway.audience or {}
    if not any(audience.values()):
        return True
    return audience_matches(audience, person, user_ids)


def platform_ids(session: Session, person_ids: Iterable[int] | None = None) -> dict[int, set[str]]:
    """Each person's platform user ids, for audience rules that list users."""
    query = select(Identity.person_id, Identity.platform_user_id)
    if person_ids is not None:
        query = query.where(col(Identity.person_id).in_(list(person_ids)))
    out: dict[int, set[str]] = {}
    for person_id, user_id in session.exec(query):
        out.setdefault(person_id, set()).add(user_id)
    return out


def enrol_by_audience(*, session: Session, now: dt.datetime) -> int:
    """Enrol everyone an active pathway's audience rule names; never re-adds someone who left.

    A pathway with an empty audience is open to everyone but enrols nobody automatically.
    Returns how many enrolments were created.
    """
    ruled = [
        p
        for p in session.exec(select(Pathway).where(col(Pathway.active).is_(True)))
        if any(p.audience.values())
    ]
    if not ruled:
        return 0
    people = list(session.exec(select(Person).where(col(Person.active).is_(True))))
    ids = platform_ids(session)
    existing = {(u, p) for u, p in session.exec(select(Enrolment.user_id, Enrolment.pathway_id))}
    rows = [
        {
            "user_id": person.id,
            "pathway_id": pathway.id,
            "joined_by": "audience",
            "status": "active",
            "enrolled_at": now,
            "nudges_for_step": 0,
        }
        for pathway in ruled
        for person in people
        if (person.id, pathway.id) not in existing
        and audience_matches(pathway.audience, person, ids.get(person.id or 0, ()))
    ]
    return insert_ignore(session, Enrolment, rows, ["user_id", "pathway_id"])


def join(
    *, session: Session, user_id: int, pathway_id: str, joined_by: str, now: dt.datetime
) -> tuple[Enrolment, bool]:
    """Put a learner on a pathway (by themselves, an admin or a campaign); True when newly on it."""
    pathway = session.get(Pathway, pathway_id)
    if pathway is None or not pathway.active:
        raise PathwayEditError(f"there is no running pathway called {pathway_id!r}")
    return enrol(session=session, user_id=user_id, pathway_id=pathway_id, joined_by=joined_by, now=now)


@dataclass(frozen=True)
class StepPosition:
    """Where a lesson sits in a pathway: 1-based step number, how many steps, what comes next."""

    number: int
    total: int
    next_id: str | None


def position(steps: list[str], content_id: str) -> StepPosition:
    number = steps.index(content_id) + 1 if content_id in steps else 0
    upcoming = steps[number] if 0 < number < len(steps) else None
    return StepPosition(number, len(steps), upcoming)


def start_step(*, session: Session, enrolment: Enrolment, content_id: str, now: dt.datetime) -> StepProgress:
    assert enrolment.id is not None
    progress = progress_for(session=session, enrolment_id=enrolment.id, content_id=content_id)
    assert progress is not None
    progress.started_at = progress.started_at or now
    session.add(progress)
    return progress


def complete_step(
    *, session: Session, enrolment: Enrolment, content_id: str, now: dt.datetime, follow_up_days: int
) -> tuple[StepProgress, bool]:
    """Mark a step done (and started), plan the 'did you apply it?' follow-up; True if the pathway is done."""
    assert enrolment.id is not None
    progress = start_step(session=session, enrolment=enrolment, content_id=content_id, now=now)
    if progress.completed_at is None:
        progress.completed_at = now
        progress.follow_up_at = now + dt.timedelta(days=follow_up_days)
    session.add(progress)
    session.flush()
    steps = active_steps(session=session, pathway_id=enrolment.pathway_id)  # a deleted lesson is skipped
    done = set(
        session.exec(
            select(StepProgress.content_id).where(
                StepProgress.enrolment_id == enrolment.id, col(StepProgress.completed_at).is_not(None)
            )
        )
    )
    finished = bool(steps) and set(steps) <= done
    if finished and enrolment.status == "active":
        enrolment.status = "completed"
        session.add(enrolment)
    return progress, finished


# ---- admins' edits --------------------------------------------------------------------------


def _pathway(session: Session, pathway_id: str) -> Pathway:
    pathway = session.get(Pathway, pathway_id)
    if pathway is None or not pathway.active:
        known = ", ".join(p.id for p in session.exec(select(Pathway).where(col(Pathway.active).is_(True))))
        raise PathwayEditError(
            f"there is no running pathway called `{pathway_id}` (known: {known or 'none'})"
        )
    return pathway


def _content(session: Session, content_id: str) -> ContentItem:
    item = session.get(ContentItem, slugify(content_id))
    if item is None or not item.active:
        raise PathwayEditError(f"there is no lesson with id `{content_id}` in the library")
    return item


def _write_steps(
    session: Session, pathway: Pathway, steps: list[str], editor: str | None, now: dt.datetime | None
) -> None:
    session.exec(delete(PathwayStep).where(col(PathwayStep.pathway_id) == pathway.id))  # type: ignore[call-overload]
    session.flush()
    for number, content_id in enumerate(steps):
        session.add(PathwayStep(pathway_id=pathway.id, position=number, content_id=content_id))
    pathway.edited_by, pathway.edited_at = editor, now
    session.add(pathway)
    session.flush()


def add_step(
    *, session: Session, pathway_id: str, content_id: str, at: int | None, editor: str, now: dt.datetime
) -> list[str]:
    """Insert a lesson as step `at` (1-based; default last); returns the new steps."""
    pathway, item = _pathway(session, pathway_id), _content(session, content_id)
    steps = pathway_steps(session=session, pathway_id=pathway.id)
    if item.id in steps:
        raise PathwayEditError(f"`{item.id}` is already step {steps.index(item.id) + 1} of `{pathway.id}`")
    index = len(steps) if at is None else at - 1
    if not 0 <= index <= len(steps):
        raise PathwayEditError(f"step number must be between 1 and {len(steps) + 1}")
    steps.insert(index, item.id)
    _write_steps(session, pathway, steps, editor, now)
    return steps


def _with_step(session: Session, pathway_id: str, content_id: str) -> tuple[Pathway, list[str], str]:
    """The pathway, its steps and the step's id; PathwayEditError when the lesson is not one of them."""
    pathway = _pathway(session, pathway_id)
    steps = pathway_steps(session=session, pathway_id=pathway.id)
    wanted = slugify(content_id)
    if wanted not in steps:
        raise PathwayEditError(f"`{content_id}` is not a step of `{pathway.id}`")
    return pathway, steps, wanted


def remove_step(
    *, session: Session, pathway_id: str, content_id: str, editor: str, now: dt.datetime
) -> list[str]:
    pathway, steps, wanted = _with_step(session, pathway_id, content_id)
    if len(steps) == 1:
        raise PathwayEditError("a pathway needs at least one step; add another before removing this one")
    steps.remove(wanted)
    _write_steps(session, pathway, steps, editor, now)
    return steps


def move_step(
    *, session: Session, pathway_id: str, content_id: str, to: int, editor: str, now: dt.datetime
) -> list[str]:
    pathway, steps, wanted = _with_step(session, pathway_id, content_id)
    if not 1 <= to <= len(steps):
        raise PathwayEditError(f"step number must be between 1 and {len(steps)}")
    steps.remove(wanted)
    steps.insert(to - 1, wanted)
    _write_steps(session, pathway, steps, editor, now)
    return steps


def reset_to_config(*, session: Session, config: AppConfig, pathway_id: str) -> list[str]:
    """Drop the chat edits: app.yaml's steps again, and later syncs follow app.yaml."""
    pathway = _pathway(session, pathway_id)
    configured = next((p for p in config.pathways if p.id == pathway.id), None)
    if configured is None:
        raise PathwayEditError(f"`{pathway.id}` is not in app.yaml, so there is nothing to reset to")
    steps = [slugify(step) for step in configured.steps]
    _write_steps(session, pathway, steps, None, None)
    return steps
