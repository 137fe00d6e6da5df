"""The org chart from Graph (paged, with managers expanded) or a roster file, stored as people."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.org_commands import OrgHost
from nudges.org_sync import OrgSyncError, sync_org
from nudges.roster_files import RosterError
from storage.models import Person, Question
from tests.graph.fake_graph import FakeGraph, Fault

ROSTER = """\
name,email,manager_email,team,timezone,role
Chris Boss,chris@acme.example,,leadership,Europe/London,manager
Maria Manager,maria@acme.example,chris@acme.example,support,Europe/London,manager
Sam Learner,Sam@Acme.example,maria@acme.example,support,Europe/London,support
Leo Lopez,leo@acme.example,maria@acme.example,support,America/New_York,support
"""

ROSTER_YAML = """\
people:
  - {name: Chris Boss, email: chris@acme.example, team: leadership, timezone: Europe/London, role: manager}
  - name: Maria Manager
    email: maria@acme.example
    manager_email: chris@acme.example
    team: support
    timezone: Europe/London
    role: manager
  - {name: Sam Learner, email: sam@acme.example, manager_email: maria@acme.example, team: support,
     timezone: Europe/London, role: support}
  - {name: Leo Lopez, email: leo@acme.example, manager_email: maria@acme.example, team: support,
     timezone: America/New_York, role: support}
