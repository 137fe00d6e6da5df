"""Campaigns: app.yaml validation, one post per occurrence from two schedulers, clicks and joins counted."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import ConfigError, load_config
from bot.events import Action, Button, Incoming
from bot.router import Router
from nudges import campaigns
from nudges.clock import ManualClock
from nudges.scheduler import NudgeScheduler, run_tick
from storage.models import Campaign, Enrolment
from tests.conftest import write_config
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at, console


def test_bad_campaigns_in_app_yaml_are_named_by_key_path(tmp_path: Path) -> None:
    bad = [
        {"id": "week", "title": "Feedback week", "channels": ["general"], "pathway": "nope"},
        {"id": "weekly", "title": "Weekly", "channels": ["general"], "cron": "0 9 * *"},
        {
            "id": "both",
            "title": "Both",
            "channels": ["general"],
            "cron": "0 9 * * mon",
            "at": "2026-12-01T09:00",
        },
        {"id": "zone", "title": "Zone", "channels": ["general"], "timezone": "Mars/Olympus"},
        {"id": "empty", "title": "Empty", "channels": []},
    ]
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, campaigns=bad))
    problems = "\n".join(caught.value.problems)
    assert "campaigns[1].cron: invalid cron expression '0 9 * *'" in problems
    assert "campaigns[2]: give either cron (repeating) or at (once), not both" in problems
    assert "campaigns[3].timezone: unknown time zone 'Mars/Olympus'" in problems
    assert "campaigns[4].channels: List should have at least 1 item" in problems
    assert len(caught.value.problems) == 4  # the pathway check waits until the fields are valid

    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, campaigns=bad[:1]))
    assert caught.value.problems == [
        "campaigns[0].pathway: unknown pathway 'nope' "
        "(known: automate-the-boring-stuff, feedback-culture, first-contact-resolution)"
    ]


def test_a_cron_campaign_posts_once_per_occurrence_from_two_schedulers(
    make_bot: MakeBot, pg_url: str
) -> None:
    weekly = {
        "id": "feedback-monday",
        "title": "Feedback Monday",
        "message": "Ten minutes on feedback this week?",
        "pathway": "feedback-culture",
        "channels": ["general", "#sales"],
        "platform": "console",
        "cron": "*/2 9 * * mon",
        "timezone": "Pacific/Auckland",
    }
    first = make_bot(pg_url, at="2026-11-29T19:58:30Z", campaigns=[weekly])  # Monday 08:58:30 in Auckland
    second = make_bot(
        pg_url, campaigns=[weekly]
    )  # another replica: same database and app.yaml, own scheduler
    clock = ManualClock(at("2026-11-29T19:58:30Z"))
    first.clock = second.clock = clock
    senders = [console(first), console(second)]
    schedulers = [
        NudgeScheduler(bot, {"console": sender}, dispatch_seconds=0.05, planner_seconds=0.05)
        for bot, sender in zip((first, second), senders, strict=True)
    ]
    for scheduler in schedulers:
        scheduler.start()
    try:
        jobs = [s.scheduler.get_job("campaign:feedback-monday") for s in schedulers]
        assert all(job is not None and str(job.trigger.timezone) == "Pacific/Auckland" for job in jobs)
        for _ in range(10):  # 08:58:30 → 09:03:30 in Auckland, half a minute at a time
            clock.advance(dt.timedelta(seconds=30))
            for scheduler in schedulers:  # both planned at this time and dispatched after it
                assert scheduler.wait_caught_up(clock.now(), timeout=30)
        for scheduler in schedulers:  # and whatever a pass still held then is recorded
            assert scheduler.wait_next_dispatch(timeout=30)
    finally:
        for scheduler in schedulers:
            scheduler.shutdown()
    assert sum(len(sender.delivered) for sender in senders) == 4  # 2 occurrences × 2 channels, once each
    assert sorted(m.key for s in senders for _, m in s.delivered) == [
        "campaign:feedback-monday:20261129T200000Z:general",
        "campaign:feedback-monday:20261129T200000Z:sales",
        "campaign:feedback-monday:20261129T200200Z:general",
        "campaign:feedback-monday:20261129T200200Z:sales",
    ]


def test_a_campaign_announced_now_posts_at_once_not_at_the_next_planner_tick(make_bot: MakeBot) -> None:
    """Finding 7: with the planner an hour away, the post still goes out right after the announce."""
    bot = make_bot()
    sender = console(bot)
    scheduler = NudgeScheduler(bot, {"console": sender}, dispatch_seconds=3600, planner_seconds=3600)
    scheduler.start()
    try:
        router = Router(bot)
        admin = Incoming(platform="console", user_id="console-admin", text="", channel_id="dm-console-admin")
        [reply] = router.on_message(
            dataclasses.replace(
                admin, text="announce feedback-culture in #general: Feedback week starts now!"
            )
        )
        assert "will post in #general now" in reply.text
        assert sender.wait_for(1, timeout=10), "the campaign did not post within 10 s"
    finally:
        scheduler.shutdown()
    [(_, post)] = sender.delivered
    assert post.to.channel_id == "general" and "Feedback week starts now!" in post.reply.text


def test_missed_occurrences_are_coalesced_and_old_ones_skipped() -> None:
    weekly = Campaign(id="c", title="c", cron="0 9 * * *", timezone="Europe/London", channels=["general"])
    assert campaigns.occurrence(weekly, at("2026-11-30T09:20:00Z")) == at("2026-11-30T09:00:00Z")
    assert campaigns.occurrence(weekly, at("2026-11-30T10:30:00Z")) is None  # more than an hour late: skipped
    every_ten = Campaign(id="d", title="d", cron="*/10 * * * *", timezone="UTC", channels=["general"])
    assert campaigns.occurrence(every_ten, at("2026-11-30T09:35:00Z")) == at("2026-11-30T09:30:00Z")
    assert campaigns.next_occurrence(weekly, at("2026-11-30T09:00:00Z")) == at("2026-12-01T09:00:00Z")


def test_joins_and_clicks_are_counted_per_campaign(make_bot: MakeBot, db_url: str) -> None:
    once = {
        "id": "launch",
        "title": "Automation month",
        "pathway": "automate-the-boring-stuff",
        "channels": ["general"],
        "platform": "console",
    }
    bot = make_bot(db_url, at="2026-11-30T10:00:00Z", campaigns=[once])
    sender = console(bot)
    run_tick(bot, {"console": sender})
    run_tick(bot, {"console": sender}, at=at("2026-11-30T10:05:00Z"))
    [(_, post)] = sender.delivered
    assert (post.to.platform, post.to.channel_id, post.to.user_id) == ("console", "general", "")
    assert post.reply.text.startswith("📣 Automation month")
    assert (
        "Why it matters: Operational efficiency — Cut manual reporting time in half by Q3." in post.reply.text
    )
    assert "The pathway: Automate the boring stuff, one short step every 5 days." in post.reply.text
    join, details = post.reply.buttons
    router = Router(bot)

    def click(user: str, button: Button) -> str:
        action = Action(
            platform="console", user_id=user, name=button.name, value=button.value, channel_id="general"
        )
        return router.on_action(action)[0].text

    assert "4 steps" in click("ana", details)
    assert "You've joined Automate the boring stuff" in click("ana", join)
    assert "already on" in click("ana", join)
    assert "You've joined" in click("ben", join)
    with bot.session() as session:
        [stats] = campaigns.stats(session=session, now=bot.clock.now())
        joined = {e.joined_by for e in session.exec(select(Enrolment))}
    assert (stats.posted, stats.clicks, stats.joins) == (1, 4, 2)
    assert joined == {"campaign"}

    admin = Incoming(platform="console", user_id="console-admin", text="campaigns", channel_id="d")
    [listing] = router.on_message(admin)
    assert "launch (config): 1 posted, 0 waiting, 4 clicks, 2 joins" in (listing.quote or "")
