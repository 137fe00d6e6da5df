"""The real Bolt app over HTTP, driven with signed requests, against the fake Slack Web API.

Each test says what a person in Slack would see: where the answer lands and what it shows,
what a click changes, what a duplicate or a forged request does (nothing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from bot.app import prepare
from bot.config import Settings
from storage.models import ConversationReference, Feedback, Person, ProcessedEvent, Question
from tests.fake_slack import FakeSlack, event_body, sign
from tests.slack_harness import SECRET, TOKEN, SlackApp, buttons, posted_message, rows, slack_settings, texts

PEER = "how do I give feedback to a peer"


def test_a_mention_is_answered_in_its_thread_with_the_answer_card(slack: SlackApp, fake: FakeSlack) -> None:
    assert slack.mention(PEER, ts="1700000001.000100", event_id="Ev-mention") == 200
    [call] = fake.wait_for("chat.postMessage")
    assert call.params["channel"] == "C0SALES"
    assert call.params["thread_ts"] == "1700000001.000100"
    assert call.token == TOKEN
    blocks = call.params["blocks"]
    assert blocks[0] == {
        "type": "header",
        "block_id": "lb_card_title",
        "text": {"type": "plain_text", "text": "Give useful feedback to a peer", "emoji": True},
    }
    shown = texts(blocks)
    assert "*Why it matters:* Growing our people — Builds the feedback culture" in shown
    assert (
        ":stopwatch: 5 min · <https://learn.example.com/lessons/give-peer-feedback|Open the lesson>" in shown
    )
    assert buttons(blocks) == ["Helpful", "Not helpful", "Rate", "Add to my pathway"]
    assert call.params["text"] == "Give useful feedback to a peer"
    [question] = rows(slack, Question)
    assert (question.platform, question.channel_id, question.thread_id) == (
        "slack",
        "C0SALES",
        "1700000001.000100",
    )
    assert question.text == PEER  # the bot's own mention is not part of the question


def test_a_direct_message_is_answered_in_the_dm_and_remembered_for_nudges(
    slack: SlackApp, fake: FakeSlack
) -> None:
    assert slack.dm("make a pivot table in excel", event_id="Ev-dm") == 200
    [call] = fake.wait_for("chat.postMessage")
    assert call.params["channel"] == "D0DM" and "thread_ts" not in call.params
    assert "Summarise data with Excel pivot tables" in texts(call.params["blocks"])
    assert [ref.channel_id for ref in rows(slack, ConversationReference)] == ["D0DM"]
    [user] = rows(slack, Person)
    assert (user.display_name, user.timezone) == ("user U0LEARNER", "Europe/London")  # nudges use it
    [info] = fake.called("users.info")
    assert info.params["user"] == "U0LEARNER"


def test_retries_and_duplicates_post_nothing_even_after_a_restart(
    make_settings: Callable[..., Settings], fake: FakeSlack, db_url: str
) -> None:
    settings = slack_settings(make_settings(database_url=db_url), fake)
    prepare(settings)
    first = SlackApp.start(settings, fake)
    try:
        assert first.mention(PEER, ts="1700000002.000100", event_id="Ev-dup") == 200
        fake.wait_for("chat.postMessage")
        assert first.event(_mention(), "Ev-dup", retry=1) == 200
        assert first.mention(PEER, ts="1700000002.000100", event_id="Ev-dup") == 200
        first.finish()
    finally:
        first.stop()
    restarted = SlackApp.start(settings, fake)  # a new process: only the database remembers
    try:
        assert restarted.mention(PEER, ts="1700000002.000100", event_id="Ev-dup") == 200
        restarted.finish()
        assert len(fake.called("chat.postMessage")) == 1
        assert len(rows(restarted, Question)) == 1
        assert [e.id for e in rows(restarted, ProcessedEvent)] == ["Ev-dup"]
    finally:
        restarted.stop()


def _mention() -> dict:
    return {
        "type": "app_mention",
        "user": "U0LEARNER",
        "text": f"<@UBOT> {PEER}",
        "ts": "1700000002.000100",
        "channel": "C0SALES",
    }


def test_a_retry_of_an_event_that_never_got_through_is_answered(slack: SlackApp, fake: FakeSlack) -> None:
    assert slack.event(_mention() | {"ts": "1700000003.000100"}, "Ev-lost", retry=2) == 200
    [call] = fake.wait_for("chat.postMessage")
    assert call.params["thread_ts"] == "1700000003.000100"


def test_a_bad_or_stale_signature_gets_401_and_posts_nothing(slack: SlackApp, fake: FakeSlack) -> None:
    body = event_body(_mention(), "Ev-forged")
    forged = sign("not-the-secret", body)
    assert slack.send(body, "application/json", forged)[0] == 401
    stale = sign(SECRET, body, timestamp=int(time.time()) - 600)
    assert slack.send(body, "application/json", stale)[0] == 401
    assert slack.send(body, "application/json", {})[0] == 401
    slack.finish()
    assert fake.calls == []
    assert rows(slack, Question) == [] and rows(slack, ProcessedEvent) == []


def test_what_people_type_arrives_escaped(slack: SlackApp, fake: FakeSlack) -> None:
    typed = "<!channel> where is the <https://evil.example|payroll form> & the *urgent* rota?"
    # Slack sends what people typed with &, <, > as entities; a real @mention arrives as <@U…>.
    sent = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + " ask <@U0BOSS|boss>"
    slack.dm(sent, event_id="Ev-inject")
    [call] = fake.wait_for("chat.postMessage")
    shown = texts(call.params["blocks"])
    assert "I don't have a lesson for that yet" in shown
    assert (
        "> &lt;!channel&gt; where is the &lt;https://evil.example|payroll form&gt; &amp; the ∗urgent∗ rota?"
        " ask @boss" in shown
    )
    for dangerous in ("<!channel>", "<https://evil", "<@U0BOSS", "*urgent*"):
        assert dangerous not in json.dumps(call.params)
    [question] = rows(slack, Question)
    assert question.text == typed + " ask @boss"  # stored as typed (a mention as @name), escaped when shown


def test_helpful_updates_the_message_and_stores_the_verdict(
    make_settings: Callable[..., Settings], fake: FakeSlack, db_url: str
) -> None:
    settings = slack_settings(make_settings(database_url=db_url), fake)
    prepare(settings)
    app = SlackApp.start(settings, fake)
    try:
        app.mention(PEER, ts="1700000004.000100", event_id="Ev-click")
        [answer] = fake.wait_for("chat.postMessage")
        status, body, _ = app.click(posted_message(answer), "Helpful")
        assert status == 200 and body == ""  # how fast: benchmarks/slack_http.py
        [update] = fake.wait_for("chat.update")
        assert update.params["channel"] == "C0SALES" and update.params["ts"] == answer.response["ts"]
        blocks = update.params["blocks"]
        assert blocks[0]["text"]["text"] == "Give useful feedback to a peer"  # the card stays
        assert "Glad it helped!" in texts(blocks)
        assert buttons(blocks) == ["Rate", "Add to my pathway"]  # the verdict buttons are gone
        [feedback] = rows(app, Feedback)
        assert (feedback.verdict, feedback.content_id) == ("helpful", "give-peer-feedback")
    finally:
        app.stop()


def test_not_helpful_offers_the_next_best_lesson_and_the_experts(slack: SlackApp, fake: FakeSlack) -> None:
    slack.mention(PEER, ts="1700000005.000100", event_id="Ev-miss")
    [answer] = fake.wait_for("chat.postMessage")
    slack.click(posted_message(answer), "Not helpful")
    [_, follow_up] = fake.wait_for("chat.postMessage", 2)
    assert follow_up.params["thread_ts"] == "1700000005.000100"
    assert "Here's the next-best lesson I have" in texts(follow_up.params["blocks"])
    assert "Give useful feedback to a peer" not in texts(follow_up.params["blocks"])
    assert buttons(follow_up.params["blocks"])[-1] == "Ask the experts"
    [marked] = fake.wait_for("chat.update")
    assert "You chose *Not helpful*." in texts(marked.params["blocks"])
    assert buttons(marked.params["blocks"]) == []

    slack.click(posted_message(follow_up) | {"thread_ts": "1700000005.000100"}, "Ask the experts")
    [_, _, to_experts] = fake.wait_for("chat.postMessage", 3)
    assert to_experts.params["channel"] == "learning-experts"
    shown = texts(to_experts.params["blocks"])
    assert "From <@U0LEARNER>" in shown and "> how do I give feedback to a peer" in shown
    assert "<https://acme.slack.com/archives/C0SALES/p1700000005000100|Reply in their thread>" in shown
    [_, told] = fake.wait_for("chat.update", 2)
    assert "I've asked the experts in #learning-experts" in texts(told.params["blocks"])
    assert [f.verdict for f in rows(slack, Feedback)] == ["not_helpful"]
