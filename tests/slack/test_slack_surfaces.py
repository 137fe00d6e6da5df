"""The other Slack surfaces: /learn and its browse modal, the shortcut, App Home, Rate and pathways."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bot.app import prepare
from bot.config import Settings
from storage.models import Enrolment, Feedback, Question, Rating
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, buttons, posted_message, rows, slack_settings, texts

PEER = "how do I give feedback to a peer"


def _browse_view(query: str = "", pillar: str | None = None) -> dict:
    return {
        "id": "V0001",
        "hash": "h1",
        "type": "modal",
        "callback_id": "lb_browse",
        "private_metadata": json.dumps({"pillar": pillar}),
        "state": {"values": {"lb_query": {"query": {"type": "plain_text_input", "value": query or None}}}},
    }


def test_learn_acks_at_once_and_answers_privately(slack: SlackApp, fake: FakeSlack) -> None:
    status, body, _ = slack.command("make a pivot table in excel")
    assert (status, body) == (200, "")
    [answer] = fake.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert "Summarise data with Excel pivot tables" in texts(answer.params["blocks"])
    assert buttons(answer.params["blocks"]) == ["Helpful", "Not helpful", "Rate", "Add to my pathway"]
    assert fake.called("chat.postMessage") == []  # nobody else in the channel sees it
    [question] = rows(slack, Question)
    assert question.channel_id == "C0SALES"


def test_learn_alone_opens_the_browse_modal_which_searches_and_filters(
    slack: SlackApp, fake: FakeSlack
) -> None:
    slack.command("")
    slack.finish()
    [opened] = fake.called("views.open")
    assert opened.params["trigger_id"] == "trigger-1"
    view = opened.params["view"]
    assert (view["callback_id"], view["title"]["text"]) == ("lb_browse", "Find a lesson")
    menu = view["blocks"][1]["elements"][0]
    assert [o["text"]["text"] for o in menu["options"]] == [
        "All pillars",
        "Customer trust",
        "Operational efficiency",
        "Growing our people",
    ]

    slack.finish()
    status, body, _ = slack.interact(
        {"type": "view_submission", "user": {"id": "U0LEARNER"}, "view": _browse_view("pivot table")}
    )
    assert status == 200
    response = json.loads(body)
    assert response["response_action"] == "update"
    assert "Summarise data with Excel pivot tables" in texts(response["view"]["blocks"])

    picked = {
        "type": "block_actions",
        "user": {"id": "U0LEARNER"},
        "container": {"type": "view", "view_id": "V0001"},
        "view": _browse_view(),
        "actions": [{"action_id": "lb_browse_pillar", "selected_option": {"value": "customer-trust"}}],
    }
    assert slack.interact(picked)[0] == 200
    slack.finish()
    updated = fake.called("views.update")[-1]  # the first filled the modal opened before users.info
    shown = texts(updated.params["view"]["blocks"])
    assert "Report a security incident" in shown and "Excel" not in shown
    assert "Handle a customer escalation" not in shown  # that one is for support staff


def test_the_message_shortcut_finds_a_lesson_for_someone_elses_message(
    slack: SlackApp, fake: FakeSlack
) -> None:
    payload = {
        "type": "message_action",
        "callback_id": "find_lesson",
        "trigger_id": "trigger-3",
        "user": {"id": "U0LEARNER"},
        "channel": {"id": "C0SALES"},
        "message": {
            "ts": "1700000010.000100",
            "user": "U0OTHER",
            "text": "anyone know how to share my outlook calendar?",
        },
        "response_url": fake.response_url("shortcut"),
    }
    status, _, _ = slack.interact(payload)
    assert status == 200
    [answer] = fake.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert "Outlook" in texts(answer.params["blocks"])
    [question] = rows(slack, Question)
    assert (question.channel_id, question.thread_id) == ("C0SALES", "1700000010.000100")


def test_rate_in_two_taps_updates_the_message_and_stores_the_rating(slack: SlackApp, fake: FakeSlack) -> None:
    slack.mention(PEER, ts="1700000011.000100", event_id="Ev-rate")
    [answer] = fake.wait_for("chat.postMessage")
    message = posted_message(answer)
    slack.click(message, "Rate")
    [first] = fake.wait_for("chat.update")
    assert "How relevant is *Give useful feedback to a peer* to your role?" in texts(first.params["blocks"])
    assert buttons(first.params["blocks"]) == ["1", "2", "3", "4", "5"]
    assert first.params["blocks"][0]["type"] == "header"  # the card is still there
    slack.click(message | {"blocks": first.params["blocks"]}, "4")
    [_, second] = fake.wait_for("chat.update", 2)
    assert "which company goal it serves" in texts(second.params["blocks"])
    slack.click(message | {"blocks": second.params["blocks"]}, "5")
    [_, _, done] = fake.wait_for("chat.update", 3)
    assert "relevance to your role 4/5, strategic clarity 5/5" in texts(done.params["blocks"])
    assert buttons(done.params["blocks"]) == ["Skip"]
    [rating] = rows(slack, Rating)
    assert (rating.role_relevance, rating.strategic_clarity) == (4, 5)


def test_add_to_my_pathway_then_home_shows_the_pathway_and_lessons_to_rate(
    slack: SlackApp, fake: FakeSlack
) -> None:
    slack.mention(PEER, ts="1700000012.000100", event_id="Ev-path")
    [answer] = fake.wait_for("chat.postMessage")
    slack.click(posted_message(answer), "Add to my pathway")
    [update] = fake.wait_for("chat.update")
    assert "Added to your pathway *Feedback that helps* (step 1 of 4)" in texts(update.params["blocks"])
    assert [e.pathway_id for e in rows(slack, Enrolment)] == ["feedback-culture"]

    slack.event({"type": "app_home_opened", "user": "U0LEARNER", "channel": "D0DM", "tab": "home"}, "Ev-home")
    [published] = fake.wait_for("views.publish")
    assert published.params["user_id"] == "U0LEARNER"
    view = published.params["view"]
    shown = texts(view["blocks"])
    assert view["type"] == "home"
    assert (
        "*Feedback that helps* · Growing our people\n▱▱▱▱  0/4 done\nNext: Give useful feedback to a peer"
        in shown
    )
    assert (
        "how do I give feedback to a peer → <https://learn.example.com/lessons/give-peer-feedback|" in shown
    )
    assert "For L&D admins" not in shown

    rate = next(
        b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("text", {}).get("text") == "Rate"
    )
    click = {
        "type": "block_actions",
        "user": {"id": "U0LEARNER"},
        "container": {"type": "view", "view_id": "V0001"},
        "view": view,
        "actions": [rate | {"block_id": "x"}],
    }
    slack.interact(click)
    [_, dm] = fake.wait_for("chat.postMessage", 2)
    assert dm.params["channel"] == "DU0LEARNER"  # from Home, the reply goes to the DM
    assert buttons(dm.params["blocks"]) == ["1", "2", "3", "4", "5"]
    assert len(fake.wait_for("views.publish", 2)) == 2  # and Home is refreshed


def test_admins_see_headline_numbers_and_gaps_on_home(
    make_settings: Callable[..., Settings], fake: FakeSlack, tmp_path: Path
) -> None:
    config = write_config(tmp_path, admins=["U0ADMIN"])
    settings = slack_settings(make_settings(config_path=config), fake)
    prepare(settings)
    app = SlackApp.start(settings, fake)
    try:
        app.dm("what's on the canteen menu today", user="U0LEARNER", event_id="Ev-gap")
        fake.wait_for("chat.postMessage")
        app.event(
            {"type": "app_home_opened", "user": "U0ADMIN", "channel": "D0ADMIN", "tab": "home"},
            "Ev-home-admin",
        )
        [published] = fake.wait_for("views.publish")
        shown = texts(published.params["view"]["blocks"])
        assert "For L&D admins" in shown
        assert "*Questions (7 days)*\n1" in shown and "*Answered*\n0%" in shown
        assert "*Top content gaps* (1 of 1 open; type `gaps` in a DM for all)" in shown
        assert "• G1 · 1 question, 1 person: what's on the canteen menu today" in shown
    finally:
        app.stop()


def test_a_click_on_a_private_answer_updates_it_through_its_response_url(
    slack: SlackApp, fake: FakeSlack
) -> None:
    slack.command(PEER)
    [answer] = fake.wait_for("response_url")
    helpful = next(e for b in answer.params["blocks"] if b["type"] == "actions" for e in b["elements"])
    click = {
        "type": "block_actions",
        "user": {"id": "U0LEARNER"},
        "container": {"type": "message", "message_ts": "77.1", "channel_id": "C0SALES", "is_ephemeral": True},
        "channel": {"id": "C0SALES"},
        "response_url": fake.response_url("ephemeral-click"),
        "actions": [helpful | {"block_id": "lb_actions_0"}],
    }
    assert slack.interact(click)[0] == 200
    [_, update] = fake.wait_for("response_url", 2)
    assert update.params["replace_original"] is True
    assert "Glad it helped!" in texts(update.params["blocks"])
    assert fake.called("chat.update") == []  # ephemeral messages can only change through response_url
    assert [f.verdict for f in rows(slack, Feedback)] == ["helpful"]
