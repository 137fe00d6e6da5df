"""People and their platform identities; linking by verified email or by an admin; how to reach them.

A person is found from a platform identity. A new identity whose platform vouches for an
email joins the person who already has that email, so a learner on Slack and on Teams (or
the console) is one person with one progress record. `merge_people` is the admin's way to
link identities the platforms cannot link themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, delete, select

from storage.db import insert_ignore
from storage.models import (
    CampaignEvent,
    ConversationReference,
    Enrolment,
    Feedback,
    Identity,
    NudgePreference,
    OutboxMessage,
    Person,
    Question,
    StepProgress,
    utcnow,
)


def _email(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if "@" in value and len(value) <= 320 else None


def identity_of(*, session: Session, platform: str, platform_user_id: str) -> Identity | None:
    return session.exec(
        select(Identity).where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
    ).first()


def person_by_email(*, session: Session, email: str) -> Person | None:
    wanted = _email(email)
    if wanted is None:
        return None
    return session.exec(
        select(Person).where(func.lower(Person.email) == wanted).order_by(col(Person.id))
    ).first()


def identify(
    *,
    session: Session,
    platform: str,
    platform_user_id: str,
    workspace: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
    timezone: str | None = None,
    now: dt.datetime | None = None,
) -> Person:
    """The person behind this platform identity, created (or linked by verified email) at first contact.

    What the platform says now (name, time zone, a first email) is kept fresh on the person;
    a stored role or team (from a roster) is never overwritten by a chat.
    """
    now = now or utcnow()
    verified = _email(email)
    identity = identity_of(session=session, platform=platform, platform_user_id=platform_user_id)
    if identity is None:
        person = person_by_email(session=session, email=verified) if verified else None
        if person is None:
            person = Person(display_name=display_name, email=verified, timezone=timezone, created_at=now)
            session.add(person)
            session.flush()
        assert person.id is not None
        row = {
            "person_id": person.id,
            "platform": platform,
            "platform_user_id": platform_user_id,
            "workspace": workspace,
            "email": verified,
            "created_at": now,
            "last_seen_at": now,
        }
        if not insert_ignore(session, Identity, [row], ["platform", "platform_user_id"]):
            # Someone else's first message created it a moment ago: use theirs.
            found = identity_of(session=session, platform=platform, platform_user_id=platform_user_id)
            assert found is not None
            if found.person_id != person.id and not _owns_anything(session, person.id):
                session.delete(person)
            person = session.get(Person, found.person_id) or person
        return person
    person = session.get(Person, identity.person_id)
    assert person is not None
    changed = False
    if verified and identity.email != verified:
        identity.email, changed = verified, True
    if workspace and identity.workspace != workspace:
        identity.workspace, changed = workspace, True
    if identity.last_seen_at is None or now - _utc(identity.last_seen_at) > dt.timedelta(minutes=5):
        identity.last_seen_at, changed = now, True
    if changed:
        session.add(identity)
    if display_name and person.display_name != display_name:
        person.display_name = display_name
        session.add(person)
    if timezone and person.timezone != timezone:
        person.timezone = timezone
        session.add(person)
    if verified and not person.email and person_by_email(session=session, email=verified) is None:
        person.email = verified
        session.add(person)
    return person


def _utc(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _owns_anything(session: Session, person_id: int | None) -> bool:
    return person_id is not None and any(
        session.exec(select(model.id).where(model.user_id == person_id).limit(1)).first() is not None  # type: ignore[attr-defined]
        for model in (Question, Feedback, Enrolment)
    )


def identities_of(*, session: Session, person_id: int) -> list[Identity]:
    return list(
        session.exec(select(Identity).where(Identity.person_id == person_id).order_by(col(Identity.id)))
    )


def set_attributes(
    *,
    session: Session,
    person: Person,
    role: str | None = None,
    team: str | None = None,
    email: str | None = None,
    manager_id: int | None = None,
) -> Person:
    """Stored attributes from a roster or an admin: role, team, email, manager (None leaves one as is)."""
    if role is not None:
        person.role = role
    if team is not None:
        person.team = team
    if email is not None:
        person.email = _email(email)
    if manager_id is not None:
        person.manager_id = manager_id
    session.add(person)
    return person


def direct_reports(*, session: Session, manager_id: int) -> list[Person]:
    return list(
        session.exec(select(Person).where(Person.manager_id == manager_id, col(Person.active).is_(True)))
    )


def has_direct_reports(*, session: Session, person_id: int) -> bool:
    found = session.exec(
        select(Person.id).where(Person.manager_id == person_id, col(Person.active).is_(True)).limit(1)
    ).first()
    return found is not None


# ---- linking -------------------------------------------------------------------------------


_OWNED: tuple[Any, ...] = (Question, Feedback, CampaignEvent, OutboxMessage)


def merge_people(*, session: Session, source_id: int, target_id: int) -> None:
    """Fold `source` into `target`: identities, questions, feedback, enrolments, progress and references.

    Where both have the same thing (an enrolment on one pathway, a reference on one platform,
    nudge preferences), the target's is kept and the source's progress is added to it.
    The source person is marked inactive (never deleted: history may name them).
    """
    if source_id == target_id:
        return
    session.flush()
    session.execute(update(Identity).where(col(Identity.person_id) == source_id).values(person_id=target_id))
    for model in _OWNED:
        session.execute(update(model).where(model.user_id == source_id).values(user_id=target_id))
    theirs = {e.pathway_id: e for e in session.exec(select(Enrolment).where(Enrolment.user_id == target_id))}
    for enrolment in session.exec(select(Enrolment).where(Enrolment.user_id == source_id)).all():
        kept = theirs.get(enrolment.pathway_id)
        if kept is None:
            enrolment.user_id = target_id
            session.add(enrolment)
            continue
        done = set(session.exec(select(StepProgress.content_id).where(StepProgress.enrolment_id == kept.id)))
        for progress in session.exec(
            select(StepProgress).where(StepProgress.enrolment_id == enrolment.id)
        ).all():
            if progress.content_id in done:
                session.delete(progress)
            else:
                progress.enrolment_id = kept.id  # type: ignore[assignment]
                session.add(progress)
        session.flush()
        session.delete(enrolment)
    mine = {
        r.platform
        for r in session.exec(select(ConversationReference).where(ConversationReference.user_id == target_id))
    }
    for ref in session.exec(
        select(ConversationReference).where(ConversationReference.user_id == source_id)
    ).all():
        if ref.platform in mine:
            session.delete(ref)
        else:
            ref.user_id = target_id
            session.add(ref)
    if session.get(NudgePreference, target_id) is None:
        pref = session.get(NudgePreference, source_id)
        if pref is not None:
            session.add(
                NudgePreference(user_id=target_id, opted_out=pref.opted_out, snoozed_until=pref.snoozed_until)
            )
    session.exec(delete(NudgePreference).where(col(NudgePreference.user_id) == source_id))  # type: ignore[call-overload]
    session.execute(update(Person).where(col(Person.manager_id) == source_id).values(manager_id=target_id))
    source, target = session.get(Person, source_id), session.get(Person, target_id)
    assert source is not None and target is not None
    target.email = target.email or source.email
    target.display_name = target.display_name or source.display_name
    target.timezone = target.timezone or source.timezone
    target.role, target.team = target.role or source.role, target.team or source.team
    target.manager_id = target.manager_id or source.manager_id
    source.active, source.email = False, None
    session.add_all([source, target])
    session.flush()


# ---- conversation references ---------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A stored way to reach a person on one platform (see `bot.events.ConversationRef`)."""

    person_id: int
    platform: str
    platform_user_id: str | None
    channel_id: str | None
    data: dict[str, Any]
    updated_at: dt.datetime


