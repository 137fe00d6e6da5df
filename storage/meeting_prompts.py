"""The manager's 1:1 prompts: upcoming meetings with their prompt state, the previous 1:1 of each pair,
and the queued prompt of a moved or cancelled meeting taken back out of the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.db import insert_ignore
from storage.models import Meeting, MeetingPrompt, OutboxMessage, Person

QUEUED, NOTHING_NEW, CANCELLED = "queued", "nothing_new", "cancelled"
SENT = "sent"  # the meeting was cancelled after its prompt had gone out
SCHEDULED = "scheduled"


@dataclass(frozen=True)
class Upcoming:
    """A 1:1 still to come, its two people, and the prompt decided for it so far (if any)."""

    meeting: Meeting
    manager: Person
    report: Person
    prompt: MeetingPrompt | None


def upcoming_meetings(*, session: Session, after: dt.datetime, until: dt.datetime) -> list[Upcoming]:
    """Every meeting starting in (after, until], scheduled or cancelled, with both people and its prompt;
    and any whose prompt was planned for a start after `after` (moved out of the window since)."""
    manager, report = aliased(Person), aliased(Person)
    query = (
        select(Meeting, manager, report, MeetingPrompt)
        .join(manager, col(manager.id) == col(Meeting.manager_id))
        .join(report, col(report.id) == col(Meeting.report_id))
        .outerjoin(MeetingPrompt, col(MeetingPrompt.meeting_id) == col(Meeting.id))
        .where(
            or_(
                and_(col(Meeting.start_at) > after, col(Meeting.start_at) <= until),
                col(MeetingPrompt.start_at) > after,
            )
        )
        .order_by(col(Meeting.start_at), col(Meeting.id))
    )
    return [Upcoming(m, a, b, p) for m, a, b, p in session.exec(query)]


@dataclass(frozen=True)
class Previous:
    """The pair's last 1:1 before a meeting, and when its prompt was composed (None: it had none)."""

    start: dt.datetime
    prompted_at: dt.datetime | None

    @property
    def news_since(self) -> dt.datetime:
        """What counts as new for the next prompt: anything after the last one was composed (so
        what is shared between a prompt and its meeting is not lost), else after the meeting."""
        return self.prompted_at or self.start


def previous_meetings(
    *, session: Session, meetings: Sequence[Meeting], since: dt.datetime
) -> dict[str, Previous | None]:
    """For each meeting, the same manager and report's last scheduled 1:1 before it (after `since`)."""
    reports = sorted({m.report_id for m in meetings})
    earlier: dict[tuple[int, int], list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for start in range(0, len(reports), 5000):
        chunk = reports[start : start + 5000]
        query = (
            select(Meeting.manager_id, Meeting.report_id, Meeting.start_at, MeetingPrompt.decided_at)
            .outerjoin(MeetingPrompt, col(MeetingPrompt.meeting_id) == col(Meeting.id))
            .where(
                col(Meeting.report_id).in_(chunk), Meeting.status == SCHEDULED, col(Meeting.start_at) > since
            )
        )
        for manager_id, report_id, start_at, decided in session.exec(query):
            earlier.setdefault((manager_id, report_id), []).append(
                (_utc(start_at), None if decided is None else _utc(decided))
            )
    out: dict[str, Previous | None] = {}
    for meeting in meetings:
        pair = earlier.get((meeting.manager_id, meeting.report_id), [])
        before = [(s, d) for s, d in pair if s < _utc(meeting.start_at)]
        out[meeting.id] = Previous(*max(before, key=lambda b: b[0])) if before else None
    return out


def next_unprompted(
    *, session: Session, manager_id: int, report_id: int, after: dt.datetime
) -> Meeting | None:
    """The pair's next scheduled 1:1 whose prompt is still to be composed."""
    query = (
        select(Meeting)
        .outerjoin(MeetingPrompt, col(MeetingPrompt.meeting_id) == col(Meeting.id))
        .where(
            Meeting.manager_id == manager_id,
            Meeting.report_id == report_id,
            Meeting.status == SCHEDULED,
            col(Meeting.start_at) > after,
            col(MeetingPrompt.meeting_id).is_(None),
        )
        .order_by(col(Meeting.start_at))
        .limit(1)
    )
    return session.exec(query).first()


def record_prompts(*, session: Session, rows: Sequence[dict[str, object]]) -> int:
    """Store decided prompts (meeting_id, start_at, outbox_key, outcome, decided_at); a meeting already
    decided by another planner keeps its decision."""
    return insert_ignore(session, MeetingPrompt, list(rows), ["meeting_id"])


def forget_prompts(*, session: Session, meeting_ids: Iterable[str]) -> None:
    """Drop decisions so these meetings are planned again (they moved, or came back after a cancel)."""
    ids = sorted(set(meeting_ids))
    if ids:
        session.execute(delete(MeetingPrompt).where(col(MeetingPrompt.meeting_id).in_(ids)))


def set_outcome(
    *, session: Session, meeting_ids: Iterable[str], outcome: str, start_at: dt.datetime | None = None
) -> None:
    ids = sorted(set(meeting_ids))
    if not ids:
        return
    values: dict[str, object] = {"outcome": outcome}
    if start_at is not None:
        values["start_at"] = start_at
    session.execute(
        update(MeetingPrompt)
        .where(col(MeetingPrompt.meeting_id).in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def take_back(*, session: Session, keys: Iterable[str], reason: str) -> set[str]:
    """Cancel these queued prompts if they have not gone out yet; returns the keys that were cancelled.

    A prompt already claimed or sent stays as it is (that occurrence has had its prompt).
    """
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    pending = set(
        session.exec(
            select(OutboxMessage.idempotency_key).where(
                col(OutboxMessage.idempotency_key).in_(wanted), OutboxMessage.status == "pending"
            )
        )
    )
    if pending:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.idempotency_key).in_(sorted(pending)), OutboxMessage.status == "pending")
            .values(status="cancelled", last_error=f"cancelled: {reason}"[:2000])
            .execution_options(synchronize_session=False)
        )
    missing = set(wanted) - set(
        session.exec(
            select(OutboxMessage.idempotency_key).where(col(OutboxMessage.idempotency_key).in_(wanted))
        )
    )
    return pending | missing  # never enqueued (the manager could not be reached): nothing went out either


def respond(*, session: Session, meeting: Meeting, response: str, now: dt.datetime) -> Meeting:
    """The manager's answer to the prompt: 'discussed' or 'not_this_time' (answering again changes it)."""
    meeting.response, meeting.responded_at = response, now
    session.add(meeting)
    return meeting


def responses(*, session: Session, since: dt.datetime | None = None) -> dict[str, int]:
    """How managers answered prompts (for the analytics numbers): count per response."""
    query = select(Meeting.response, func.count()).where(col(Meeting.response).is_not(None))
    if since is not None:
        query = query.where(col(Meeting.responded_at) >= since)
    return {str(r): int(n) for r, n in session.exec(query.group_by(col(Meeting.response)))}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
