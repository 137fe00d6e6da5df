"""The purpose pulse through real Slack plumbing: planned, posted by the outbox to a DM at nine, answered
and changed with signed button clicks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import select

from bot.app import open_bot, prepare
from bot.config import Settings
from bot.events import Incoming
from bot.router import Router
from bot.wiring import slack_sender
from nudges.clock import ManualClock
from nudges.scheduler import run_tick
from storage.models import PulseAnswer
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.nudges.helpers import at
from tests.slack_harness import SlackApp, buttons, posted_message, slack_settings, texts


def test_a_slack_learner_answers_the_pulse_in_a_dm_and_changes_it(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        config = write_config(tmp_path, purpose_pulse={"enabled": True})
        settings = slack_settings(make_settings(config), fake)
        prepare(settings)
        planner = open_bot(settings)
        planner.clock = ManualClock(at("2026-12-31T12:00:00Z"))
        asked = Incoming(
            platform="slack", user_id="U0LEARNER", text="how do I give feedback to a peer", channel_id="D0DM"
        )
        assert Router(planner).on_message(asked)  # an active learner

        sender = slack_sender(settings)
        fake.reset()
        assert run_tick(planner, {"slack": sender}, at=at("2027-01-01T08:59:00Z")).dispatch.sent == 0
        assert run_tick(planner, {"slack": sender}, at=at("2027-01-01T09:00:00Z")).dispatch.sent == 1
        [post] = fake.called("chat.postMessage")
        assert post.params["channel"] == "DU0LEARNER"
        assert "*How clearly do you see how your learning connects to our goals?*" in texts(
            post.params["blocks"]
        )
        assert buttons(post.params["blocks"]) == ["1 · not at all", "2", "3", "4", "5 · very clearly"]
        assert run_tick(planner, {"slack": sender}, at=at("2027-01-05T09:00:00Z")).dispatch.sent == 0

        app = SlackApp.start(settings, fake)
        app.adapter.router.bot.clock = ManualClock(at("2027-01-05T10:00:00Z"))  # the week it was asked
        try:
            fake.reset()
            app.click(posted_message(post), "4", user="U0LEARNER", channel="DU0LEARNER")
            [first] = fake.wait_for("chat.update")
            assert "Thanks! I've noted 4." in texts(first.params["blocks"])
            app.click(posted_message(post), "5 · very clearly", user="U0LEARNER", channel="DU0LEARNER")
            [_, second] = fake.wait_for("chat.update", 2)
            assert "Thanks! I've changed your answer to 5." in texts(second.params["blocks"])
        finally:
            app.stop()
        with planner.session() as session:
            assert [(a.period, a.score) for a in session.exec(select(PulseAnswer))] == [("2027-Q1", 5)]
        planner.engine.dispose()
