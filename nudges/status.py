"""What `nudges status` shows, on the command line and to an admin in chat: one summary, two renderings.

The outbox counts (queued, deferred, sending, sent, failed, cancelled), what is due next, recent
failures, when the planner sends next, campaigns' next posts, and how many people have a nudge
waiting that no platform with a sender can deliver (they get it once they contact learnbot).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.config import AppConfig
from nudges import campaigns
from nudges.clock import as_utc
from nudges.outbox import row_ref
from nudges.scheduler import preview
from storage.models import OutboxMessage
from storage.outbox import next_due, recent_failures, status_counts


@dataclass(frozen=True)
class NudgeStatus:
    """The outbox and the planner at one moment."""

    at: dt.datetime
    counts: dict[str, int]
    unreachable: int
    next_rows: list[OutboxMessage]
    failures: list[OutboxMessage]
    next_planned: dt.datetime | None
    campaigns: list[campaigns.CampaignStats]

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), **self.counts, "unreachable": self.unreachable}


def summary(
    *,
    session: Session,
    config: AppConfig,
    now: dt.datetime,
    senders: Mapping[str, Any] | None,
    limit: int = 5,
) -> NudgeStatus:
    """The status at `now`; `senders` (platform → sender) decide who counts as reachable (None: anyone)."""
    planned = preview(session, config, now, senders)
    return NudgeStatus(
        at=now,
        counts=status_counts(session=session, now=now),
        unreachable=planned.unreachable,
        next_rows=next_due(session=session, limit=limit),
        failures=recent_failures(session=session, limit=limit),
        next_planned=planned.next_wake,
        campaigns=campaigns.stats(session=session, now=now),
    )


def where(row: OutboxMessage) -> str:
    """`platform:user` for a direct message, `platform:#channel` for a post."""
    to = row_ref(row)
    return f"{row.platform}:{to.user_id}" if to.user_id else f"{row.platform}:#{to.channel_id}"


def lines(status: NudgeStatus) -> list[str]:
    """The status as plain lines (the CLI prints them; an admin reply can quote them)."""
    out = [f"outbox at {status.at:%Y-%m-%d %H:%M} UTC"]
    out += [f"  {name:<12}{count:>8}" for name, count in status.counts.items()]
    waiting = "people with a nudge waiting and no way to reach them yet"
    out.append(f"  {'unreachable':<12}{status.unreachable:>8}  {waiting}")
    out.append("next due:")
    for row in status.next_rows:
        when = f"{as_utc(row.due_at):%Y-%m-%d %H:%M} UTC"
        out.append(f"  {when}  {row.kind:<10} {where(row)}  (attempts {row.attempts})")
    if not status.next_rows:
        out.append("  nothing queued")
    if status.next_planned:
        out.append(f"next nudge the planner will send: {status.next_planned:%Y-%m-%d %H:%M} UTC")
    for stat in status.campaigns:
        if stat.next_at:
            out.append(f"next post of campaign {stat.campaign.id}: {stat.next_at:%Y-%m-%d %H:%M} UTC")
    if status.failures:
        out.append("recent failures:")
        out += [f"  {row.idempotency_key}: {row.last_error}" for row in status.failures]
    return out
