"""'Save as micro-lesson' through signed Slack requests: the expert's shortcut, the prefilled form, the
lesson answering the next question with "Curated by …", peer validation, and a non-expert refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import prepare
from bot.config import Settings
from storage.models import ContentItem, Curation
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, buttons, posted_message, rows, slack_settings, texts

EXPERT, LEARNER = "U0EXPERT", "U0LEARNER"
MESSAGE = {
    "ts": "1700000100.000200",
    "text": "Refund a duplicate card charge\nOpen the order, press *Refund*, pick the second charge "
    "&amp; tell the customer it lands in 3-5 days. Ask <@U0LEAD> if it is over £500.",
}


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path, fake: FakeSlack) -> Iterator[SlackApp]:
    settings = slack_settings(make_settings(write_config(tmp_path, smes=[EXPERT])), fake)
    prepare(settings)
    fake.users[EXPERT] = {"display_name": "Maria", "email": "maria.expert@example.com"}
    slack = SlackApp.start(settings, fake)
    fake.reset()
    yield slack
    slack.stop()


def shortcut(user: str) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "save_lesson",
        "trigger_id": "trigger-9",
        "user": {"id": user},
        "channel": {"id": "C0SUPPORT"},
        "message": MESSAGE,
        "response_url": "http://unused.invalid/",
    }


def submitted(view: dict[str, Any], **values: dict[str, Any]) -> dict[str, Any]:
    """The modal as Slack sends it back: the blocks' current values (prefills kept unless changed)."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block["element"]
        current: dict[str, Any] = {"type": element["type"]}
        if "initial_value" in element:
            current["value"] = element["initial_value"]
        state[block["block_id"]] = {element["action_id"]: current}
    for block_id, value in values.items():
        state[block_id] = value
    return {"type": "view_submission", "user": {"id": EXPERT}, "view": {**view, "state": {"values": state}}}


def test_an_expert_saves_a_message_and_it_answers_the_very_next_question(
    app: SlackApp, fake: FakeSlack
) -> None:
    assert app.interact(shortcut(EXPERT))[0] == 200
    [opened] = fake.wait_for("views.open")
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "trigger-9"
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert fields["lb_l_title"]["initial_value"] == "Refund a duplicate card charge"
    summary = fields["lb_l_summary"]["initial_value"]
    assert "pick the second charge & tell the customer it lands in 3-5 days" in summary  # plain text
    options = [o["value"] for o in fields["lb_l_pillar"]["options"]]
    assert options == ["customer-trust", "efficiency", "people-growth"]

    pillar = {"pillar": {"type": "static_select", "selected_option": {"value": "customer-trust"}}}
    impact = {"impact": {"type": "plain_text_input", "value": "Refunds right first time"}}
    status, _, _ = app.interact(submitted(view, lb_l_pillar=pillar, lb_l_impact=impact))
    assert status == 200
    [saved] = fake.wait_for("chat.postMessage")
    assert "Saved *Refund a duplicate card charge* as a micro-lesson under Customer trust" in texts(
        saved.params["blocks"]
    )
    [lesson] = [item for item in rows(app, ContentItem) if item.source == "curated"]
    assert lesson.url == "https://acme.slack.com/archives/C0SUPPORT/p1700000100000200"
    assert (lesson.pillar, lesson.impact) == ("customer-trust", ["Refunds right first time"])
    [curation] = rows(app, Curation)
    assert curation.content_id == lesson.id and (curation.channel_id, curation.message_id) == (
        "C0SUPPORT",
        "1700000100.000200",
    )

    fake.reset()
    app.mention(
        "how do I refund a duplicate card charge?", user=LEARNER, ts="1700000200.000100", event_id="Ev-q"
    )
    [answer] = fake.wait_for("chat.postMessage")
    blocks = answer.params["blocks"]
    assert blocks[0]["text"]["text"] == "Refund a duplicate card charge"
    assert "Curated by Maria" in texts(blocks) and "validated by" not in texts(blocks)
    assert buttons(blocks)[:2] == ["Helpful", "Not helpful"]

    # peer validation: a colleague's Helpful shows on the card the next time it answers
    app.click(posted_message(answer), "Helpful", user=LEARNER)
    fake.wait_for("chat.update")
    fake.reset()
    app.mention("refund a duplicate card charge", user="U0OTHER", ts="1700000300.000100", event_id="Ev-q2")
    [again] = fake.wait_for("chat.postMessage")
    assert "Curated by Maria · validated by 1 colleague" in texts(again.params["blocks"])


def test_a_non_expert_is_refused_and_no_form_opens(app: SlackApp, fake: FakeSlack) -> None:
    assert app.interact(shortcut(LEARNER))[0] == 200
    [told] = fake.wait_for("chat.postMessage")
    assert (
        "Saving messages as micro-lessons is for subject-matter experts and L&D admins" in told.params["text"]
    )
    assert fake.called("views.open") == []


def test_a_form_without_a_pillar_or_title_is_sent_back_with_the_fields_named(
    app: SlackApp, fake: FakeSlack
) -> None:
    app.interact(shortcut(EXPERT))
    [opened] = fake.wait_for("views.open")
    title = {"title": {"type": "plain_text_input", "value": "  "}}
    status, body, _ = app.interact(submitted(opened.params["view"], lb_l_title=title))
    assert status == 200
    assert '"lb_l_title": "Give the lesson a short title."' in body
    assert '"lb_l_pillar": "Pick the pillar it serves."' in body
    assert [item for item in rows(app, ContentItem) if item.source == "curated"] == []


def test_a_form_submitted_by_a_non_expert_saves_nothing(app: SlackApp, fake: FakeSlack) -> None:
    app.interact(shortcut(EXPERT))
    [opened] = fake.wait_for("views.open")
    fake.reset()
    pillar = {"pillar": {"type": "static_select", "selected_option": {"value": "efficiency"}}}
    forged = submitted(opened.params["view"], lb_l_pillar=pillar) | {"user": {"id": LEARNER}}
    assert app.interact(forged)[0] == 200
    [told] = fake.wait_for("chat.postMessage")
    assert "Saving messages as micro-lessons is for subject-matter experts" in texts(told.params["blocks"])
    assert [item for item in rows(app, ContentItem) if item.source == "curated"] == []
