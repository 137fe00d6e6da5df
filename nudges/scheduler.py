"""Ticks: plan, fire campaigns, dispatch; once (`learnbot tick --at …`) or by APScheduler in every process.

Each process runs its own in-memory `BackgroundScheduler` (the job store is never shared):
a planner tick, a dispatcher tick and one cron job per campaign. All of them write to or
claim from the database outbox, which is the one record of what must be sent; idempotency
keys and row leases make running them in several processes at once safe.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, col, select

from bot.app import LearnBot
from nudges import campaigns
from nudges.clock import ManualClock, as_utc
from nudges.outbox import Dispatcher, DispatchResult, Sender
from nudges.planner import PlanResult, plan
from storage.events import prune_processed_events
from storage.models import Campaign
from storage.outbox import next_due

log = logging.getLogger(__name__)

PLANNER_SECONDS = 60
HOUSEKEEPING_HOURS = 6
EVENT_IDS_KEPT = dt.timedelta(days=7)
DISPATCH_SECONDS = 2
MISFIRE_GRACE_SECONDS = 30


@dataclass
class TickResult:
    """One tick: what the planner did, how many campaign posts were enqueued, what was delivered."""

    at: dt.datetime
    plan: PlanResult
    campaign_posts: int
    dispatch: DispatchResult = field(default_factory=DispatchResult)

    @property
    def next_wake(self) -> dt.datetime | None:
        return self.plan.next_wake


def plan_tick(bot: LearnBot) -> tuple[PlanResult, int]:
    """Plan nudges and fire due campaigns at the bot's clock time, in one transaction."""
    now = bot.clock.now()
    with bot.session() as session:
        result = plan(session=session, config=bot.config, now=now)
        posts = campaigns.fire_due(session=session, config=bot.config, now=now)
    log.info(
        "planned at %s: %d steps, %d follow-ups, %d campaign posts",
        now,
        result.steps,
        result.follow_ups,
        posts,
    )
    return result, posts


def run_tick(bot: LearnBot, senders: Mapping[str, Sender], *, at: dt.datetime | None = None) -> TickResult:
    """One planner pass and dispatcher passes until nothing is due, as if it were `at` (default: now)."""
    if at is not None:
        if not isinstance(bot.clock, ManualClock):
            bot.clock = ManualClock(at)
        else:
            bot.clock.set(at)
    planned, posts = plan_tick(bot)
    dispatcher = Dispatcher(bot.engine, senders, bot.clock)
    try:
        delivered = dispatcher.drain()
    finally:
        dispatcher.close()
    return TickResult(bot.clock.now(), planned, posts, delivered)


def deliver_now(bot: LearnBot, senders: Mapping[str, Sender]) -> DispatchResult:
    """Post due campaigns and deliver whatever is due, without planning nudges (console, after each line)."""
    with bot.session() as session:
        campaigns.fire_due(session=session, config=bot.config, now=bot.clock.now())
    dispatcher = Dispatcher(bot.engine, senders, bot.clock, workers=1)
    try:
        return dispatcher.drain()
    finally:
        dispatcher.close()


def advance_to(
    bot: LearnBot, senders: Mapping[str, Sender], target: dt.datetime, *, max_ticks: int = 500
) -> list[TickResult]:
    """Move the (manual) clock to `target`, ticking now and at every moment something falls due on the way."""
    results = [run_tick(bot, senders)]  # whatever is due before the clock moves goes out at its time
    for _ in range(max_ticks):
        wake = next_wake(bot, bot.clock.now())
        if wake is None or wake > target:
            break
        results.append(run_tick(bot, senders, at=wake))
    if bot.clock.now() < target:
        results.append(run_tick(bot, senders, at=target))
    return results


