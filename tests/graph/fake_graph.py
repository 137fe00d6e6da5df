"""A local fake Microsoft Graph: users (with $expand=manager), calendarView, paging, throttling, refusals.

Shapes follow Microsoft's Graph v1.0 documentation: collections are {"value": [...]} pages linked by an
absolute "@odata.nextLink"; events carry start/end {dateTime, timeZone}, organizer, attendees with
status.response, type ("singleInstance" | "occurrence" | "exception"), seriesMasterId, isCancelled,
isAllDay; errors are {"error": {"code", "message"}}. The test gives the data (users, managers,
calendars) and the faults; the server counts requests per path so tests can bound them.

Other Graph areas (SharePoint drives and pages) plug in through `routes`: a regex on the path and a
function `(FakeGraph, match, query) -> Reply`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

UTC = dt.UTC
Reply = tuple[int, dict[str, str], Any]  # status, headers, JSON body (None for no body)
Route = Callable[["FakeGraph", "re.Match[str]", dict[str, str]], Reply]


def graph_time(when: dt.datetime) -> str:
    """Graph's dateTimeTimeZone.dateTime: local time without offset, seven fractional digits."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")


def user(uid: str, name: str, email: str, *, department: str | None = None, enabled: bool = True) -> dict:
    """A microsoft.graph.user as /users returns it."""
    return {
        "id": uid,
        "displayName": name,
        "mail": email,
        "userPrincipalName": email,
        "department": department,
        "jobTitle": None,
        "accountEnabled": enabled,
    }


def person(name: str, email: str) -> dict:
    return {"name": name, "address": email}


def event(
    eid: str,
    *,
    start: dt.datetime,
    minutes: int = 30,
    organizer: dict,
    attendees: list[dict],
    subject: str = "1:1",
    kind: str = "singleInstance",
    series: str | None = None,
    cancelled: bool = False,
    all_day: bool = False,
    my_response: str = "organizer",
) -> dict:
    """A microsoft.graph.event in UTC. `attendees`: `attendee(...)` dicts; `my_response`: the calendar
    owner's own response (responseStatus)."""
    end = start + dt.timedelta(days=1) if all_day else start + dt.timedelta(minutes=minutes)
    return {
        "@odata.etag": f'W/"{eid}"',
        "id": eid,
        "subject": subject,
        "type": kind,
        "seriesMasterId": series,
        "isCancelled": cancelled,
        "isAllDay": all_day,
        "showAs": "busy",
        "start": {"dateTime": graph_time(start), "timeZone": "UTC"},
        "end": {"dateTime": graph_time(end), "timeZone": "UTC"},
        "organizer": {"emailAddress": organizer},
        "attendees": attendees,
        "responseStatus": {"response": my_response, "time": "0001-01-01T00:00:00Z"},
    }


def attendee(who: dict, response: str = "accepted", kind: str = "required") -> dict:
    return {
        "type": kind,
        "status": {"response": response, "time": "2026-11-20T10:00:00Z"},
        "emailAddress": who,
    }


def weekly(
    series: str, *, first: dt.datetime, weeks: int, organizer: dict, attendees: list[dict], minutes: int = 30
) -> list[dict]:
    """The occurrences of a weekly recurring series, as calendarView expands it."""
    return [
        event(
            f"{series}-occ-{n}",
            start=first + dt.timedelta(weeks=n),
            minutes=minutes,
            organizer=organizer,
            attendees=attendees,
            kind="occurrence",
            series=series,
        )
        for n in range(weeks)
    ]


@dataclass
class Fault:
    """Answer the next `times` requests whose path matches `path` with this status (and Retry-After)."""

    path: str
    status: int
    times: int = 1
    retry_after: int | None = None
    code: str = "TooManyRequests"


