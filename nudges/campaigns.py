"""Campaigns: an L&D announcement with a pathway invitation, posted to channels now, once later, or on a cron.

Campaigns come from app.yaml (`campaigns:`, mirrored by `sync_from_config`) or from chat
(`announce …`). Their posts are a nudge kind (`nudges.kinds.campaign`: one outbox row per
channel per occurrence); this module holds their schedule (`occurrence`, `next_occurrence`) and
counts clicks and joins per campaign. Input is checked here, where chat and forms create a
campaign (`CampaignError` says what is wrong); admins can pause, resume and delete one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import event, func, update
from sqlmodel import Session, col, delete, select

from bot.config import CAMPAIGN_MESSAGE_LIMIT, CAMPAIGN_TITLE_LIMIT, AppConfig, channel_problem
from bot.ids import slugify
from nudges.clock import as_utc
from storage.models import Campaign, CampaignEvent, OutboxMessage
from storage.outbox import CANCELLED, PENDING, SENT

log = logging.getLogger(__name__)
GRACE = dt.timedelta(hours=1)
CLICK, JOIN = "click", "join"

# Called after a transaction that created or resumed a campaign commits: each running scheduler
# in this process registers one (`NudgeScheduler.start`), so a "now" campaign posts at once.
_listeners: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` after each commit that created or resumed a campaign; returns the unsubscribe."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _after_commit(session: Session) -> None:
    """Tell the listeners once this session's transaction commits (nothing if it rolls back)."""

    def notify(_session: Session) -> None:
        for listener in list(_listeners):
            try:
                listener()
            except Exception:  # noqa: BLE001 - a listener's failure must not fail the committed request
                log.exception("campaign change listener failed")

    if _listeners:
        event.listen(session, "after_commit", notify, once=True)


class CampaignError(ValueError):
    """A campaign that cannot be made or changed as asked; the message says why, for the chat."""


def check(*, title: str, message: str, channels: list[str], platform: str | None = None) -> list[str]:
    """The channels without '#', or `CampaignError` naming the first problem (for `platform`)."""
    if not title.strip() or len(title) > CAMPAIGN_TITLE_LIMIT:
        raise CampaignError(f"a campaign title needs 1 to {CAMPAIGN_TITLE_LIMIT} characters")
    if len(message) > CAMPAIGN_MESSAGE_LIMIT:
        raise CampaignError(
            f"the message is {len(message)} characters long; the limit is {CAMPAIGN_MESSAGE_LIMIT}"
        )
    names = [name.strip().lstrip("#") for name in channels]
    if not names:
        raise CampaignError("name at least one channel")
    for name in names:
        if problem := channel_problem(name, platform):
            raise CampaignError(problem)
    return names


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
        row.source, row.active = "config", True  # `paused` stays as an admin left it
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
    """A campaign made in chat; its id is the title's slug plus the creation time.

    Raises `CampaignError` for a bad title, message or channel, ValueError for a bad schedule.
    """
    channels = check(title=title, message=message, channels=channels, platform=platform)
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
    _after_commit(session)
    return campaign


def _running(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not campaign.active:
        raise CampaignError(f"there is no campaign called {campaign_id!r}; type `campaigns` for the list")
    return campaign


def _cancel_posts(session: Session, campaign_id: str, why: str) -> int:
    """Cancel the campaign's posts not sent yet; returns how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.idempotency_key).like(f"campaign:{campaign_id}:%"),
            col(OutboxMessage.status) == PENDING,
        )
        .values(status=CANCELLED, last_error=why)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pause(*, session: Session, campaign_id: str) -> tuple[Campaign, int]:
    """Stop posting until `resume`; posts waiting are cancelled (returned: the campaign and how many)."""
    campaign = _running(session, campaign_id)
    campaign.paused = True
    session.add(campaign)
    return campaign, _cancel_posts(session, campaign.id, "cancelled: the campaign was paused")


def resume(*, session: Session, campaign_id: str) -> Campaign:
    """Post again from the next occurrence (a one-off whose moment has passed stays unposted)."""
    campaign = _running(session, campaign_id)
    campaign.paused = False
    session.add(campaign)
    _after_commit(session)
    return campaign


def remove(*, session: Session, campaign_id: str) -> int:
    """Delete a campaign made in chat, its counts and its posts not sent yet; returns how many were cancelled.

    A campaign from app.yaml is deleted by removing it there (`learnbot index`); here it can be paused.
    """
    campaign = _running(session, campaign_id)
    if campaign.source == "config":
        raise CampaignError(
            f"{campaign.id!r} comes from app.yaml: remove it there (or pause it here until then)"
        )
    cancelled = _cancel_posts(session, campaign.id, "cancelled: the campaign was deleted")
    session.exec(delete(CampaignEvent).where(col(CampaignEvent.campaign_id) == campaign.id))  # type: ignore[call-overload]
    session.delete(campaign)
    session.flush()
    return cancelled


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
                next_occurrence(campaign, now) if campaign.active and not campaign.paused else None,
            )
        )
    return out
