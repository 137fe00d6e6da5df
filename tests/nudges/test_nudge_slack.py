"""A nudge through real Slack plumbing: planned, posted by the outbox to a DM, its Done button clicked."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from bot.adapters.slack_sender import SlackSender, outbox_client
from bot.app import open_bot, prepare
from bot.config import Settings
from bot.events import Incoming
from bot.router import Router
from nudges.clock import ManualClock
from nudges.scheduler import run_tick
from storage.models import StepProgress
from tests.fake_slack import FakeSlack
from tests.nudges.helpers import at
from tests.slack_harness import SlackApp, posted_message, slack_settings, texts


def test_a_slack_learner_gets_the_step_in_a_dm_and_done_is_recorded(
    make_settings: Callable[..., Settings],
) -> None:
    with FakeSlack() as fake:
        settings = slack_settings(make_settings(), fake)
        prepare(settings)
        planner = open_bot(settings)
        planner.clock = ManualClock(at("2026-11-30T08:00:00Z"))
        admin = Incoming(
            platform="slack",
            user_id="UADMIN",
            text="enrol <@U0LEARNER> in feedback-culture",
            channel_id="DADMIN",
            role="admin",
        )
        assert "Enrolled U0LEARNER" in Router(planner).on_message(admin)[0].text

        sender = SlackSender(outbox_client(settings))
        assert run_tick(planner, {"slack": sender}, at=at("2026-11-30T08:59:00Z")).dispatch.sent == 0
        assert run_tick(planner, {"slack": sender}, at=at("2026-11-30T09:00:00Z")).dispatch.sent == 1
        [opened] = fake.called("conversations.open")
        assert opened.params["users"] == "U0LEARNER"
        [post] = fake.called("chat.postMessage")
        assert post.params["channel"] == "DU0LEARNER" and post.token == "xoxb-test-token"
        shown = texts(post.params["blocks"])
        assert "Step 1 of 4 on your pathway *Feedback that helps*." in shown
        assert "*Why it matters:* Growing our people — Builds the feedback culture" in shown

        app = SlackApp.start(settings, fake)
        try:
            fake.reset()
            status, _, _ = app.click(posted_message(post), "Done", user="U0LEARNER", channel="DU0LEARNER")
            assert status == 200
            [update] = fake.wait_for("chat.update")
            assert "Nice work: *Give useful feedback to a peer* is done (step 1 of 4)." in texts(
                update.params["blocks"]
            )
        finally:
            app.stop()
        with planner.session() as session:
            [progress] = session.exec(select(StepProgress))
        assert progress.completed_at is not None and progress.follow_up_at is not None
        planner.engine.dispose()
