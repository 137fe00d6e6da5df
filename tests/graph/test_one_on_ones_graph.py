"""Finding 1:1s in Outlook calendars through the real msgraph-sdk client against the fake Graph server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import select

from bot.config import Settings
from bot.org_commands import OrgHost
from nudges.calendars import scan
from nudges.org_sync import sync_org
from storage.models import Meeting
from tests.graph.conftest import EXPECTED, MARIA, NOW, SAM, at
from tests.graph.fake_graph import FakeGraph, Fault, attendee, event


def found(result) -> set[tuple[str, str, str]]:  # noqa: ANN001 - a ScanResult
    return {(m["manager"], m["report"], m["start"]) for m in result.meetings_json()}


def stored(host: OrgHost) -> dict[str, Meeting]:
    with host.session() as session:
        return {m.id: m for m in session.exec(select(Meeting))}


def test_exactly_the_one_on_ones_are_found_across_pages_and_a_refusal_is_reported_once(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host, settings = make_host(db_url), graph_settings(db_url)
    sync_org(host, settings)

    result = scan(host, settings)

    assert found(result) == EXPECTED
    assert all(m["source"] == "graph" and m["id"].startswith("graph:") for m in result.meetings_json())
    # recurring 1:1s are found occurrence by occurrence
    assert {m["id"] for m in result.meetings_json() if m["report"] == "sam@acme.example"} == {
        "graph:sam-series-occ-0",
        "graph:sam-series-occ-1",
    }
    # Maria's calendar has 11 events in the window, 3 a page: every page was read
    assert fake_graph.counts["/users/u-maria/calendarView"] == 4
    # Omar's calendar answered 403: one problem, naming the permission, and everyone else was read
    assert result.failed == 1 and len(result.problems) == 1
    assert "Calendars.Read" in result.problems[0] and "omar@acme.example" in result.problems[0]
    assert {(m.manager_id, m.report_id) for m in stored(host).values()} and len(stored(host)) == len(EXPECTED)


def test_throttling_and_unavailability_are_retried_after_retry_after(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host, settings = make_host(db_url), graph_settings(db_url)
    sync_org(host, settings)
    fake_graph.faults += [
        Fault(r"/users/u-dana/calendarView", 429, retry_after=1),
        Fault(r"/users/u-maria/calendarView", 503, retry_after=1, code="ServiceUnavailable"),
    ]

    result = scan(host, settings)

    assert found(result) == EXPECTED
    assert result.problems == [
        "Microsoft Graph refused to let learnbot read the calendars of 1 manager(s) "
        "(omar@acme.example) (HTTP 403): the app registration needs the application "
        "permission Calendars.Read, with admin consent"
    ]
    assert fake_graph.counts["/users/u-dana/calendarView"] == 2  # the 429, then its retry
    assert all(f.times == 0 for f in fake_graph.faults)


def test_a_manager_graph_keeps_refusing_keeps_their_meetings_and_others_are_scanned(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host, settings = make_host(db_url), graph_settings(db_url)
    sync_org(host, settings)
    scan(host, settings)
    before = {k: (v.status, v.start_at) for k, v in stored(host).items() if k.startswith("graph:ana")}
    fake_graph.faults.append(Fault(r"/users/u-dana/calendarView", 503, times=10, retry_after=0))

    result = scan(host, settings)

    assert result.failed == 2  # Omar (403) and Dana (still 503 after the retries)
    assert any("dana@acme.example" in p and "503" in p for p in result.problems)
    after = {k: (v.status, v.start_at) for k, v in stored(host).items() if k.startswith("graph:ana")}
    assert after == before and all(status == "scheduled" for status, _ in after.values())
    assert {m for m in found(result) if m[0] == "maria@acme.example"} == {
        m for m in EXPECTED if m[0] == "maria@acme.example"
    }


def test_a_moved_meeting_moves_and_cancelled_or_vanished_ones_are_cancelled(
    db_url: str,
    make_host: Callable[..., OrgHost],
    graph_settings: Callable[..., Settings],
    fake_graph: FakeGraph,
) -> None:
    host, settings = make_host(db_url), graph_settings(db_url)
    sync_org(host, settings)
    scan(host, settings)
    maria = fake_graph.calendars["u-maria"]
    moved = next(e for e in maria if e["id"] == "sam-series-occ-0")
    moved.update(
        event(
            "sam-series-occ-0",
            start=at(8, 11, 30),
            organizer=MARIA,
            attendees=[attendee(SAM)],
            kind="exception",
            series="sam-series",
        )
    )
    next(e for e in maria if e["id"] == "priya-series-occ-0")["isCancelled"] = True
    fake_graph.calendars["u-dana"] = [
        e for e in fake_graph.calendars["u-dana"] if e["id"] != "ana-series-occ-1"
    ]

    result = scan(host, settings, now=NOW + dt.timedelta(hours=1))

    rows = stored(host)
    assert rows["graph:sam-series-occ-0"].status == "scheduled"
    assert rows["graph:sam-series-occ-0"].start_at.replace(tzinfo=dt.UTC) == at(8, 11, 30)
    assert rows["graph:priya-series-occ-0"].status == "cancelled"
    assert rows["graph:ana-series-occ-1"].status == "cancelled"
    assert rows["graph:priya-series-occ-1"].status == "scheduled"
    assert (result.changes.moved, result.changes.cancelled) == (1, 2)

    # the cancelled one is reinstated when it appears again
    next(e for e in maria if e["id"] == "priya-series-occ-0")["isCancelled"] = False
    assert scan(host, settings, now=NOW + dt.timedelta(hours=2)).changes.restored == 1
    assert stored(host)["graph:priya-series-occ-0"].status == "scheduled"


def test_graph_without_credentials_is_refused_with_what_to_set(
    db_url: str, make_host: Callable[..., OrgHost], tmp_path
) -> None:  # noqa: ANN001
    import pytest

    from nudges.calendars import ScanError

    host = make_host(db_url)
    with pytest.raises(ScanError, match="GRAPH_TENANT_ID"):
        scan(host, Settings(data_dir=tmp_path))


def test_a_calendar_that_answers_in_its_windows_time_zone_still_gives_the_right_utc_start() -> None:
    from nudges.calendars.graph import one_on_one
    from nudges.calendars.managers import ManagerCalendar

    maria = ManagerCalendar(
        manager_id=1, email=MARIA["address"], graph_id="u-maria", addresses=frozenset({MARIA["address"]}),
        reports={SAM["address"]: 2},
    )  # fmt: skip
    seattle = event("pst-1", start=at(1, 18), organizer=MARIA,
                    attendees=[attendee(MARIA), attendee(SAM)])  # fmt: skip
    seattle["start"] = {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "Pacific Standard Time"}
    seattle["end"] = {"dateTime": "2026-12-01T10:30:00.0000000", "timeZone": "Pacific Standard Time"}

    meeting = one_on_one(seattle, maria)

    assert meeting is not None and meeting.start_at == at(1, 18)
    assert meeting.end_at == at(1, 18, 30)
