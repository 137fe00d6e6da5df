"""The org chart as people: who reports to whom, their team, time zone and role, and who has left.

`apply_org` takes the whole listing from one source (Graph or a roster), already read and checked,
and makes storage match it in one transaction: people are linked by email (created when new),
managers set, and anyone that source listed before but not now becomes inactive (never deleted,
so their history stays). Nothing here knows where the listing came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import OrgMember, Person


@dataclass(frozen=True)
class OrgEntry:
    """One person as the org chart lists them; None leaves a stored value as it is (except the manager)."""

    email: str
    name: str | None = None
    manager_email: str | None = None
    team: str | None = None
    timezone: str | None = None
    role: str | None = None
    external_id: str | None = None  # the Graph user id
    principal_name: str | None = None  # the Graph sign-in name, when it differs from the email


@dataclass
class OrgSyncResult:
    """What one sync changed, for the command line and the log."""

    source: str
    listed: int = 0
    added: int = 0
    updated: int = 0
    left: int = 0
    returned: int = 0
    managers: int = 0
    unknown_managers: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "listed": self.listed,
            "added": self.added,
            "updated": self.updated,
            "left": self.left,
            "returned": self.returned,
            "managers": self.managers,
            "unknown_managers": self.unknown_managers,
        }


def _key(email: str | None) -> str:
    return (email or "").strip().lower()


def apply_org(
    *, session: Session, entries: Sequence[OrgEntry], source: str, now: dt.datetime
) -> OrgSyncResult:
    """Make people match this complete listing from `source`; returns what changed."""
    result = OrgSyncResult(source=source, listed=len(entries))
    people: dict[str, Person] = {}
    for person in session.exec(select(Person).where(col(Person.email).is_not(None)).order_by(col(Person.id))):
        people.setdefault(_key(person.email), person)
    members = {m.person_id: m for m in session.exec(select(OrgMember))}
    listed: dict[str, Person] = {}
    for entry in entries:
        key = _key(entry.email)
        person = people.get(key)
        if person is None:
            person = Person(email=key, created_at=now)
            _update(person, entry)
            session.add(person)
            people[key] = person
            result.added += 1
        elif _update(person, entry):
            result.updated += 1
        if not person.active:
            person.active = True
            result.returned += 1
        listed[key] = person
    session.flush()
    for entry in entries:
        person = listed[_key(entry.email)]
        boss_key = _key(entry.manager_email)
        boss = listed.get(boss_key) or people.get(boss_key) if boss_key else None
        if boss_key and boss is None:
            result.unknown_managers.append(boss_key)
        manager_id = boss.id if boss is not None and boss.id != person.id else None
        if person.manager_id != manager_id:
            person.manager_id = manager_id
        assert person.id is not None
        member = members.get(person.id)
        if member is None:
            member = OrgMember(person_id=person.id, source=source)
            members[person.id] = member
        member.source, member.synced_at, member.left_at = source, now, None
        member.external_id, member.principal_name = entry.external_id, _key(entry.principal_name) or None
        session.add(member)
        session.add(person)
    listed_ids = {p.id for p in listed.values()}
    result.managers = len({p.manager_id for p in listed.values() if p.manager_id is not None})
    for member in members.values():
        if member.source == source and member.left_at is None and member.person_id not in listed_ids:
            member.left_at = now
            session.add(member)
            gone = session.get(Person, member.person_id)
            if gone is not None and gone.active:
                gone.active = False
                session.add(gone)
                result.left += 1
    session.flush()
    return result


def _update(person: Person, entry: OrgEntry) -> bool:
    changed = False
    for attribute, value in (
        ("display_name", entry.name),
        ("team", entry.team),
        ("timezone", entry.timezone),
        ("role", entry.role),
    ):
        if value is not None and getattr(person, attribute) != value:
            setattr(person, attribute, value)
            changed = True
    return changed


def members_of(*, session: Session, person_ids: Sequence[int]) -> dict[int, OrgMember]:
    """The org chart records of these people (their Graph ids and sign-in names), by person id."""
    found: dict[int, OrgMember] = {}
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for member in session.exec(select(OrgMember).where(col(OrgMember.person_id).in_(chunk))):
            found[member.person_id] = member
    return found


def managers_with_reports(*, session: Session) -> dict[int, list[Person]]:
    """Every active manager's active direct reports, by the manager's person id (one query)."""
    manager = select(Person.id).where(col(Person.active).is_(True))
    reports = session.exec(
        select(Person)
        .where(col(Person.active).is_(True), col(Person.manager_id).in_(manager))
        .order_by(col(Person.manager_id), col(Person.id))
    )
    out: dict[int, list[Person]] = {}
    for report in reports:
        assert report.manager_id is not None
        out.setdefault(report.manager_id, []).append(report)
    return out


def people_by_email(*, session: Session, emails: Sequence[str]) -> dict[str, Person]:
    """Stored people by lower-case email (the first one when two share it)."""
    wanted = sorted({_key(e) for e in emails if _key(e)})
    found: dict[str, Person] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        query = select(Person).where(func.lower(Person.email).in_(chunk)).order_by(col(Person.id))
        for person in session.exec(query):
            found.setdefault(_key(person.email), person)
    return found