def next_wake(bot: LearnBot, after: dt.datetime) -> dt.datetime | None:
    """The next moment anything is due: a planned nudge, a campaign occurrence or a queued message."""
    with bot.session() as session:
        planned = plan_preview(bot, session, after)
        moments = [planned] if planned else []
        for campaign in session.exec(select(Campaign).where(col(Campaign.active).is_(True))):
            moment = campaigns.next_occurrence(campaign, after)
            if moment is not None:
                moments.append(moment)
        moments += [as_utc(row.due_at) for row in next_due(session=session, limit=1)]
    later = [m for m in moments if m > after]
    return min(later, default=None)


def plan_preview(bot: LearnBot, session: Session, after: dt.datetime) -> dt.datetime | None:
    """When the planner would next send something, without enqueuing (the savepoint is rolled back)."""
    with session.begin_nested() as savepoint:
        result = plan(session=session, config=bot.config, now=after)
        savepoint.rollback()
    return result.next_wake


class NudgeScheduler:
    """APScheduler in this process: planner and dispatcher ticks, and one cron job per campaign."""

    def __init__(
        self,
        bot: LearnBot,
        senders: Mapping[str, Sender],
        *,
        dispatch_seconds: float = DISPATCH_SECONDS,
        planner_seconds: float = PLANNER_SECONDS,
    ) -> None:
        self.bot = bot
        self.dispatcher = Dispatcher(bot.engine, senders, bot.clock)
        self.scheduler = BackgroundScheduler(
            timezone=ZoneInfo("UTC"),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )
        self.scheduler.add_job(self._plan, IntervalTrigger(seconds=planner_seconds), id="planner")
        self.scheduler.add_job(self._dispatch, IntervalTrigger(seconds=dispatch_seconds), id="dispatcher")
        self.scheduler.add_job(
            self.refresh_campaigns, IntervalTrigger(seconds=planner_seconds), id="campaigns"
        )
        self.scheduler.add_job(
            self._housekeeping, IntervalTrigger(hours=HOUSEKEEPING_HOURS), id="housekeeping"
        )

    def start(self) -> None:
        self.refresh_campaigns()
        self.scheduler.add_job(self._plan, id="planner-at-start")  # no trigger: once, right away
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=True)
        self.dispatcher.close()

    def refresh_campaigns(self) -> None:
        """One cron job per active campaign with a cron (added, replaced or removed to match storage)."""
        with self.bot.session() as session:
            wanted = {
                c.id: c
                for c in session.exec(select(Campaign).where(col(Campaign.active).is_(True)))
                if c.cron
            }
        current = {job.id for job in self.scheduler.get_jobs() if job.id.startswith("campaign:")}
        for campaign_id in current - {f"campaign:{cid}" for cid in wanted}:
            self.scheduler.remove_job(campaign_id)
        for campaign in wanted.values():
            cron = campaigns.trigger(campaign)
            assert isinstance(cron, CronTrigger)
            job_id = f"campaign:{campaign.id}"
            existing = self.scheduler.get_job(job_id)
            if existing is None or str(existing.trigger) != str(cron):
                self.scheduler.add_job(self._fire_campaigns, cron, id=job_id, replace_existing=True)

    def _plan(self) -> None:
        try:
            plan_tick(self.bot)
        except Exception:
            log.exception("planner tick failed")

    def _fire_campaigns(self) -> None:
        try:
            with self.bot.session() as session:
                campaigns.fire_due(session=session, config=self.bot.config, now=self.bot.clock.now())
            self._dispatch()
        except Exception:
            log.exception("campaign tick failed")

    def _housekeeping(self) -> None:
        try:
            with self.bot.session() as session:
                gone = prune_processed_events(session=session, before=self.bot.clock.now() - EVENT_IDS_KEPT)
            log.info("housekeeping: forgot %d inbound event ids older than %s", gone, EVENT_IDS_KEPT)
        except Exception:
            log.exception("housekeeping tick failed")

    def _dispatch(self) -> None:
        try:
            self.dispatcher.drain(max_passes=50)
        except Exception:
            log.exception("dispatcher tick failed")
