"""Answer buttons belong to the asker, and every button value is checked (findings 12 and 13).

Anyone in a channel can press the buttons under someone else's answer: they get a private
note, nothing is stored for them on the asker's question and the asker's message is not
rewritten. Add to my pathway still works for the clicker, privately. A value sent by hand
(Slack lets a client post any button value) gets a clear message, never a crash or a row on
someone else's question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import select

from bot.app import prepare
from bot.config import Settings
from storage.models import CampaignEvent, Enrolment, Feedback, Identity, Question, Rating
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, posted_message, rows, slack_settings, texts

PEER = "how do I give feedback to a peer"
HUGE = "1" * 26


@pytest.fixture
def app(make_settings: Callable[..., Settings], fake: FakeSlack, db_url: str) -> Iterator[SlackApp]:
    settings = slack_settings(make_settings(database_url=db_url), fake)
    prepare(settings)
    started = SlackApp.start(settings, fake)
    fake.reset()
    yield started
    started.stop()


def _asked(app: SlackApp, fake: FakeSlack) -> dict[str, Any]:
    """U0LEARNER asks in #sales; the answer as Slack stores it."""
    app.mention(PEER, ts="40.1", event_id="Ev-asked")
    app.finish()
    [answer] = fake.called("chat.postMessage")
    fake.reset()
    return posted_message(answer)


def _press(app: SlackApp, name: str, value: str, *, user: str = "U0LEARNER") -> str:
    """A click with any value (as a tampering client could send it); returns what the clicker is told."""
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "container": {
            "type": "message",
            "message_ts": "40.2",
            "channel_id": "C0SALES",
            "is_ephemeral": False,
        },
        "channel": {"id": "C0SALES"},
        "message": {"ts": "40.2", "thread_ts": "40.1", "blocks": []},
        "response_url": app.fake.response_url("tampered"),
        "actions": [{"type": "button", "action_id": f"lb:{name}:0", "value": value, "text": {"text": name}}],
    }
    assert app.interact(payload)[0] == 200
    app.finish()
    said = [c for c in app.fake.calls if c.method in ("response_url", "chat.postEphemeral", "chat.update")]
    app.fake.reset()
    return "\n".join(texts(call.params.get("blocks") or []) or call.params.get("text", "") for call in said)


def _person(app: SlackApp, user: str) -> int:
    with app.adapter.router.bot.session() as session:
        identity = session.exec(select(Identity).where(Identity.platform_user_id == user)).one()
        return identity.person_id


@pytest.mark.parametrize("label", ["Helpful", "Not helpful", "Rate"])
def test_someone_elses_answer_buttons_only_get_a_private_note(
    app: SlackApp, fake: FakeSlack, label: str
) -> None:
    answer = _asked(app, fake)
    assert app.click(answer, label, user="U0OTHER")[0] == 200
    app.finish()
    [note] = fake.called("response_url")
    assert note.params["response_type"] == "ephemeral"
    assert "for the person who asked" in note.params["text"]
    assert fake.called("chat.update") == [] and fake.called("chat.postMessage") == []
    assert rows(app, Feedback) == []


def test_only_the_asker_can_send_their_question_to_the_experts(app: SlackApp, fake: FakeSlack) -> None:
    app.mention("what's on the canteen menu today", ts="41.1", event_id="Ev-gap")
    app.finish()
    [gap] = fake.called("chat.postMessage")
    fake.reset()
    app.click(posted_message(gap), "Ask the experts", user="U0OTHER")
    app.finish()
    [note] = fake.called("response_url")
    assert "Only the person who asked can send this question to the experts" in note.params["text"]
    assert fake.called("chat.postMessage") == [] and fake.called("chat.update") == []


def test_add_to_my_pathway_from_someone_elses_answer_is_for_the_clicker_privately(
    app: SlackApp, fake: FakeSlack
) -> None:
    answer = _asked(app, fake)
    app.click(answer, "Add to my pathway", user="U0OTHER")
    app.finish()
    [note] = fake.called("response_url")
    assert note.params["response_type"] == "ephemeral"
    assert "Added to your pathway" in texts(note.params["blocks"])
    assert fake.called("chat.update") == []
    [enrolment] = rows(app, Enrolment)
    assert enrolment.user_id == _person(app, "U0OTHER")


def test_the_asker_still_rewrites_their_own_answer(app: SlackApp, fake: FakeSlack) -> None:
    answer = _asked(app, fake)
    app.click(answer, "Helpful")
    app.finish()
    [update] = fake.called("chat.update")
    assert "Glad it helped!" in texts(update.params["blocks"])
    [feedback] = rows(app, Feedback)
    [question] = rows(app, Question)
    assert feedback.user_id == question.user_id == _person(app, "U0LEARNER")


def test_ratings_count_once_per_person_per_lesson(app: SlackApp, fake: FakeSlack) -> None:
    _asked(app, fake)
    [question] = rows(app, Question)
    for score in ("1", "2", "4", "5"):
        said = _press(app, "rate", f"{question.id}|give-peer-feedback|{score}|{score}")
        assert f"relevance to your role {score}/5" in said
    [rating] = rows(app, Rating)
    assert (rating.role_relevance, rating.strategic_clarity) == (5, 5)


def test_tampered_button_values_get_clear_messages(app: SlackApp, fake: FakeSlack) -> None:
    _asked(app, fake)
    [question] = rows(app, Question)
    mine = f"{question.id}|give-peer-feedback"
    told = {
        "unknown question": _press(app, "helpful", "99999|give-peer-feedback"),
        "26 digits": _press(app, "not_helpful", f"{HUGE}|give-peer-feedback"),
        "26 digits, experts": _press(app, "ask_experts", HUGE),
        "26 digits, rating": _press(app, "rate", f"{HUGE}|give-peer-feedback|5|5"),
        "26 digits, pathway": _press(app, "add_to_pathway", f"{HUGE}|give-peer-feedback"),
        "a lesson never shown": _press(app, "helpful", f"{question.id}|excel-pivot-tables"),
    }
    assert "couldn't find that question" in told["unknown question"]
    for key in ("26 digits", "26 digits, rating", "26 digits, pathway"):
        assert "couldn't find that question" in told[key], key
    assert "couldn't find that question" in told["26 digits, experts"]
    assert "couldn't tell which answer" in told["a lesson never shown"]
    assert "for the person who asked" in _press(app, "helpful", mine, user="U0OTHER")
    assert "for the person who asked" in _press(app, "rate", f"{mine}|3|3", user="U0OTHER")
    assert "something went wrong" not in "\n".join(told.values())
    assert rows(app, Feedback) == [] and rows(app, Enrolment) == [] and rows(app, Rating) == []


def test_joining_respects_the_pathways_audience_and_campaigns_must_exist(
    app: SlackApp, fake: FakeSlack
) -> None:
    _asked(app, fake)
    assert "isn't open to you" in _press(app, "join_pathway", "first-contact-resolution")
    assert "no longer running" in _press(app, "join_pathway", "no-such-pathway")
    assert "don't know that campaign" in _press(app, "campaign_join", "no-such-campaign|feedback-culture")
    assert "don't know that campaign" in _press(app, "campaign_details", f"{HUGE}|feedback-culture")
    assert rows(app, Enrolment) == [] and rows(app, CampaignEvent) == []
    assert "Added to your pathway" in _press(app, "join_pathway", "feedback-culture")  # open to everyone
    [enrolment] = rows(app, Enrolment)
    assert enrolment.pathway_id == "feedback-culture"
