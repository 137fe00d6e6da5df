"""One person on the console and on Slack, recognised by their verified email: one record, one Home."""

from __future__ import annotations

from sqlmodel import select

from bot.adapters.console import PERSONAS, ConsoleChat
from bot.app import open_bot
from bot.config import Settings
from bot.router import Router
from storage.models import Enrolment, Identity, Person, Question
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, texts


def test_sam_on_the_console_and_on_slack_has_one_progress_record_and_one_home(
    slack: SlackApp, fake: FakeSlack, settings: Settings
) -> None:
    console = ConsoleChat(Router(open_bot(settings)))  # the same database as the Slack app
    assert "Give useful feedback to a peer" in console.handle_line("how do I give feedback to a peer")
    assert "Added to your pathway Feedback that helps" in console.handle_line("4")

    fake.users["U0SAM"] = {"display_name": "Sam", "email": PERSONAS["learner"].email}
    slack.dm("how do I make a pivot table", user="U0SAM", event_id="Ev-sam-1")
    [answer] = fake.wait_for("chat.postMessage")
    assert "Summarise data with Excel pivot tables" in texts(answer.params["blocks"])

    home_opened = {"type": "app_home_opened", "user": "U0SAM", "channel": "D0SAM", "tab": "home"}
    assert slack.event(home_opened, "Ev-sam-home") == 200
    [published] = fake.wait_for("views.publish")
    home = texts(published.params["view"]["blocks"])
    assert "Feedback that helps" in home  # the pathway joined on the console
    assert "how do I give feedback to a peer" in home and "how do I make a pivot table" in home

    with console.router.bot.session() as session:
        people = session.exec(select(Person)).all()
        identities = {(i.platform, i.platform_user_id) for i in session.exec(select(Identity))}
        owners = {q.user_id for q in session.exec(select(Question))}
        enrolments = session.exec(select(Enrolment)).all()
    assert len(people) == 1
    assert identities == {("console", "console-learner"), ("slack", "U0SAM")}
    assert owners == {people[0].id} and [e.user_id for e in enrolments] == [people[0].id]