"""


def chart(host: OrgHost) -> dict[str, tuple[str | None, str | None, bool]]:
    """email -> (manager's email, team, active)."""
    with host.session() as session:
        people = list(session.exec(select(Person)))
    email = {p.id: p.email for p in people}
    return {p.email or "": (email.get(p.manager_id), p.team, p.active) for p in people}


def test_graph_sync_pages_through_users_with_their_managers_in_one_request_a_page(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host = make_host(db_url)

    result = sync_org(host, graph_settings(db_url))

    assert (result.listed, result.added, result.left) == (9, 9, 0)
    people = chart(host)
    assert people["sam@acme.example"] == ("maria@acme.example", "Support", True)
    assert people["ana@acme.example"] == ("dana@acme.example", "Sales", True)
    assert people["chris@acme.example"] == (None, "Leadership", True)
    # 9 people, 3 a page: 3 requests, and none per person
    assert fake_graph.total() == 3 and set(fake_graph.counts) == {"/users"}
    assert all("$expand=manager" in r for r in fake_graph.requests)
    assert fake_graph.auth_headers == [None, None, None]  # anonymous, to a loopback fake only


def test_people_who_left_become_inactive_with_their_history_and_can_come_back(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host, settings = make_host(db_url), graph_settings(db_url)
    sync_org(host, settings)
    with host.session() as session:
        leo = session.exec(select(Person).where(Person.email == "leo@acme.example")).one()
        session.add(Question(user_id=leo.id, text="how do I escalate?", platform="console"))
    fake_graph.users = [u for u in fake_graph.users if u["id"] != "u-leo"]
    next(u for u in fake_graph.users if u["id"] == "u-kim")["accountEnabled"] = False

    result = sync_org(host, settings)

    assert (result.left, result.added) == (2, 0)
    people = chart(host)
    assert people["leo@acme.example"][2] is False and people["kim@acme.example"][2] is False
    assert people["sam@acme.example"][2] is True
    with host.session() as session:
        assert session.exec(select(Question).where(Question.text == "how do I escalate?")).one()

    fake_graph.users.append(
        {
            "id": "u-leo",
            "displayName": "Leo Lopez",
            "mail": "leo@acme.example",
            "userPrincipalName": "leo@acme.example",
            "department": "Support",
            "accountEnabled": True,
        }
    )
    assert sync_org(host, settings).returned == 1
    assert chart(host)["leo@acme.example"] == ("maria@acme.example", "Support", True)


def test_graph_refusing_the_user_list_names_the_permission_and_changes_nothing(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host, settings = make_host(db_url), graph_settings(db_url)
    sync_org(host, settings)
    before = chart(host)
    fake_graph.faults.append(Fault(r"/users", 403, times=1, code="Authorization_RequestDenied"))

    with pytest.raises(OrgSyncError, match=r"User\.Read\.All") as caught:
        sync_org(host, settings)

    assert "403" in str(caught.value)
    assert chart(host) == before


def test_a_throttled_page_is_retried_and_the_sync_completes(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host = make_host(db_url)
    fake_graph.faults.append(Fault(r"/users", 429, times=1, retry_after=1))

    assert sync_org(host, graph_settings(db_url)).listed == 9
    assert fake_graph.total("/users") == 4  # three pages and one retry


@pytest.mark.parametrize("name,text", [("roster.csv", ROSTER), ("roster.yaml", ROSTER_YAML)])
def test_roster_file_gives_people_teams_managers_and_time_zones(
    db_url: str, make_host: Callable[..., OrgHost], tmp_path: Path, name: str, text: str
) -> None:
    roster = tmp_path / name
    roster.write_text(text)
    host = make_host(db_url, org={"source": "roster", "roster": str(roster)})

    result = sync_org(host, None)

    assert (result.listed, result.added, result.managers) == (4, 4, 2)
    people = chart(host)
    assert people["sam@acme.example"] == ("maria@acme.example", "support", True)
    with host.session() as session:
        leo = session.exec(select(Person).where(Person.email == "leo@acme.example")).one()
    assert (leo.timezone, leo.role, leo.display_name) == ("America/New_York", "support", "Leo Lopez")


def test_bad_roster_rows_are_all_named_with_their_line_and_nothing_stored_is_lost(
    db_url: str, make_host: Callable[..., OrgHost], tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    host = make_host(db_url, org={"source": "roster", "roster": str(roster)})
    sync_org(host, None)
    before = chart(host)
    roster.write_text(
        ROSTER
        + "Nadia,not-an-email,maria@acme.example,support,Europe/London,support\n"
        + "Olga,olga@acme.example,boss@acme.example,support,Mars/Olympus,support\n"
        + "Sam again,sam@acme.example,maria@acme.example,support,,\n"
    )

    with pytest.raises(RosterError) as caught:
        sync_org(host, None)

    message = str(caught.value)
    assert "roster.csv line 6: email 'not-an-email' is not an email address" in message
    assert "roster.csv line 7: manager_email boss@acme.example is not anyone in the roster" in message
    assert "roster.csv line 7: timezone: unknown time zone 'Mars/Olympus'" in message
    assert "roster.csv line 8: sam@acme.example is listed twice (first at roster.csv line 4)" in message
    assert "nothing was changed" in message
    assert chart(host) == before


def test_a_roster_with_an_unknown_column_is_refused(
    db_url: str, make_host: Callable[..., OrgHost], tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email,manger_email\nSam,sam@acme.example,maria@acme.example\n")
    host = make_host(db_url, org={"source": "roster", "roster": str(roster)})
    with pytest.raises(RosterError, match="unknown column.*'manger_email'"):
        sync_org(host, None)


def test_migration_0008_goes_down_and_up_again(db_url: str) -> None:
    from sqlalchemy import inspect

    from storage.db import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine, "0008")
    assert "orgmember" in inspect(engine).get_table_names()
    from alembic import command

    from storage.db import _alembic_config

    command.downgrade(_alembic_config(engine), "0007")
    assert "orgmember" not in inspect(engine).get_table_names()
    assert upgrade(engine, "0008") == "0008"
    engine.dispose()


def test_credentials_build_the_real_client_without_calling_anyone(tmp_path: Path) -> None:
    import asyncio

    from bot.config import load_settings
    from bot.graph import open_graph

    settings = load_settings(
        {"GRAPH_TENANT_ID": "tenant", "GRAPH_CLIENT_ID": "app", "GRAPH_CLIENT_SECRET": "s"}
    )

    async def build() -> str:
        async with open_graph(settings) as client:
            return client.request_adapter.base_url

    assert asyncio.run(build()) == "https://graph.microsoft.com/v1.0"
