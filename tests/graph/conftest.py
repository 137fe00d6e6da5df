"""Acme's org chart and calendars on the fake Graph server, a migrated database, and the host the sync uses.

Chris runs the company; Maria manages Sam, Priya and Leo; Dana manages Ana; Omar manages Kim (and his
calendar refuses us, 403). The scan window is the fortnight from Monday 7 December 2026, 08:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings, load_config
from bot.org_commands import OrgHost
from nudges.clock import ManualClock
from storage.db import make_engine, upgrade
from tests.conftest import write_config
from tests.graph.fake_graph import FakeGraph, attendee, event, person, serving, user, weekly

NOW = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

CHRIS = person("Chris Boss", "chris@acme.example")
MARIA = person("Maria Manager", "maria@acme.example")
SAM = person("Sam Learner", "sam@acme.example")
PRIYA = person("Priya Patel", "priya@acme.example")
LEO = person("Leo Lopez", "leo@acme.example")
DANA = person("Dana Diaz", "dana@acme.example")
ANA = person("Ana Alves", "ana@acme.example")
OMAR = person("Omar Odum", "omar@acme.example")
KIM = person("Kim Kato", "kim@acme.example")
ROOM = person("Room 4.01", "room401@acme.example")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in December 2026, UTC."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


def acme_users() -> tuple[list[dict], dict[str, str]]:
    users = [
        user("u-chris", "Chris Boss", "chris@acme.example", department="Leadership"),
        user("u-maria", "Maria Manager", "maria@acme.example", department="Support"),
        user("u-sam", "Sam Learner", "sam@acme.example", department="Support"),
        user("u-priya", "Priya Patel", "priya@acme.example", department="Support"),
        user("u-leo", "Leo Lopez", "leo@acme.example", department="Support"),
        user("u-dana", "Dana Diaz", "dana@acme.example", department="Sales"),
        user("u-ana", "Ana Alves", "ana@acme.example", department="Sales"),
        user("u-omar", "Omar Odum", "omar@acme.example", department="Finance"),
        user("u-kim", "Kim Kato", "kim@acme.example", department="Finance"),
    ]
    managers = {
        "u-maria": "u-chris",
        "u-dana": "u-chris",
        "u-omar": "u-chris",
        "u-sam": "u-maria",
        "u-priya": "u-maria",
        "u-leo": "u-maria",
        "u-ana": "u-dana",
        "u-kim": "u-omar",
    }
    return users, managers


def acme_calendars() -> dict[str, list[dict]]:
    """Maria's calendar holds every case; to find: Sam's, Priya's, Leo's in a room, Ana's with Dana."""
    maria = [
        # the weekly 1:1 with Sam, Maria organising: Tuesdays 10:00 (two fall in the window, one after it)
        *weekly("sam-series", first=at(8, 10), weeks=3, organizer=MARIA, attendees=[attendee(SAM)]),
        # Priya organises hers: Wednesdays 14:00
        *weekly("priya-series", first=at(9, 14), weeks=2, organizer=PRIYA, attendees=[attendee(MARIA)]),
        # Leo declined his
        event("leo-declined", start=at(10, 11), organizer=MARIA, attendees=[attendee(LEO, "declined")]),
        # a cancelled extra occurrence with Sam
        event(
            "sam-extra-cancelled",
            start=at(11, 9),
            organizer=MARIA,
            attendees=[attendee(SAM)],
            kind="occurrence",
            series="sam-extra",
            cancelled=True,
        ),
        # Sam's day off, marked all day with Maria
        event("sam-all-day", start=at(14, 0), organizer=SAM, attendees=[attendee(MARIA)], all_day=True),
        # a team meeting: Maria, Sam and Priya
        event("team-sync", start=at(9, 9), organizer=MARIA, attendees=[attendee(SAM), attendee(PRIYA)]),
        # a peer 1:1 with Dana (not Maria's report)
        event("peer-dana", start=at(10, 15), organizer=DANA, attendees=[attendee(MARIA)]),
        # Maria herself declined a 1:1 Priya sent
        event(
            "maria-declined",
            start=at(16, 16),
            organizer=PRIYA,
            attendees=[attendee(MARIA, "declined")],
            my_response="declined",
        ),
        # a 1:1 with Leo booked in a room: the room does not count as a person
        event(
            "leo-in-room",
            start=at(17, 13),
            organizer=MARIA,
            attendees=[attendee(LEO), attendee(ROOM, kind="resource")],
        ),
    ]
    dana = weekly("ana-series", first=at(10, 9), weeks=2, organizer=ANA, attendees=[attendee(DANA)])
    omar = [event("kim-1-1", start=at(8, 15), organizer=OMAR, attendees=[attendee(KIM)])]
    return {"u-maria": maria, "u-dana": dana, "u-omar": omar}


# (manager, report, start) of every 1:1 the scan must find (Omar's calendar refuses us)
EXPECTED = {
    ("maria@acme.example", "sam@acme.example", "2026-12-08T10:00:00Z"),
    ("maria@acme.example", "sam@acme.example", "2026-12-15T10:00:00Z"),
    ("maria@acme.example", "priya@acme.example", "2026-12-09T14:00:00Z"),
    ("maria@acme.example", "priya@acme.example", "2026-12-16T14:00:00Z"),
    ("maria@acme.example", "leo@acme.example", "2026-12-17T13:00:00Z"),
    ("dana@acme.example", "ana@acme.example", "2026-12-10T09:00:00Z"),
    ("dana@acme.example", "ana@acme.example", "2026-12-17T09:00:00Z"),
}


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    users, managers = acme_users()
    yield from serving(
        FakeGraph(
            users=users, managers=managers, calendars=acme_calendars(), forbidden={"u-omar"}, page_size=3
        )
    )


@pytest.fixture
def graph_settings(tmp_path: Path, fake_graph: FakeGraph) -> Callable[..., Settings]:
    def build(database_url: str, config_path: Path | None = None) -> Settings:
        return Settings(
            data_dir=tmp_path / "data",
            config_path=config_path or write_config(tmp_path, **GRAPH_CONFIG),
            database_url=database_url,
            graph_api_url=fake_graph.url,
            graph_allow_anonymous=True,
        )

    return build


GRAPH_CONFIG: dict[str, object] = {
    "org": {"source": "graph", "sync_hours": 24},
    "one_on_ones": {"source": "graph", "lookahead_days": 14, "lead_hours": 2},
}


@pytest.fixture
def make_host(tmp_path: Path) -> Callable[..., OrgHost]:
    """The org sync's host over a migrated database at `db_url`, app.yaml with `overrides`, clock at NOW."""

    def build(db_url: str, **overrides: object) -> OrgHost:
        config_path = write_config(tmp_path, **{**GRAPH_CONFIG, **overrides})
        engine = make_engine(db_url)
        upgrade(engine)
        return OrgHost(load_config(config_path), engine, ManualClock(NOW))

    return build
