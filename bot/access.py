"""Who someone is to learnbot and what they may see: the one place roles and audiences are decided.

Adapters only say who is acting on their platform (`bot.events.Who`). Here that becomes a
person (linked across platforms by verified email) and a `Caller`: admin or SME when
app.yaml lists their platform id, `platform:id` or email; manager when app.yaml lists them
under `managers` or the org chart gives them direct reports; else a learner whose audience
is their stored role (e.g. "support"). Learners see their own data, managers only what their
direct reports chose to share, admins aggregates; admin commands are answered only in private.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.config import AppConfig
from bot.events import Role, Who
from storage.models import Enrolment, Person, StepProgress
from storage.people import has_direct_reports, identify
from storage.sharing import SharedLearning, reports_of, shared_learning

IN_PRIVATE = (
    "I only answer that in a direct message with me, so nothing private lands in a channel. Ask me there."
)
ADMINS_ONLY = "That's for L&D admins. Ask me a question instead, or type `help`."


@dataclass(frozen=True)
class Caller:
    """A person acting now, on one platform, with what app.yaml and the org chart make of them."""

    person: Person
    who: Who
    role: Role
    is_admin: bool = False
    is_sme: bool = False
    is_manager: bool = False

    @property
    def person_id(self) -> int:
        assert self.person.id is not None
        return self.person.id

    @property
    def audience(self) -> str | None:
        """Which lessons they see: admins all (None), managers manager lessons, others their stored role."""
        if self.is_admin:
            return None
        if self.is_manager:
            return "manager"
        return self.person.role or "everyone"


def _listed(entries: Iterable[str], who: Who, person: Person) -> bool:
    names = {entry.strip().lower() for entry in entries}
    emails = {e.lower() for e in (person.email, who.email) if e}
    ids = {who.user_id.lower(), f"{who.platform}:{who.user_id}".lower()}
    return bool(names & (ids | emails))


def caller_for(*, session: Session, config: AppConfig, person: Person, who: Who) -> Caller:
    """The role of a known person acting as `who`."""
    assert person.id is not None
    admin = _listed(config.admins, who, person)
    sme = admin or _listed(config.smes, who, person)
    manager = _listed(config.managers, who, person) or has_direct_reports(
        session=session, person_id=person.id
    )
    role: Role = "admin" if admin else "manager" if manager else "learner"
    return Caller(person=person, who=who, role=role, is_admin=admin, is_sme=sme, is_manager=manager)


def identify_caller(*, session: Session, config: AppConfig, who: Who, now: dt.datetime) -> Caller:
    """The person behind `who` (created or linked at first contact) and their role."""
    person = identify(
        session=session,
        platform=who.platform,
        platform_user_id=who.user_id,
        workspace=who.workspace,
        email=who.email,
        display_name=who.name,
        timezone=who.timezone,
        now=now,
    )
    return caller_for(session=session, config=config, person=person, who=who)


def is_report_of(report: Person, manager: Caller) -> bool:
    return report.manager_id is not None and report.manager_id == manager.person.id


def shared_takeaways(*, session: Session, viewer: Caller, report: Person) -> list[StepProgress]:
    """The takeaways `report` chose to share, if `viewer` is their manager (or themself: all of them)."""
    if report.id == viewer.person.id:
        shared_only = False
    elif is_report_of(report, viewer):
        shared_only = True
    else:
        return []
    query = (
        select(StepProgress)
        .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
        .where(Enrolment.user_id == report.id, col(StepProgress.takeaway).is_not(None))
        .order_by(col(StepProgress.completed_at))
    )
    if shared_only:
        query = query.where(col(StepProgress.share_with_manager).is_(True))
    return list(session.exec(query))


def team_learning(
    *, session: Session, viewer: Caller, since: dt.datetime | None = None
) -> list[tuple[Person, SharedLearning]]:
    """Each of `viewer`'s active direct reports (the org chart) with only what they share, from `since`;
    nobody else's: empty for someone with no reports, whatever app.yaml calls them."""
    reports = reports_of(session=session, manager_id=viewer.person_id)
    learning = shared_learning(
        session=session, report_ids=[r.id for r in reports if r.id is not None], since=since
    )
    return [(report, learning[report.id]) for report in reports if report.id is not None]


def manager_of(*, session: Session, person: Person) -> Person | None:
    """Who sees what this person shares: their manager in the org chart, if active."""
    manager = session.get(Person, person.manager_id) if person.manager_id else None
    return manager if manager is not None and manager.active else None
