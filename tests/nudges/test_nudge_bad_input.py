"""Bad data never stops planning (finding 14), campaigns are checked where they enter and admins can
pause, resume and delete them; a deleted lesson is skipped for learners (finding 17, planner side)."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.config import ConfigError, load_config
from bot.events import Incoming
from bot.router import Router
from nudges import campaigns
from nudges.scheduler import plan_tick, run_tick
from storage.models import Campaign, ContentItem, OutboxMessage
from tests.conftest import write_config
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at, console, person

LONG = "c" * 150


def _admin(text: str) -> Incoming:
    return Incoming(platform="console", user_id="console-admin", text=text, channel_id="dm-console-admin")


def _keys(bot) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with bot.session() as session:
        return {r.idempotency_key: r.status for r in session.exec(select(OutboxMessage))}


def test_one_campaign_with_an_overlong_channel_does_not_stop_the_others_or_anyone_s_nudges(
    make_bot: MakeBot, db_url: str
) -> None:
    """Stored before validation existed (or by hand): on PostgreSQL the 150-character channel used to
    abort the whole planner transaction, so no campaign and no learner was planned."""
    bot = make_bot(db_url, at="2026-11-30T09:00:00Z")
    person(bot, "sam")
    Router(bot).on_message(_admin("enrol sam in feedback-culture"))
    with bot.session() as session:
        for campaign_id, channels in (("broken", [LONG]), ("fine", ["general"])):
            session.add(
                Campaign(
                    id=campaign_id,
                    title=campaign_id,
                    channels=channels,
                    platform="console",
                    source="chat",
                    created_at=bot.clock.now(),
                )
            )
    result = plan_tick(bot, {"console": console(bot)})
    keys = _keys(bot)
    assert "campaign:fine:once:general" in keys
    assert any(key.startswith("step:") for key in keys)  # Sam's step was planned too
    assert not any(key.startswith("campaign:broken") for key in keys)
    assert result.counts["errors"] == 1


def test_campaigns_from_chat_and_app_yaml_are_checked_where_they_enter(make_bot: MakeBot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    router = Router(bot)
    [reply] = router.on_message(_admin(f"announce feedback-culture in #{LONG}: Feedback week!"))
    assert "I couldn't make that campaign: channel name" in reply.text and "the limit is 80" in reply.text
    [reply] = router.on_message(_admin("announce feedback-culture in #general: " + "x" * 2001))
    assert "the limit is 2000" in reply.text
    with bot.session() as session:
        assert session.exec(select(Campaign)).all() == []
        with pytest.raises(campaigns.CampaignError):
            campaigns.create(
                session=session,
                title="t",
                message="m",
                pathway_id=None,
                channels=["bad channel"],
                platform="console",
                created_by="x",
                now=bot.clock.now(),
            )
    bad = {"id": "long", "title": "Long", "channels": [LONG], "message": "y" * 2001}
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, campaigns=[bad]))
    problems = "\n".join(caught.value.problems)
    assert "campaigns[0].channels: channel name 'cccccccccccccccccccc'… is 150 characters" in problems
    assert "campaigns[0].message: String should have at most 2000 characters" in problems


def test_admins_list_pause_resume_and_delete_a_campaign(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url)
    router = Router(bot)
    [made] = router.on_message(_admin('announce feedback-culture in #general cron "0 9 * * mon": Weekly!'))
    campaign_id = made.text.split()[1]
    assert campaign_id.startswith("feedback-that-helps-")
    [paused] = router.on_message(_admin(f"campaign {campaign_id} pause"))
    assert paused.text.startswith(f"Paused {campaign_id}")
    [listed] = router.on_message(_admin("campaigns"))
    assert f"• {campaign_id} (chat, paused): 0 posted" in str(listed.quote)
    sender = console(bot)
    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))  # Monday nine: paused, nothing posted
    assert sender.delivered == []
    [resumed] = router.on_message(_admin(f"campaign {campaign_id} resume"))
    assert "next post 2026-12-07 09:00 UTC" in resumed.text
    run_tick(bot, {"console": sender}, at=at("2026-12-07T09:00:00Z"))
    assert [m.key for _, m in sender.delivered] == [f"campaign:{campaign_id}:20261207T090000Z:general"]
    [deleted] = router.on_message(_admin(f"campaign {campaign_id} delete"))
    assert deleted.text.startswith(f"Deleted {campaign_id}")
    [listed] = router.on_message(_admin("campaigns"))
    assert "No campaigns yet" in listed.text
    [unknown] = router.on_message(_admin("campaign nope pause"))
    assert "there is no campaign called 'nope'" in unknown.text
    run_tick(bot, {"console": sender}, at=at("2026-12-14T09:00:00Z"))
    assert len(sender.delivered) == 1


def test_a_step_whose_lesson_was_deleted_is_skipped_for_learners(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url)
    router = Router(bot)
    person(bot, "sam")
    router.on_message(_admin("enrol sam in feedback-culture"))
    with bot.session() as session:  # what `learnbot index` does when the lesson's file is gone
        item = session.get(ContentItem, "give-peer-feedback")
        assert item is not None
        item.active = False
        session.add(item)
    sender = console(bot)
    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))
    [(_, step)] = sender.delivered
    assert step.reply.text.startswith("Step 1 of 3 on your pathway Feedback that helps.")
    assert step.reply.card is not None and step.reply.card.content_id == "receive-feedback-well"
    with bot.session() as session:
        keys = list(
            session.exec(select(OutboxMessage.idempotency_key).where(col(OutboxMessage.kind) == "step"))
        )
    assert all("give-peer-feedback" not in key for key in keys)
