"""Org sync and 1:1 calendar scan for 1,000 managers with 8 reports each, against the fake Graph server.

The fake Graph (tests/graph/fake_graph.py) runs in a process of its own and answers every request after
`--latency-ms` (a network round trip). Each measured phase runs in a fresh process too, so its time and
peak RSS are its own; "imports only" is a process that loads the same modules and does nothing else.

- org sync: `GET /users?$expand=manager` page by page (999 a page), stored as people.
- calendar scan: each manager's calendarView for 7 days (8 weekly 1:1s, a team meeting and a declined
  1:1 each), 8 managers at a time, stored as meetings.
Baselines in the same run: the org chart read one request per person (the user list, then
`GET /users/{id}/manager` for each), on a sample of `--baseline` managers and compared per person; and
the calendar scan one manager at a time (`--concurrency 1`).
Run: `python -m benchmarks.graph_scan [--managers 1000] [--reports 8] [--latency-ms 20] [--baseline 50]`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import re
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.graph.fake_graph import FakeGraph, attendee, event, person, user, weekly  # noqa: E402

NOW = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)  # a Monday morning


def org_data(managers: int, reports: int) -> tuple[list[dict], dict[str, str], dict[str, list[dict]]]:
    """A CEO, `managers` managers under them and `reports` reports each; every manager's week of meetings."""
    users = [user("ceo", "Chief", "ceo@bench.example", department="Leadership")]
    bosses: dict[str, str] = {}
    calendars: dict[str, list[dict]] = {}
    for m in range(managers):
        mid, memail = f"m{m}", f"m{m}@bench.example"
        users.append(user(mid, f"Manager {m}", memail, department=f"team-{m}"))
        bosses[mid] = "ceo"
        me = person(f"Manager {m}", memail)
        team = []
        events: list[dict] = []
        for r in range(reports):
            rid, remail = f"m{m}r{r}", f"m{m}r{r}@bench.example"
            users.append(user(rid, f"Report {m}.{r}", remail, department=f"team-{m}"))
            bosses[rid] = mid
            them = person(f"Report {m}.{r}", remail)
            team.append(attendee(them))
            first = NOW + dt.timedelta(days=r % 5, hours=1 + r)
            events += weekly(f"{mid}-{rid}", first=first, weeks=2, organizer=me, attendees=[attendee(them)])
        events.append(
            event(f"{mid}-team", start=NOW + dt.timedelta(days=1, hours=6), organizer=me, attendees=team)
        )
        events.append(
            event(
                f"{mid}-declined",
                start=NOW + dt.timedelta(days=2, hours=7),
                organizer=me,
                attendees=[attendee(team[0]["emailAddress"], "declined")],
            )
        )
        calendars[mid] = events
    return users, bosses, calendars


def serve(managers: int, reports: int, latency: float, out: Any, stop: Any) -> None:
    """The fake Graph, in its own process; `/_stats` answers its request counts (and is not counted)."""
    users, bosses, calendars = org_data(managers, reports)

    def stats(graph: FakeGraph, match: re.Match[str], query: dict[str, str]) -> tuple[int, dict, Any]:
        with graph._lock:
            graph.counts["/_stats"] -= 1
            return 200, {}, dict(graph.counts)

    graph = FakeGraph(
        users=users,
        managers=bosses,
        calendars=calendars,
        page_size=999,
        latency=latency,
        routes=[(re.compile(r"/_stats"), stats)],
    )
    graph.start()
    out.put(graph.url)
    stop.wait()
    graph.stop()


def counts(url: str) -> dict[str, int]:
    import httpx

    return {k: v for k, v in httpx.get(f"{url}/_stats").json().items() if v}


