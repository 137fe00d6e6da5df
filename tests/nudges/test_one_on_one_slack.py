"""A 1:1 prompt through real Slack plumbing: planned, posted by the outbox to the manager's DM, answered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.app import open_bot, prepare
from bot.config import Settings
from bot.wiring import slack_sender
from nudges.clock import ManualClock
from nudges.scheduler import run_tick
from storage.models import Meeting, Person
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.nudges.helpers import at, person
from tests.nudges.test_one_on_one_prompt import learned, meeting
from tests.slack_harness import SlackApp, buttons, posted_message, rows, texts


def test_a_slack_manager_gets_the_prompt_in_a_dm_and_discussed_it_is_stored(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        settings = slack_settings_for(make_settings(write_config(tmp_path)), fake)
        prepare(settings)
        bot = open_bot(settings)
        bot.clock = ManualClock(at("2026-11-30T08:00:00Z"))
        maria = person(bot, "U0MARIA", platform="slack")
        sam = person(bot, "U0SAM", platform="slack")
        with bot.session() as session:
            for who, name in ((maria, "Maria <b>"), (sam, "Sam *bold*")):
                row = session.get(Person, who.id)
                assert row is not None
                row.display_name, row.manager_id = name, (maria.id if who is sam else None)
                session.add(row)
        learned(
            bot,
            sam,
            "give-peer-feedback",
            when="2026-11-26T10:00:00Z",
            takeaway="Ask <early> & often",
            share=True,
        )
        learned(
            bot,
            sam,
            "receive-feedback-well",
            when="2026-11-27T10:00:00Z",
            takeaway="Private one",
            share=False,
        )
        meeting_id = meeting(bot, maria, sam, "2026-11-30T14:00:00Z")

        sender = slack_sender(settings)

        def to_maria() -> list:
            posts = fake.called("chat.postMessage")
            return [c for c in posts if c.params["channel"] == "dm-U0MARIA"]  # her stored DM

        run_tick(bot, {"slack": sender}, at=at("2026-11-30T11:59:00Z"))  # Sam's own nudges may go
        assert to_maria() == []
        run_tick(bot, {"slack": sender}, at=at("2026-11-30T12:00:00Z"))
        [post] = to_maria()
        shown = texts(post.params["blocks"])
        assert (
            "Your 1:1 with *Sam bold* is today at 14:00. What Sam ∗bold∗ shared in the last 4 weeks:" in shown
        )
        assert "• _“Ask &lt;early&gt; &amp; often”_ — Give useful feedback to a peer" in shown
        assert "Private one" not in shown
        assert buttons(post.params["blocks"]) == ["Discussed it", "Not this time"]

        app = SlackApp.start(settings, fake)
        try:
            fake.reset()
            message = posted_message(post)
            status, _, _ = app.click(message, "Discussed it", user="U0MARIA", channel="dm-U0MARIA")
            assert status == 200
            [update] = fake.wait_for("chat.update")
            assert "Noted: you talked about Sam" in texts(update.params["blocks"])
            [stored] = [m for m in rows(app, Meeting) if m.id == meeting_id]
            assert stored.response == "discussed"
        finally:
            app.stop()
        bot.engine.dispose()


def slack_settings_for(settings: Settings, fake: FakeSlack) -> Settings:
    from tests.slack_harness import slack_settings

    return slack_settings(settings, fake)


def test_the_slack_home_shows_sharing_and_the_team_escaped() -> None:
    from bot.adapters.slack.views import home_view
    from bot.events import HomeView, Sharing, TeamMember

    home = HomeView(
        user_id="U0MARIA",
        sharing=Sharing(manager="Lee <!channel>", completions=True, ratings=False, takeaways_shared=1),
        team=(TeamMember("Sam *x*", lessons=("Pivots & more",), takeaways=(("<@U1> said hi", "Feedback"),)),),
        is_manager=True,
    )
    shown = texts(home_view(home)["blocks"])
    assert "*What Lee &lt;!channel&gt; sees*" in shown
    assert (
        "Completions and pathway progress shared · ratings not shared · takeaways 1 shared, 0 private"
        in shown
    )
    assert "*Your team* (only what each chose to share)" in shown
    assert "*Sam ∗x∗*\n• Completed: Pivots &amp; more\n• Takeaway: “&lt;@U1&gt; said hi” — Feedback" in shown
    learner = texts(home_view(HomeView(user_id="U0SAM", sharing=home.sharing))["blocks"])
    assert "Your team" not in learner
