"""The managers whose calendars are read, with the addresses their 1:1s use (from the stored org chart)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.models import Person
from storage.org import managers_with_reports, members_of


@dataclass(frozen=True)
class ManagerCalendar:
    """A manager whose calendar is read: how Graph knows them and which addresses are their reports."""

    manager_id: int
    email: str
    graph_id: str | None
    addresses: frozenset[str]  # the manager's own email and sign-in name, lower-case
    reports: dict[str, int]  # a report's email or sign-in name (lower-case) -> their person id


def manager_calendars(*, session: Session) -> tuple[list[ManagerCalendar], dict[int, str]]:
    """Every active manager with active direct reports, with the addresses their events use."""
    teams = managers_with_reports(session=session)
    managers = {p.id: p for p in _people(session, list(teams))}
    members = members_of(session=session, person_ids=[*teams, *(r.id for rs in teams.values() for r in rs)])
    emails: dict[int, str] = {}

    def addresses(person: Person) -> set[str]:
        assert person.id is not None
        found = {(person.email or "").lower()}
        member = members.get(person.id)
        if member is not None and member.principal_name:
            found.add(member.principal_name.lower())
        emails[person.id] = (person.email or "").lower()
        return {a for a in found if a}

    calendars = []
    for manager_id, reports in sorted(teams.items()):
        manager = managers.get(manager_id)
        if manager is None or not manager.email:
            continue
        by_address = {address: r.id for r in reports if r.id is not None for address in addresses(r)}
        member = members.get(manager_id)
        calendars.append(
            ManagerCalendar(
                manager_id=manager_id,
                email=manager.email.lower(),
                graph_id=member.external_id if member is not None else None,
                addresses=frozenset(addresses(manager)),
                reports=by_address,
            )
        )
    return calendars, emails


def _people(session: Session, ids: list[int]) -> list[Person]:
    out: list[Person] = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        out += session.exec(select(Person).where(col(Person.id).in_(chunk))).all()
    return out