@dataclass
class FakeGraph:
    """The data and the faults a test gives; start() serves it at `url` (…/v1.0)."""

    users: list[dict] = field(default_factory=list)
    managers: dict[str, str] = field(default_factory=dict)  # user id -> manager's user id
    calendars: dict[str, list[dict]] = field(default_factory=dict)  # user id -> events
    forbidden: set[str] = field(default_factory=set)  # user ids whose calendar answers 403
    faults: list[Fault] = field(default_factory=list)
    page_size: int = 100  # the largest page the server returns, whatever $top asks for
    latency: float = 0.0  # seconds each answer takes (a network round trip, for benchmarks)
    routes: list[tuple[re.Pattern[str], Route]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # requests per path (ids kept)
    requests: list[str] = field(default_factory=list)  # every path?query received, in order
    auth_headers: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ── serving ──────────────────────────────────────────────────────────────────────────────────
    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1.0"

    def start(self) -> FakeGraph:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if graph.latency:
                    time.sleep(graph.latency)
                status, headers, body = graph.handle(self.path, self.headers.get("Authorization"))
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json; odata.metadata=minimal")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-graph", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def total(self, prefix: str = "") -> int:
        """Requests whose path starts with `prefix` (all of them by default)."""
        with self._lock:
            return sum(n for path, n in self.counts.items() if path.startswith(prefix))

    # ── routing ──────────────────────────────────────────────────────────────────────────────────
    def handle(self, raw: str, authorization: str | None) -> Reply:
        parts = urlsplit(raw)
        path = parts.path.removeprefix("/v1.0")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        with self._lock:
            self.counts[path] += 1
            self.requests.append(raw)
            self.auth_headers.append(authorization)
            for fault in self.faults:
                if fault.times > 0 and re.fullmatch(fault.path, path):
                    fault.times -= 1
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    return fault.status, headers, _error(fault.code, f"fake {fault.status}")
        for pattern, route in self.routes:
            if match := pattern.fullmatch(path):
                return route(self, match, query)
        if path == "/users":
            return self._users(query)
        if match := re.fullmatch(r"/users/([^/]+)/calendarView", path):
            return self._calendar_view(match.group(1), query)
        if match := re.fullmatch(r"/users/([^/]+)/manager", path):
            return self._manager(match.group(1))
        return 404, {}, _error("ResourceNotFound", f"no route for {path}")

    def _page(self, path: str, query: dict[str, str], items: list[dict]) -> Reply:
        size = min(int(query.get("$top", self.page_size)), self.page_size)
        skip = int(query.get("$skiptoken", "0"))
        body: dict[str, Any] = {"value": items[skip : skip + size]}
        if skip + size < len(items):
            follow = {k: v for k, v in query.items() if k != "$skiptoken"} | {"$skiptoken": str(skip + size)}
            body["@odata.nextLink"] = f"{self.url}{path}?{urlencode(follow, quote_via=quote, safe='$(),=')}"
        return 200, {}, body

    def _users(self, query: dict[str, str]) -> Reply:
        by_id = {u["id"]: u for u in self.users}
        expand = "manager" in query.get("$expand", "")
        out = []
        for u in self.users:
            row = dict(u)
            if expand:
                boss = by_id.get(self.managers.get(u["id"], ""))
                if boss is not None:
                    row["manager"] = {"@odata.type": "#microsoft.graph.user"} | {
                        k: boss[k] for k in ("id", "displayName", "mail", "userPrincipalName")
                    }
            out.append(row)
        return self._page("/users", query, out)

    def _find(self, key: str) -> dict | None:
        key = key.lower()
        return next((u for u in self.users if key in (u["id"].lower(), (u.get("mail") or "").lower())), None)

    def _manager(self, uid: str) -> Reply:
        found = self._find(uid)
        boss = self._find(self.managers.get(found["id"], "")) if found else None
        if boss is None:
            return 404, {}, _error("Request_ResourceNotFound", "no manager")
        return 200, {}, {"@odata.type": "#microsoft.graph.user"} | boss

    def _calendar_view(self, uid: str, query: dict[str, str]) -> Reply:
        found = self._find(uid)
        if found is None:
            return 404, {}, _error("ErrorInvalidUser", f"the requested user {uid!r} is invalid")
        if found["id"] in self.forbidden:
            return 403, {}, _error("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        try:
            start = _parse(query["startDateTime"])
            end = _parse(query["endDateTime"])
        except KeyError:
            return 400, {}, _error("ErrorInvalidParameter", "startDateTime and endDateTime are required")
        events = [
            e
            for e in self.calendars.get(found["id"], [])
            if _parse(e["start"]["dateTime"]) < end and _parse(e["end"]["dateTime"]) > start
        ]
        events.sort(key=lambda e: (e["start"]["dateTime"], e["id"]))
        return self._page(f"/users/{uid}/calendarView", query, events)


def _parse(text: str) -> dt.datetime:
    """An ISO time from a query or an event; Graph's seven fractional digits are cut to Python's six."""
    value = dt.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00")))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": "fake"}}}


def serving(graph: FakeGraph) -> Iterator[FakeGraph]:
    """For a pytest fixture: `yield from serving(FakeGraph(...))`."""
    graph.start()
    try:
        yield graph
    finally:
        graph.stop()
