"""1:1s from Outlook calendars through Microsoft Graph (`GET /users/{id}/calendarView`, every page).

A 1:1 is an event whose people (organiser and attendees, rooms left out) are exactly the manager and
one of their direct reports, either of them organising; occurrences of recurring series count one by
one. Cancelled events, all-day events and events either person declined are left out. Calendars are
read a few managers at a time; one manager's failure (a 403, a timeout) is noted and the others are
still read. 429 and 503 are retried by the SDK's retry middleware (bot.graph) before they count.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import (
    CalendarViewRequestBuilder,
)

from bot import graph
from bot.config import Settings
from nudges.calendars.managers import ManagerCalendar
from storage.meetings import FoundMeeting

CONCURRENT_MANAGERS = 8
PAGE_SIZE = 100
FIELDS = [
    "subject",
    "start",
    "end",
    "type",
    "seriesMasterId",
    "isCancelled",
    "isAllDay",
    "organizer",
    "attendees",
    "responseStatus",
]
PERMISSION = "Calendars.Read"


@dataclass
class CalendarRead:
    """What reading every manager's calendar gave: the 1:1s, whose calendars were read, what failed."""

    found: list[FoundMeeting] = field(default_factory=list)
    managers_read: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    requests: int = 0


def read(
    settings: Settings, calendars: Sequence[ManagerCalendar], window: tuple[dt.datetime, dt.datetime]
) -> CalendarRead:
    """Every manager's 1:1s in `window`, through the real Graph client."""

    async def work() -> CalendarRead:
        async with graph.open_graph(settings) as client:
            return await read_with(client, calendars, window)

    return graph.run(work)


async def read_with(
    client: GraphServiceClient,
    calendars: Sequence[ManagerCalendar],
    window: tuple[dt.datetime, dt.datetime],
    *,
    concurrency: int = CONCURRENT_MANAGERS,
) -> CalendarRead:
    result = CalendarRead()
    gate = asyncio.Semaphore(concurrency)
    failures: dict[str, list[tuple[str, BaseException]]] = defaultdict(list)

    async def one(calendar: ManagerCalendar) -> None:
        async with gate:
            try:
                found, requests = await _manager_meetings(client, calendar, window)
            except Exception as exc:  # one manager's failure never stops the others
                failures[_kind(exc)].append((calendar.email, exc))
                return
        result.found += found
        result.requests += requests
        result.managers_read.add(calendar.manager_id)

    await asyncio.gather(*(one(calendar) for calendar in calendars))
    for _, failed in sorted(failures.items()):
        emails = sorted(email for email, _ in failed)
        shown = ", ".join(emails[:5]) + (f" and {len(emails) - 5} more" if len(emails) > 5 else "")
        reading = f"the calendars of {len(emails)} manager(s) ({shown})"
        result.problems.append(graph.problem(failed[0][1], reading=reading, permission=PERMISSION))
    result.found.sort(key=lambda m: (m.start_at, m.id))
    return result


def _kind(exc: BaseException) -> str:
    status = graph.status_of(exc)
    return f"http-{status}" if status is not None else type(exc).__name__


async def _manager_meetings(
    client: GraphServiceClient, calendar: ManagerCalendar, window: tuple[dt.datetime, dt.datetime]
) -> tuple[list[FoundMeeting], int]:
    builder = client.users.by_user_id(calendar.graph_id or calendar.email).calendar_view
    query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
        start_date_time=_stamp(window[0]), end_date_time=_stamp(window[1]), select=FIELDS, top=PAGE_SIZE
    )
    config: RequestConfiguration[Any] = RequestConfiguration(query_parameters=query)
    config.headers.add("Prefer", 'outlook.timezone="UTC"')
    page: dict[str, Any] | None = await graph.get_json(client, builder, config)
    requests = 1
    found: list[FoundMeeting] = []
    while page is not None:
        for event in page.get("value") or []:
            meeting = one_on_one(event, calendar)
            if meeting is not None and window[0] <= meeting.start_at < window[1]:
                found.append(meeting)
        link = page.get("@odata.nextLink")
        if not link:
            break
        following: RequestConfiguration[Any] = RequestConfiguration()
        following.headers.add("Prefer", 'outlook.timezone="UTC"')
        page = await graph.get_json(client, builder.with_url(link), following)
        requests += 1
    return found, requests


def one_on_one(event: dict[str, Any], calendar: ManagerCalendar) -> FoundMeeting | None:
    """The 1:1 this Graph event (JSON) is: the manager and exactly one direct report, nobody declined."""
    if event.get("isCancelled") or event.get("isAllDay") or not event.get("id"):
        return None
    if _response(event.get("responseStatus")) == "declined":  # the manager's own answer, in their calendar
        return None
    people = {_address(event.get("organizer"))} - {""}
    declined = False
    for attendee in event.get("attendees") or []:
        if attendee.get("type") == "resource":
            continue  # a meeting room is not a person
        if address := _address(attendee):
            people.add(address)
            declined = declined or _response(attendee.get("status")) == "declined"
    report_ids = {calendar.reports[a] for a in people if a in calendar.reports}
    has_manager = any(a in calendar.addresses for a in people)
    others = [a for a in people if a not in calendar.addresses and a not in calendar.reports]
    if not has_manager or len(report_ids) != 1 or others or declined:
        return None
    start, end = _when(event.get("start")), _when(event.get("end"))
    if start is None:
        return None
    return FoundMeeting(
        id=f"graph:{event['id']}",
        manager_id=calendar.manager_id,
        report_id=report_ids.pop(),
        start_at=start,
        end_at=end,
        source="graph",
    )


def _address(holder: Any) -> str:
    email = (holder or {}).get("emailAddress") or {}
    return str(email.get("address") or "").strip().lower()


def _response(status: Any) -> str:
    return str((status or {}).get("response") or "")


# Outlook names zones the Windows way when a calendar answers in the mailbox's own zone (no Prefer header
# honoured): the common ones, to IANA names.
WINDOWS_ZONES = {
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kyiv",
    "GTB Standard Time": "Europe/Bucharest",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Kolkata",
    "SE Asia Standard Time": "Asia/Bangkok",
    "Singapore Standard Time": "Asia/Singapore",
    "China Standard Time": "Asia/Shanghai",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "E. Australia Standard Time": "Australia/Brisbane",
    "W. Australia Standard Time": "Australia/Perth",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Coordinated Universal Time": "UTC",
}


def _when(stamp: Any) -> dt.datetime | None:
    """A Graph dateTimeTimeZone (UTC when asked with Prefer: outlook.timezone) as an aware UTC time."""
    text = (stamp or {}).get("dateTime")
    if not text:
        return None
    moment = dt.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", str(text).replace("Z", "+00:00")))
    if moment.tzinfo is None:
        zone_name = str((stamp or {}).get("timeZone") or "UTC")
        try:
            zone: dt.tzinfo = ZoneInfo(WINDOWS_ZONES.get(zone_name, zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            zone = dt.UTC  # a zone we cannot name: we asked for UTC, so Graph gave UTC
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