def write_config(folder: Path) -> Path:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    for source in data["content_sources"]:
        if "path" in source:
            source["path"] = str(ROOT / source["path"])
    data["org"] = {"source": "graph"}
    data["one_on_ones"] = {"source": "graph", "lookahead_days": 7}
    path = folder / "app.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def phase(kind: str, url: str, db_url: str, config: str, concurrency: int, out: Any) -> None:
    """One measured step in this (fresh) process: its seconds and peak RSS."""
    import asyncio

    # everything a phase imports, before the clock starts (the Graph SDK alone takes seconds to import)
    from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import (  # noqa: F401
        CalendarViewRequestBuilder,
    )
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder  # noqa: F401

    from bot import graph as graph_module
    from bot.config import Settings, load_config
    from bot.org_commands import OrgHost
    from nudges.calendars import graph as calendars_graph
    from nudges.calendars import scan
    from nudges.clock import ManualClock
    from nudges.org_sync import sync_org
    from storage.db import make_engine

    settings = Settings(
        config_path=Path(config), database_url=db_url, graph_api_url=url, graph_allow_anonymous=True
    )
    host = OrgHost(load_config(config), make_engine(db_url), ManualClock(NOW))
    calendars_graph.CONCURRENT_MANAGERS = concurrency
    started = time.perf_counter()
    detail: dict[str, Any] = {}
    if kind == "org":
        result = sync_org(host, settings)
        detail = {"people": result.listed, "managers": result.managers}
    elif kind == "scan":
        result = scan(host, settings)
        detail = {"meetings": len(result.found), "managers": result.managers, "failed": result.failed}
    elif kind == "naive-org":
        detail = {"people": graph_module.run(lambda: naive_org(settings))}
    elif kind == "typed-org":
        detail = {"people": graph_module.run(lambda: typed_org(settings))}
    seconds = time.perf_counter() - started
    out.put(
        {"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **detail}
    )
    asyncio.set_event_loop_policy(None)


async def naive_org(settings: Any) -> int:
    """The baseline: list users (no $expand), then ask each one's manager separately."""
    from bot.graph import open_graph

    async with open_graph(settings) as client:
        ids: list[str] = []
        page = await client.users.get()
        while page is not None:
            ids += [u.id for u in page.value or [] if u.id]
            page = await client.users.with_url(page.odata_next_link).get() if page.odata_next_link else None
        for uid in ids:
            with contextlib.suppress(Exception):  # the CEO has no manager (404)
                await client.users.by_user_id(uid).manager.get()
        return len(ids)


async def typed_org(settings: Any) -> int:
    """The same pages as the org sync, built into the SDK's typed User models instead of read as JSON."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    from bot.graph import open_graph
    from nudges.org_sync import PAGE_SIZE, USER_FIELDS

    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        select=USER_FIELDS, expand=["manager($select=id,mail,userPrincipalName)"], top=PAGE_SIZE
    )
    async with open_graph(settings) as client:
        people = 0
        page = await client.users.get(RequestConfiguration(query_parameters=query))
        while page is not None:
            people += len(page.value or [])
            page = await client.users.with_url(page.odata_next_link).get() if page.odata_next_link else None
        return people


def run_phase(kind: str, url: str, db_url: str, config: Path, concurrency: int = 8) -> dict[str, Any]:
    before = counts(url)
    out: Any = mp.Queue()
    process = mp.Process(target=phase, args=(kind, url, db_url, str(config), concurrency, out))
    process.start()
    result = out.get()
    process.join()
    after = counts(url)
    result["requests"] = sum(after.values()) - sum(before.values())
    return result


def migrate(db_url: str) -> None:
    from storage.db import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()


def copy_db(source: Path, target: Path) -> None:
    """A full copy of a SQLite database, WAL included (sqlite3's backup)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def start_fake(managers: int, reports: int, latency: float) -> tuple[str, Any, mp.Process]:
    out, stop = mp.Queue(), mp.Event()
    process = mp.Process(target=serve, args=(managers, reports, latency, out, stop), daemon=True)
    process.start()
    return out.get(timeout=120), stop, process


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="each fake Graph answer's delay")
    parser.add_argument(
        "--baseline", type=int, default=50, help="managers in the one-request-per-person sample"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        config = write_config(folder)
        url, stop, fake = start_fake(args.managers, args.reports, latency)
        try:
            db_url = f"sqlite:///{folder / 'bench.db'}"
            migrate(db_url)
            rows["imports only"] = run_phase("idle", url, db_url, config)
            rows["org sync ($expand=manager, pages of 999)"] = run_phase("org", url, db_url, config)
            # each scan starts from the same stored org chart and no meetings
            for name in ("scan8.db", "scan1.db"):
                copy_db(folder / "bench.db", folder / name)
            rows["calendar scan (8 managers at a time)"] = run_phase(
                "scan", url, f"sqlite:///{folder / 'scan8.db'}", config
            )
            rows["calendar scan, one manager at a time"] = run_phase(
                "scan", url, f"sqlite:///{folder / 'scan1.db'}", config, concurrency=1
            )
        finally:
            stop.set()
            fake.join(timeout=10)
        url, stop, fake = start_fake(args.baseline, args.reports, latency)
        try:
            db_url = f"sqlite:///{folder / 'naive.db'}"
            migrate(db_url)
            rows[f"baseline: a request per person ({args.baseline} managers)"] = run_phase(
                "naive-org", url, db_url, config
            )
            rows[f"baseline: org pages as SDK typed models ({args.baseline} managers)"] = run_phase(
                "typed-org", url, db_url, config
            )
        finally:
            stop.set()
            fake.join(timeout=10)
    people = 1 + args.managers * (1 + args.reports)
    org = rows["org sync ($expand=manager, pages of 999)"]
    naive = rows[f"baseline: a request per person ({args.baseline} managers)"]
    naive_people = 1 + args.baseline * (1 + args.reports)
    naive_full_requests = naive["requests"] / naive_people * people
    naive_full_seconds = naive["seconds"] / naive_people * people
    summary = {
        "managers": args.managers,
        "people": people,
        "latency_ms": args.latency_ms,
        "rows": rows,
        "naive_org_full_requests": round(naive_full_requests),
        "naive_org_full_seconds": round(naive_full_seconds, 1),
    }
    if args.json:
        print(json.dumps(summary))
        return summary
    print(
        f"{args.managers} managers × {args.reports} reports = {people} people; fake Graph answers in "
        f"{args.latency_ms:g} ms; SQLite\n"
    )
    print(f"| {'step':<52} | {'seconds':>8} | {'requests':>8} | {'per manager':>11} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 54}|{'-' * 10}|{'-' * 10}|{'-' * 13}|{'-' * 13}|")
    for name, row in rows.items():
        managers = args.baseline if name.startswith("baseline") else args.managers
        per = row["requests"] / managers if row["requests"] else 0
        cells = f"{row['seconds']:>8.2f} | {row['requests']:>8} | {per:>11.3f} | {row['rss_mb']:>11.0f}"
        print(f"| {name:<52} | {cells} |")
    print(
        f"\nbaseline scaled to {people} people: {naive_full_requests:,.0f} requests, about "
        f"{naive_full_seconds:,.0f} s; the org sync makes {org['requests']} "
        f"({naive_full_requests / max(org['requests'], 1):,.0f}× fewer) in {org['seconds']:.1f} s "
        f"({naive_full_seconds / max(org['seconds'], 0.001):,.1f}× faster)"
    )
    scan_rows = rows["calendar scan (8 managers at a time)"], rows["calendar scan, one manager at a time"]
    print(
        f"calendar scan: {scan_rows[0]['meetings']} 1:1s found; 8 at a time is "
        f"{scan_rows[1]['seconds'] / scan_rows[0]['seconds']:.1f}× faster than one manager at a time"
    )
    return summary


if __name__ == "__main__":
    main()
