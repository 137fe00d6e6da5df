"""A nudge through real Slack plumbing: planned, posted by the outbox to a DM, its Done button clicked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import select

from bot.app import open_bot, prepare
from bot.config import Settings
from bot.events import Incoming, Mention
from bot.router import Router
from bot.wiring import slack_sender
from nudges.clock import ManualClock
from nudges.scheduler import run_tick
from storage.models import StepProgress
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.nudges.helpers import at
from tests.slack_harness import SlackApp, posted_message, slack_settings, texts


def test_a_slack_learner_gets_the_step_in_a_dm_and_done_is_recorded(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        settings = slack_settings(make_settings(write_config(tmp_path, admins=["UADMIN"])), fake)
        prepare(settings)
        planner = open_bot(settings)
        planner.clock = ManualClock(at("2026-11-30T08:00:00Z"))
        admin = Incoming(
            platform="slack",
            user_id="UADMIN",
            text="enrol @learner in feedback-culture",
            channel_id="DADMIN",
            mentions=(Mention("U0LEARNER", "learner"),),
        )
        assert "Enrolled learner in feedback-culture" in Router(planner).on_message(admin)[0].text

        sender = slack_sender(settings)
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


def _form(values: dict[str, dict[str, object]]) -> dict[str, object]:
    return {
        "id": "V0001",
        "type": "modal",
        "callback_id": "lb_campaign",
        "state": {"values": values},
        "private_metadata": "",
    }


def test_an_admin_announces_a_pathway_from_the_slack_form_and_it_lands_in_the_channel(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        settings = slack_settings(make_settings(write_config(tmp_path, admins=["U0ADMIN"])), fake)
        prepare(settings)
        app = SlackApp.start(settings, fake)
        try:
            fake.reset()
            shortcut = {
                "type": "shortcut",
                "callback_id": "lb_new_campaign",
                "trigger_id": "t1",
                "user": {"id": "U0LEARNER"},
                "team": {"id": "T0001"},
            }
            assert app.interact(shortcut)[0] == 200
            [told] = fake.wait_for("chat.postMessage")  # in a DM: a shortcut has no channel
            assert "Only L&D admins can announce campaigns" in told.params["text"]
            assert fake.called("views.open") == []

            assert app.interact({**shortcut, "user": {"id": "U0ADMIN"}})[0] == 200
            [opened] = fake.wait_for("views.open")
            form = opened.params["view"]
            assert form["callback_id"] == "lb_campaign" and form["title"]["text"] == "Announce a pathway"
            tz = next(b for b in form["blocks"] if b["block_id"] == "lb_c_tz")
            assert tz["element"]["initial_value"] == "Europe/London"  # the admin's own zone, from users.info

            values = {
                "lb_c_pathway": {"pathway": {"selected_option": {"value": "feedback-culture"}}},
                "lb_c_channels": {"channels": {"selected_conversations": ["C0GENERAL", "C0SALES"]}},
                "lb_c_message": {"message": {"value": "Feedback week starts today <!channel>"}},
                "lb_c_at": {"at": {"selected_date_time": None}},
                "lb_c_cron": {"cron": {"value": "0 9 * * mon"}},
                "lb_c_tz": {"tz": {"value": "Europe/London"}},
            }
            both = {**values, "lb_c_at": {"at": {"selected_date_time": 1796115600}}}
            status, body, _ = app.interact(
                {"type": "view_submission", "user": {"id": "U0ADMIN"}, "view": _form(both)}
            )
            assert status == 200 and "Give either a time to post once or a schedule" in body

            fake.reset()
            status, _, _ = app.interact(
                {"type": "view_submission", "user": {"id": "U0ADMIN"}, "view": _form(values)}
            )
            assert status == 200
            [confirmed] = fake.wait_for("chat.postMessage")
            assert "will post in #C0GENERAL, #C0SALES on the schedule `0 9 * * mon` (Europe/London)" in (
                texts(confirmed.params["blocks"])
            )
        finally:
            app.stop()

        planner = open_bot(settings)
        fake.reset()
        result = run_tick(planner, {"slack": slack_sender(settings)}, at=at("2026-11-30T09:10:00Z"))
        assert result.campaign_posts == 2
        posts = {c.params["channel"]: texts(c.params["blocks"]) for c in fake.called("chat.postMessage")}
        assert set(posts) == {"C0GENERAL", "C0SALES"}
        assert "Feedback week starts today &lt;!channel&gt;" in posts["C0GENERAL"]  # no @channel ping
        planner.engine.dispose()
