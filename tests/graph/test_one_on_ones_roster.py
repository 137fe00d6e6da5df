"""1:1s from a roster file: the same meetings as the calendars, local times across DST, bad rows named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.org_commands import OrgHost
from nudges.calendars import scan
from nudges.org_sync import sync_org
from nudges.roster_files import RosterError
from storage.models import Meeting
from tests.graph.conftest import EXPECTED

# The same 1:1s as Acme's calendars, written as a roster (times in UTC, London is on UTC in December)
ONE_ON_ONES = """\
manager_email,report_email,weekday,time,timezone,every_weeks,starting
maria@acme.example,sam@acme.example,tue,10:00,Europe/London,,
maria@acme.example,priya@acme.example,Wednesday,14:00,Europe/London,1,
maria@acme.example,leo@acme.example,thu,13:00,Europe/London,2,2026-12-14
dana@acme.example,ana@acme.example,thu,09:00,UTC,,
"""


def found(result) -> set[tuple[str, str, str]]:  # noqa: ANN001 - a ScanResult
    return {(m["manager"], m["report"], m["start"]) for m in result.meetings_json()}


def roster_host(
    db_url: str, make_host: Callable[..., OrgHost], settings: Settings, path: Path, text: str
) -> OrgHost:
    path.write_text(text)
    host = make_host(db_url, one_on_ones={"source": "roster", "roster": str(path), "lookahead_days": 14})
    sync_org(host, settings)  # the org chart from Graph: the roster only names the meetings
    return host


def test_the_roster_gives_the_same_one_on_ones_as_the_calendars(
    db_url: str, make_host: Callable[..., OrgHost], graph_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    host = roster_host(db_url, make_host, graph_settings(db_url), tmp_path / "one_on_ones.csv", ONE_ON_ONES)

    result = scan(host, None)

    assert found(result) == EXPECTED
    assert {m["source"] for m in result.meetings_json()} == {"roster"}
    assert "roster:maria@acme.example:sam@acme.example:2026-12-08" in {
        m["id"] for m in result.meetings_json()
    }
    # read again a day later: the same rows, the first week's past ones untouched, a new one added
    again = scan(host, None, now=dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.UTC))
    assert (again.changes.added, again.changes.cancelled) == (1, 0)  # Sam's 22 December
    with host.session() as session:
        assert len(session.exec(select(Meeting)).all()) == len(EXPECTED) + 1


def test_local_times_follow_daylight_saving(
    db_url: str, make_host: Callable[..., OrgHost], graph_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    text = "manager_email,report_email,weekday,time,timezone\n"
    text += "maria@acme.example,sam@acme.example,mon,09:00,America/New_York\n"
    host = roster_host(db_url, make_host, graph_settings(db_url), tmp_path / "one_on_ones.csv", text)

    result = scan(
        host, None, now=dt.datetime(2027, 3, 7, 12, 0, tzinfo=dt.UTC)
    )  # New York changes on 14 March

    assert [m["start"] for m in result.meetings_json()] == ["2027-03-08T14:00:00Z", "2027-03-15T13:00:00Z"]


def test_a_row_being_removed_cancels_its_meetings(
    db_url: str, make_host: Callable[..., OrgHost], graph_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = tmp_path / "one_on_ones.csv"
    host = roster_host(db_url, make_host, graph_settings(db_url), path, ONE_ON_ONES)
    scan(host, None)
    path.write_text("\n".join(line for line in ONE_ON_ONES.splitlines() if "ana@" not in line) + "\n")

    result = scan(host, None)

    assert result.changes.cancelled == 2
    with host.session() as session:
        statuses = {m.id: m.status for m in session.exec(select(Meeting))}
    assert statuses["roster:dana@acme.example:ana@acme.example:2026-12-10"] == "cancelled"
    assert statuses["roster:maria@acme.example:sam@acme.example:2026-12-08"] == "scheduled"


def test_bad_rows_are_named_and_stored_meetings_stay(
    db_url: str, make_host: Callable[..., OrgHost], graph_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = tmp_path / "one_on_ones.csv"
    host = roster_host(db_url, make_host, graph_settings(db_url), path, ONE_ON_ONES)
    scan(host, None)
    path.write_text(
        ONE_ON_ONES
        + "maria@acme.example,ana@acme.example,fri,10:00,,,\n"
        + "maria@acme.example,sam@acme.example,funday,25:00,,3,\n"
        + "nobody@acme.example,sam@acme.example,mon,10:00,,,\n"
    )

    with pytest.raises(RosterError) as caught:
        scan(host, None)

    message = str(caught.value)
    assert "one_on_ones.csv line 6: ana@acme.example does not report to maria@acme.example" in message
    assert "one_on_ones.csv line 7: weekday 'funday' is not a day" in message
    assert "one_on_ones.csv line 7: time '25:00' is not a time like 10:30" in message
    assert (
        "one_on_ones.csv line 7: starting (a date in the first week) is needed when every_weeks is 3"
        in message
    )
    assert (
        "one_on_ones.csv line 8: manager_email nobody@acme.example is not anyone in the org chart" in message
    )
    with host.session() as session:
        assert {m.status for m in session.exec(select(Meeting))} == {"scheduled"}
        assert len(session.exec(select(Meeting)).all()) == len(EXPECTED)
