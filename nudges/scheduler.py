"""Ticks: plan every kind of nudge, then dispatch; once (`learnbot tick --at …`) or by APScheduler.

Each process runs its own in-memory `BackgroundScheduler` (the job store is never shared):
a planner tick, a dispatcher tick, housekeeping and one cron job per campaign (so a post goes
out at its minute, not up to a planner interval later). All of them write to or claim from the
database outbox, which is the one record of what must be sent; idempotency keys and row leases
make running them in several processes at once safe.

Nothing here knows the process it runs in: a `Host` is anything with app.yaml, an engine, a
clock and sessions (`bot.app.LearnBot` is one), and senders are handed in by `bot.wiring`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.config import AppConfig, Settings
from nudges import campaigns
from nudges.clock import Clock, ManualClock, as_utc
from nudges.kinds import KINDS
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


class Host(Protocol):
    """What the ticks need from the process: app.yaml, the database, a clock that may be replaced."""

    config: AppConfig
    engine: Engine
    clock: Clock

    def session(self) -> AbstractContextManager[Session]: ...


@dataclass
class TickResult:
    """One tick: what the planner did and what was delivered."""

    at: dt.datetime
    plan: PlanResult
    dispatch: DispatchResult = field(default_factory=DispatchResult)

    @property
    def campaign_posts(self) -> int:
        return self.plan.campaign_posts

    @property
    def next_wake(self) -> dt.datetime | None:
        return self.plan.next_wake


def plan_tick(host: Host, senders: Mapping[str, Sender] | None, *, personal: bool = True) -> PlanResult:
    """Plan every registered kind at the host's clock time, in one transaction.

    `personal=False` plans only channel kinds (campaign posts), as the console does after each line.
    """
    now = host.clock.now()
    kinds = [kind for kind in KINDS if personal or not kind.personal]
    with host.session() as session:
        result = plan(session=session, config=host.config, now=now, senders=senders, kinds=kinds)
    if any(result.counts.values()) or result.unreachable:
        log.info(
            "planned at %s: %s; %d people unreachable",
            now,
            ", ".join(f"{n} {name}" for name, n in sorted(result.counts.items())) or "nothing",
            result.unreachable,
        )
    if personal and senders and "xapi" in senders:
        xapi_tick(host)
    return result


def xapi_tick(host: Host) -> None:
    """Record xAPI statements for new learning events and queue them for the LRS, in its own transaction
    (a failure is logged and retried next tick; it never stops planning)."""
    from nudges.xapi.sweep import sweep

    try:
        with host.session() as session:
            swept = sweep(session=session, config=host.config, now=host.clock.now())
        if swept.recorded or swept.batches:
            log.info("%s", swept.line())
    except Exception:
        log.exception("xAPI sweep failed; retried next tick")


def run_tick(host: Host, senders: Mapping[str, Sender], *, at: dt.datetime | None = None) -> TickResult:
    """One planner pass and dispatcher passes until nothing is due, as if it were `at` (default: now)."""
    if at is not None:
        if not isinstance(host.clock, ManualClock):
            host.clock = ManualClock(at)
        else:
            host.clock.set(at)
    planned = plan_tick(host, senders)
    dispatcher = Dispatcher(host.engine, senders, host.clock)
    try:
        delivered = dispatcher.drain()
    finally:
        dispatcher.close()
    return TickResult(host.clock.now(), planned, delivered)


def deliver_now(host: Host, senders: Mapping[str, Sender]) -> DispatchResult:
    """Post due campaigns and deliver whatever is due, without planning personal nudges (console)."""
    plan_tick(host, senders, personal=False)
    dispatcher = Dispatcher(host.engine, senders, host.clock, workers=1)
    try:
        return dispatcher.drain()
    finally:
        dispatcher.close()


def advance_to(
    host: Host, senders: Mapping[str, Sender], target: dt.datetime, *, max_ticks: int = 500
) -> list[TickResult]:
    """Move the (manual) clock to `target`, ticking now and at every moment something falls due on the way."""
    results = [run_tick(host, senders)]  # whatever is due before the clock moves goes out at its time
    for _ in range(max_ticks):
        wake = next_wake(host, senders, host.clock.now())
        if wake is None or wake > target:
            break
        results.append(run_tick(host, senders, at=wake))
    if host.clock.now() < target:
        results.append(run_tick(host, senders, at=target))
    return results


def next_wake(host: Host, senders: Mapping[str, Sender] | None, after: dt.datetime) -> dt.datetime | None:
    """The next moment anything is due: a planned nudge, a campaign occurrence or a queued message."""
    with host.session() as session:
        planned = preview(session, host.config, after, senders).next_wake
        moments = [planned] if planned else []
        moments += [as_utc(row.due_at) for row in next_due(session=session, limit=1)]
    later = [m for m in moments if m > after]
    return min(later, default=None)


def preview(
    session: Session, config: AppConfig, at: dt.datetime, senders: Mapping[str, Sender] | None
) -> PlanResult:
    """What a planning pass at `at` would do, without enqueuing anything (the savepoint is rolled back)."""
    with session.begin_nested() as savepoint:
        result = plan(session=session, config=config, now=at, senders=senders)
        savepoint.rollback()
    return result


class NudgeScheduler:
    """APScheduler in this process: planner and dispatcher ticks, housekeeping, one cron job per campaign."""

    def __init__(
        self,
        host: Host,
        senders: Mapping[str, Sender],
        *,
        dispatch_seconds: float = DISPATCH_SECONDS,
        planner_seconds: float = PLANNER_SECONDS,
        settings: Settings | None = None,
    ) -> None:
        self.host = host
        self.settings = settings  # for Microsoft Graph (org sync, calendars); rosters need none
        self.senders = dict(senders)
        self.dispatcher = Dispatcher(host.engine, self.senders, host.clock)
        self.scheduler = BackgroundScheduler(
            timezone=ZoneInfo("UTC"),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )
        self._lock = threading.Lock()
        self._progress = threading.Condition()
        self._running = (
            0  # jobs in progress, so shutdown can wait for them without holding APScheduler's locks
        )
        self._stopping = False
        job = self._job
        self.scheduler.add_job(job(self._plan), IntervalTrigger(seconds=planner_seconds), id="planner")
        self.scheduler.add_job(
            job(self._dispatch), IntervalTrigger(seconds=dispatch_seconds), id="dispatcher"
        )
        self.scheduler.add_job(
            job(self.refresh_campaigns), IntervalTrigger(seconds=planner_seconds), id="campaigns"
        )
        self.scheduler.add_job(
            job(self._housekeeping), IntervalTrigger(hours=HOUSEKEEPING_HOURS), id="housekeeping"
        )
        if host.config.org.source != "off":
            hours = host.config.org.sync_hours
            self.scheduler.add_job(job(self.sync_org), IntervalTrigger(hours=hours), id="org-sync")
        if host.config.one_on_ones.source != "off":
            minutes = host.config.one_on_ones.scan_minutes
            scan_every = IntervalTrigger(minutes=minutes)
            self.scheduler.add_job(job(self.scan_one_on_ones), scan_every, id="one-on-ones-scan")
        self._passes = itertools.count(1)
        self._planned: tuple[dt.datetime, int] | None = None  # (clock time it planned at, pass number)
        self._dispatched = 0  # number of the last dispatcher pass that finished
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self.refresh_campaigns()
        self.scheduler.add_job(self._job(self._plan), id="planner-at-start")  # once, right away
        self.scheduler.add_job(self._job(self._org_and_one_on_ones), id="org-at-start")
        self._unsubscribe = campaigns.on_change(self.campaigns_changed)
        self.scheduler.start()

    def shutdown(self, timeout: float = 120.0) -> None:
        """Stop ticking and wait for jobs in progress. APScheduler's own `shutdown(wait=True)` waits while
        holding its job-store lock: a running job that reads the jobs (campaign refresh) would deadlock."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        with self._progress:
            self._stopping = True
        self.scheduler.shutdown(wait=False)
        with self._progress:
            if not self._progress.wait_for(lambda: self._running == 0, timeout):
                log.warning("nudge scheduler stopped with %d jobs still running", self._running)
        self.dispatcher.close()

    def _job(self, work: Callable[[], None]) -> Callable[[], None]:
        """`work` as a scheduler job: skipped once stopping, counted while it runs."""

        def run() -> None:
            with self._progress:
                if self._stopping:
                    return
                self._running += 1
            try:
                work()
            finally:
                with self._progress:
                    self._running -= 1
                    self._progress.notify_all()

        run.__name__ = getattr(work, "__name__", "job")
        return run

    def campaigns_changed(self) -> None:
        """A campaign was created or resumed (committed): post what is due now, and follow its cron."""
        if self._stopping:
            return
        self.scheduler.add_job(self._job(self._campaigns_now), id="campaigns-now", replace_existing=True)

    def _campaigns_now(self) -> None:
        self.refresh_campaigns()
        self._fire_campaigns()

    def wait_caught_up(self, at: dt.datetime, timeout: float) -> bool:
        """Block until a planner pass at clock time `at` or later, and a dispatcher pass begun after it,
        have finished (False after `timeout` seconds): what tests wait for instead of sleeping."""

        def caught_up() -> bool:
            return (
                self._planned is not None and self._planned[0] >= at and self._dispatched > self._planned[1]
            )

        with self._progress:
            return self._progress.wait_for(caught_up, timeout)

    def wait_next_dispatch(self, timeout: float) -> bool:
        """Block until a dispatcher pass that begins after this call has finished (passes never overlap,
        so whatever an earlier pass held is recorded by then); False after `timeout` seconds."""
        with self._progress:
            mark = next(self._passes)
            return self._progress.wait_for(lambda: self._dispatched > mark, timeout)

    def refresh_campaigns(self) -> None:
        """One cron job per active campaign with a cron (added, replaced or removed to match storage)."""
        with self.host.session() as session:
            wanted = {
                c.id: c
                for c in session.exec(
                    select(Campaign).where(col(Campaign.active).is_(True), col(Campaign.paused).is_(False))
                )
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
                self.scheduler.add_job(
                    self._job(self._fire_campaigns), cron, id=job_id, replace_existing=True
                )

    def _plan(self) -> None:
        at = self.host.clock.now()
        try:
            plan_tick(self.host, self.senders)
        except Exception:
            log.exception("planner tick failed")
        with self._progress:
            self._planned = (at, next(self._passes))
            self._progress.notify_all()

    def _fire_campaigns(self) -> None:
        try:
            plan_tick(self.host, self.senders, personal=False)
        except Exception:
            log.exception("campaign tick failed")
        self._dispatch()

    def sync_org(self) -> None:
        """The org chart from Graph or the roster (app.yaml `org`); a failure is logged, tried next time."""
        from nudges.org_sync import sync_org

        if self.host.config.org.source == "off":
            return
        try:
            sync_org(self.host, self.settings)  # type: ignore[arg-type]  # the Host has config, clock, session
        except Exception:
            log.exception("org sync failed; tried again in %s hours", self.host.config.org.sync_hours)

    def scan_one_on_ones(self) -> None:
        """Managers' 1:1s from calendars or the roster into `meeting`, for the 1:1 prompt kind to plan."""
        from nudges.calendars import scan

        minutes = self.host.config.one_on_ones.scan_minutes
        if self.host.config.one_on_ones.source == "off":
            return
        try:
            scan(self.host, self.settings)  # type: ignore[arg-type]
        except Exception:
            log.exception("1:1 scan failed; tried again in %s minutes", minutes)

    def _org_and_one_on_ones(self) -> None:
        """At start: the org chart first, then the 1:1s (which need it)."""
        self.sync_org()
        self.scan_one_on_ones()

    def _housekeeping(self) -> None:
        try:
            with self.host.session() as session:
                gone = prune_processed_events(session=session, before=self.host.clock.now() - EVENT_IDS_KEPT)
            log.info("housekeeping: forgot %d inbound event ids older than %s", gone, EVENT_IDS_KEPT)
        except Exception:
            log.exception("housekeeping tick failed")

    def _dispatch(self) -> None:
        with self._lock:  # the interval job and a campaign post may both want to dispatch
            started = next(self._passes)
            try:
                self.dispatcher.drain(max_passes=50)
            except Exception:
                log.exception("dispatcher tick failed")
        with self._progress:
            self._dispatched = max(self._dispatched, started)
            self._progress.notify_all()
