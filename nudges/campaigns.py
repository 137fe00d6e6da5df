"""Campaigns: an L&D announcement with a pathway invitation, posted to channels now, once later, or on a cron.

Campaigns come from app.yaml (`campaigns:`, mirrored by `sync_from_config`) or from chat
(`announce …`). Their posts are a nudge kind (`nudges.kinds.campaign`: one outbox row per
channel per occurrence); this module holds their schedule (`occurrence`, `next_occurrence`) and
counts clicks and joins per campaign.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.config import AppConfig
from bot.ids import slugify
from nudges.clock import as_utc
from storage.models import Campaign, CampaignEvent, OutboxMessage
from storage.outbox import SENT

GRACE = dt.timedelta(hours=1)
CLICK, JOIN = "click", "join"


def trigger(campaign: Campaign) -> CronTrigger | None:
    """The campaign's cron as an APScheduler trigger in its time zone (None for one-off campaigns)."""
    if not campaign.cron:
        return None
    return CronTrigger.from_crontab(campaign.cron, timezone=ZoneInfo(campaign.timezone))


def sync_from_config(*, session: Session, config: AppConfig) -> None:
    """Make app.yaml's campaigns the stored ones; campaigns removed from app.yaml stop."""
    configured = set()
    for entry in config.campaigns:
        configured.add(entry.id)
        zone = entry.timezone or config.nudges.default_timezone
        row = session.get(Campaign, entry.id) or Campaign(id=entry.id, title=entry.title)
        row.title, row.message, row.pathway_id = entry.title, entry.message, entry.pathway
        row.platform, row.channels, row.cron, row.timezone = entry.platform, entry.channels, entry.cron, zone
        at = entry.at
        row.send_at = None if at is None else as_utc(at if at.tzinfo else at.replace(tzinfo=ZoneInfo(zone)))
        row.source, row.active = "config", True
        session.add(row)
    for row in session.exec(select(Campaign).where(Campaign.source == "config")):
        if row.id not in configured and row.active:
            row.active = False
            session.add(row)


def create(
    *,
    session: Session,
    title: str,
    message: str,
    pathway_id: str | None,
    channels: list[str],
    platform: str,
    created_by: str,
    now: dt.datetime,
    cron: str | None = None,
    send_at: dt.datetime | None = None,
    timezone: str = "UTC",
) -> Campaign:
    """A campaign made in chat; its id is the title's slug plus the creation time."""
    if cron:
        CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))  # raises ValueError with the reason
    base = slugify(title)[:60] or "campaign"
    campaign = Campaign(
        id=f"{base}-{now:%Y%m%d%H%M%S}",
        title=title,
        message=message,
        pathway_id=pathway_id,
        platform=platform,
        channels=channels,
        cron=cron,
        timezone=timezone,
        send_at=send_at,
        source="chat",
        created_by=created_by,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    return campaign


def occurrence(campaign: Campaign, now: dt.datetime, grace: dt.timedelta = GRACE) -> dt.datetime | None:
    """The campaign's latest due moment within the grace period before `now`, if any."""
    now = as_utc(now)
    cron = trigger(campaign)
    if cron is None:
        when = as_utc(campaign.send_at or campaign.created_at)
        return when if now - grace <= when <= now or (campaign.send_at is None and when <= now) else None
    latest, moment = None, cron.get_next_fire_time(None, now - grace)
    while moment is not None and moment <= now:
        latest = moment
        moment = cron.get_next_fire_time(moment, moment + dt.timedelta(seconds=1))
    return None if latest is None else as_utc(latest)


def next_occurrence(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """When the campaign posts next, after `now` (None when it will not post again)."""
    cron = trigger(campaign)
    if cron is None:
        when = campaign.send_at
        return as_utc(when) if when is not None and as_utc(when) > as_utc(now) else None
    moment = cron.get_next_fire_time(None, as_utc(now) + dt.timedelta(seconds=1))
    return None if moment is None else as_utc(moment)


def record(
    *,
    session: Session,
    campaign_id: str,
    kind: str,
    user_id: int | None,
    channel_id: str | None,
    now: dt.datetime,
) -> bool:
    """Count a click or a join on a campaign; False when the campaign is unknown."""
    if session.get(Campaign, campaign_id) is None:
        return False
    session.add(
        CampaignEvent(campaign_id=campaign_id, kind=kind, user_id=user_id, channel_id=channel_id, at=now)
    )
    return True


@dataclass(frozen=True)
class CampaignStats:
    """One campaign's numbers: posts delivered and waiting, clicks, joins; and when it posts next."""

    campaign: Campaign
    posted: int
    waiting: int
    clicks: int
    joins: int
    next_at: dt.datetime | None


def stats(*, session: Session, now: dt.datetime) -> list[CampaignStats]:
    """Every campaign with its counts, newest first."""
    events: dict[tuple[str, str], int] = {}
    for campaign_id, kind, count in session.exec(
        select(CampaignEvent.campaign_id, CampaignEvent.kind, func.count()).group_by(
            col(CampaignEvent.campaign_id), col(CampaignEvent.kind)
        )
    ):
        events[(campaign_id, kind)] = int(count)
    out = []
    for campaign in session.exec(select(Campaign).order_by(col(Campaign.created_at).desc())):
        prefix = f"campaign:{campaign.id}:%"
        posts = dict(
            session.exec(
                select(OutboxMessage.status, func.count())
                .where(col(OutboxMessage.idempotency_key).like(prefix))
                .group_by(col(OutboxMessage.status))
            ).all()
        )
        waiting = sum(int(n) for status, n in posts.items() if status in ("pending", "sending"))
        out.append(
            CampaignStats(
                campaign,
                int(posts.get(SENT, 0)),
                waiting,
                events.get((campaign.id, CLICK), 0) + events.get((campaign.id, JOIN), 0),
                events.get((campaign.id, JOIN), 0),
                next_occurrence(campaign, now) if campaign.active else None,
            )
        )
    return out
