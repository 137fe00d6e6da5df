"""1:1 meetings as calendars or a roster last showed them: stored, moved, cancelled, and looked up.

Each occurrence has a stable id ("graph:<event id>", "roster:<manager>:<report>:<date>"), so reading
calendars again updates rows instead of adding them. A scheduled meeting in the window that a scan of
its manager's calendar no longer finds (or finds cancelled or declined) becomes "cancelled"; the
prompt planner reads those rows (storage/meeting_prompts.py) and moves or cancels its prompt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.models import Meeting

SCHEDULED, CANCELLED = "scheduled", "cancelled"


@dataclass(frozen=True)
class FoundMeeting:
    """One 1:1 occurrence as a calendar or the roster shows it now (times in UTC)."""

    id: str
    manager_id: int
    report_id: int
    start_at: dt.datetime
    end_at: dt.datetime | None
    source: str


@dataclass
class MeetingChanges:
    """What one upsert did: new occurrences, moved ones, ones that came back, ones cancelled."""

    added: int = 0
    moved: int = 0
    restored: int = 0
    unchanged: int = 0
    cancelled: int = 0


def upsert_meetings(
    *,
    session: Session,
    found: Sequence[FoundMeeting],
    window: tuple[dt.datetime, dt.datetime],
    now: dt.datetime,
    source: str,
    managers: Iterable[int] | None = None,
) -> MeetingChanges:
    """Store what a scan found in `window` and cancel what it no longer finds there.

    Only meetings of `source` whose manager was read successfully (`managers`; None means all) are
    cancelled, so a manager whose calendar could not be read keeps their meetings as they were.
    """
    changes = MeetingChanges()
    start, end = window
    ids = [m.id for m in found]
    stored: dict[str, Meeting] = {}
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start : chunk_start + 5000]
        stored.update({m.id: m for m in session.exec(select(Meeting).where(col(Meeting.id).in_(chunk)))})
    for meeting in found:
        row = stored.get(meeting.id)
        if row is None:
            row = Meeting(
                id=meeting.id,
                manager_id=meeting.manager_id,
                report_id=meeting.report_id,
                start_at=meeting.start_at,
                end_at=meeting.end_at,
                source=meeting.source,
                status=SCHEDULED,
                seen_at=now,
            )
            stored[meeting.id] = row
            changes.added += 1
        else:
            if row.status != SCHEDULED:
                changes.restored += 1
            elif _utc(row.start_at) != meeting.start_at:
                changes.moved += 1
            else:
                changes.unchanged += 1
            row.start_at, row.end_at, row.status, row.seen_at = (
                meeting.start_at,
                meeting.end_at,
                SCHEDULED,
                now,
            )
            row.manager_id, row.report_id = meeting.manager_id, meeting.report_id
        session.add(row)
    query = select(Meeting).where(
        Meeting.source == source,
        Meeting.status == SCHEDULED,
        col(Meeting.start_at) >= start,
        col(Meeting.start_at) < end,
    )
    scanned = None if managers is None else set(managers)
    seen = set(ids)
    for row in session.exec(query):
        if row.id in seen or (scanned is not None and row.manager_id not in scanned):
            continue
        row.status = CANCELLED
        session.add(row)
        changes.cancelled += 1
    session.flush()
    return changes


def get_meeting(*, session: Session, meeting_id: str) -> Meeting | None:
    return session.get(Meeting, meeting_id)


def meetings_between(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    manager_id: int | None = None,
    status: str | None = SCHEDULED,
) -> list[Meeting]:
    """Meetings starting in [start, end), soonest first (only scheduled ones unless `status` says)."""
    query = select(Meeting).where(col(Meeting.start_at) >= start, col(Meeting.start_at) < end)
    if manager_id is not None:
        query = query.where(Meeting.manager_id == manager_id)
    if status is not None:
        query = query.where(Meeting.status == status)
    return list(session.exec(query.order_by(col(Meeting.start_at), col(Meeting.id))))


def previous_meeting(
    *, session: Session, manager_id: int, report_id: int, before: dt.datetime
) -> Meeting | None:
    """The last scheduled 1:1 of this pair that started before `before`."""
    return session.exec(
        select(Meeting)
        .where(
            Meeting.manager_id == manager_id,
            Meeting.report_id == report_id,
            Meeting.status == SCHEDULED,
            col(Meeting.start_at) < before,
        )
        .order_by(col(Meeting.start_at).desc())
        .limit(1)
    ).first()


def next_meeting(*, session: Session, manager_id: int, report_id: int, after: dt.datetime) -> Meeting | None:
    """The next scheduled 1:1 of this pair starting at or after `after`."""
    return session.exec(
        select(Meeting)
        .where(
            Meeting.manager_id == manager_id,
            Meeting.report_id == report_id,
            Meeting.status == SCHEDULED,
            col(Meeting.start_at) >= after,
        )
        .order_by(col(Meeting.start_at))
        .limit(1)
    ).first()


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
