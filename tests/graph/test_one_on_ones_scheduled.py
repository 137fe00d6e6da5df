"""A running bot reads the org chart and the 1:1s by itself: at start, then on app.yaml's schedule."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlmodel import func, select

from bot.adapters.console import ConsoleSender
from bot.org_commands import OrgHost
from nudges.scheduler import NudgeScheduler
from storage.models import Meeting, Person
from tests.conftest import ROOT

SAMPLE_ORG = {"source": "roster", "roster": str(ROOT / "samples/org/roster.csv"), "sync_hours": 24}
SAMPLE_ONE_ON_ONES = {
    "source": "roster",
    "roster": str(ROOT / "samples/org/one_on_ones.csv"),
    "scan_minutes": 60,
}


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_scheduler_syncs_the_org_chart_then_finds_the_one_on_ones(
    db_url: str, make_host: Callable[..., OrgHost]
) -> None:
    host = make_host(db_url, org=SAMPLE_ORG, one_on_ones=SAMPLE_ONE_ON_ONES)
    scheduler = NudgeScheduler(
        host,
        {"console": ConsoleSender(host.clock)},
        dispatch_seconds=3600,
        planner_seconds=3600,  # type: ignore[arg-type]
    )
    jobs = {job.id for job in scheduler.scheduler.get_jobs()}
    assert {"org-sync", "one-on-ones-scan"} <= jobs

    def meetings() -> int:
        with host.session() as session:
            return int(session.exec(select(func.count()).select_from(Meeting)).one())

    scheduler.start()
    try:
        assert wait_for(lambda: meetings() > 0)
    finally:
        scheduler.shutdown()
    with host.session() as session:
        sam = session.exec(select(Person).where(Person.email == "sam@acme.example")).one()
        maria = session.exec(select(Person).where(Person.email == "maria@acme.example")).one()
        assert sam.manager_id == maria.id
        assert session.exec(select(Meeting).where(Meeting.report_id == sam.id)).first() is not None


def test_with_org_and_one_on_ones_off_nothing_is_scheduled_for_them(
    db_url: str, make_host: Callable[..., OrgHost]
) -> None:
    host = make_host(db_url, org={"source": "off"}, one_on_ones={"source": "off"})
    scheduler = NudgeScheduler(host, {"console": ConsoleSender(host.clock)})  # type: ignore[arg-type]
    assert not {"org-sync", "one-on-ones-scan"} & {job.id for job in scheduler.scheduler.get_jobs()}
    scheduler.dispatcher.close()