def remember_reference(
    *,
    session: Session,
    person_id: int,
    platform: str,
    platform_user_id: str | None,
    channel_id: str | None = None,
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Store (or refresh) how to reach this person on this platform; a known channel stays if none given."""
    now = now or utcnow()
    existing = session.exec(
        select(ConversationReference).where(
            ConversationReference.user_id == person_id, ConversationReference.platform == platform
        )
    ).first()
    if existing is None:
        row = {
            "user_id": person_id,
            "platform": platform,
            "platform_user_id": platform_user_id,
            "channel_id": channel_id,
            "data": dict(data or {}),
            "updated_at": now,
        }
        if insert_ignore(session, ConversationReference, [row], ["user_id", "platform"]):
            return
        existing = session.exec(
            select(ConversationReference).where(
                ConversationReference.user_id == person_id, ConversationReference.platform == platform
            )
        ).one()
    existing.platform_user_id = platform_user_id or existing.platform_user_id
    existing.channel_id = channel_id or existing.channel_id
    existing.data = {**existing.data, **(data or {})}
    existing.updated_at = now
    session.add(existing)


def references(*, session: Session, person_ids: Iterable[int]) -> dict[int, list[Reference]]:
    """Every stored reference of these people, most recently used first."""
    ids = list(person_ids)
    out: dict[int, list[Reference]] = {}
    if not ids:
        return out
    query = (
        select(ConversationReference)
        .where(col(ConversationReference.user_id).in_(ids))
        .order_by(col(ConversationReference.updated_at).desc(), col(ConversationReference.id).desc())
    )
    for row in session.exec(query):
        out.setdefault(row.user_id, []).append(
            Reference(
                row.user_id,
                row.platform,
                row.platform_user_id,
                row.channel_id,
                dict(row.data),
                row.updated_at,
            )
        )
    return out


def choose_reference(person: Person, refs: list[Reference], platforms: Iterable[str]) -> Reference | None:
    """Where to message this person: their chosen platform if reachable there, else the one used last."""
    usable = [ref for ref in refs if ref.platform in set(platforms)]
    chosen = [ref for ref in usable if ref.platform == person.preferred_platform]
    return (chosen or usable or [None])[0]
