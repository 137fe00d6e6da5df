"""Slack and Teams served together on one port, and one learner on both, recognised by the email each
platform vouches for (Slack's profile, Teams' member lookup): one person, one progress record."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from bot.app import open_bot, prepare
from bot.config import Settings
from bot.router import Router
from bot.serve import start_in_thread
from storage.models import Enrolment, Identity, Person, StepProgress
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, posted_message, slack_settings, texts
from tests.teams.fake_connector import FakeConnector
from tests.teams.harness import TeamsApp, member, teams_settings

SAM_AAD = "00000000-0000-4000-8000-00000000e001"


def test_sam_on_slack_and_teams_has_one_progress_record(make_settings: Callable[..., Settings]) -> None:
    with (
        FakeSlack() as slack_api,
        FakeConnector(members={f"29:{SAM_AAD}": member(SAM_AAD, "Sam", "sam@example.com")}) as connector,
    ):
        settings = teams_settings(slack_settings(make_settings(), slack_api))
        prepare(settings)
        served = start_in_thread(settings, Router(open_bot(settings)))
        slack = SlackApp(slack_api, served.slack, served.url, served.server)
        teams = TeamsApp(connector, served)
        try:
            slack_api.users["U0SAM"] = {"display_name": "Sam", "email": "sam@example.com"}
            slack_api.reset()
            assert slack.dm("how do I give feedback to a peer", user="U0SAM", event_id="Ev-sam-1") == 200
            [answer] = slack_api.wait_for("chat.postMessage")
            assert "Give useful feedback to a peer" in texts(answer.params["blocks"])
            slack.click(posted_message(answer), "Add to my pathway", user="U0SAM", channel="D0DM")
            [added] = slack_api.wait_for("chat.update")
            assert "Added to your pathway *Feedback that helps*" in texts(added.params["blocks"])

            assert teams.dm("how do I give feedback to a peer", user=SAM_AAD, name="Sam")[0] == 202
            [card] = connector.wait_for(1)
            status, body = teams.click(card.card, "Add to my pathway", user=SAM_AAD)
            assert status == 200
            assert "You're already on **Feedback that helps** (step 1 of 4): keep going!" in str(body)
            teams.finish()
            served.slack.work.wait_idle(10)

            with served.teams.router.bot.session() as session:
                people = session.exec(select(Person)).all()
                identities = {(i.platform, i.platform_user_id) for i in session.exec(select(Identity))}
                enrolments = session.exec(select(Enrolment)).all()
                progress = session.exec(select(StepProgress)).all()
            assert len(people) == 1 and people[0].email == "sam@example.com"
            assert identities == {("slack", "U0SAM"), ("teams", SAM_AAD)}
            assert [e.user_id for e in enrolments] == [people[0].id] and len(progress) == 1
        finally:
            served.stop()
            served.teams.router.bot.engine.dispose()
