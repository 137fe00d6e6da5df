"""'Save as micro-lesson' in Teams over real HTTP against the fake connector: an expert's message action
opens the form prefilled from the message, the saved lesson answers the very next question with
"Curated by …", a learner is refused and a forged submission from one saves nothing, and a bad
submission comes back as the form with the errors and everything typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from bot.app import prepare
from bot.config import Settings
from storage.models import ContentItem, Curation
from tests.conftest import write_config
from tests.teams.fake_connector import FakeConnector, card_text, readable
from tests.teams.harness import CHANNEL, LEARNER, TENANT, TeamsApp, member, teams_settings

EXPERT = "00000000-0000-4000-8000-0000000e0001"
LINK = (
    f"https://teams.microsoft.com/l/message/{CHANNEL}/1700000123456?tenantId=t&parentMessageId=1700000123456"
)
MESSAGE = {
    "id": "1700000123456",
    "replyToId": None,
    "messageType": "message",
    "createdDateTime": "2026-11-30T09:00:00.000Z",
    "importance": "normal",
    "locale": "en-us",
    "linkToMessage": LINK,
    "body": {
        "contentType": "html",
        "content": "<div><p>Refund a duplicate card charge</p><p>Open the order, press <b>Refund</b>, pick "
        'the second charge &amp; tell the customer it lands in 3-5 days.<br>Ask <at id="0">Lee Lead</at> '
        "if it is over £500.</p><script>alert('x')</script></div>",
    },
    "from": {"user": {"id": LEARNER, "displayName": "Ana Learner", "userIdentityType": "aadUser"}},
    "mentions": [
        {"id": 0, "mentionText": "Lee Lead", "mentioned": {"user": {"id": "lee", "displayName": "Lee"}}}
    ],
    "attachments": [],
    "reactions": [],
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeConnector]:
    people = {
        f"29:{LEARNER}": member(LEARNER, "Ana Learner", "ana@example.com"),
        f"29:{EXPERT}": member(EXPERT, "Maria Expert", "maria.expert@example.com"),
    }
    with FakeConnector(members=people) as server:
        yield server


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("teams-curation")
    config = write_config(folder, smes=["maria.expert@example.com"])
    settings = teams_settings(Settings(data_dir=folder / "data", config_path=config))
    prepare(settings)
    return settings


def in_channel(teams: TeamsApp, user: str, name: str) -> dict[str, Any]:
    """What every invoke from the message's … menu in a channel thread carries."""
    conversation = {
        "conversationType": "channel",
        "id": f"{CHANNEL};messageid=1700000123456",
        "isGroup": True,
    }
    return {
        **teams.base(user, conversation, name),
        "type": "invoke",
        "channelData": {"tenant": {"id": TENANT}, "channel": {"id": CHANNEL}, "source": {"name": "message"}},
    }


def fetch_task(teams: TeamsApp, user: str, name: str) -> tuple[int, Any]:
    """'Save as micro-lesson' chosen from a message's … menu: Teams asks for the dialog."""
    activity = {
        **in_channel(teams, user, name),
        "name": "composeExtension/fetchTask",
        "value": {
            "commandId": "saveLesson",
            "commandContext": "message",
            "context": {"theme": "default"},
            "messagePayload": MESSAGE,
        },
    }
    return teams.send(activity)


def submit(teams: TeamsApp, user: str, name: str, card: dict[str, Any], **typed: str) -> tuple[int, Any]:
    """The dialog's Save pressed: Teams sends the Save button's data with every input's current value
    (the form's values unless `typed` changes them)."""
    values = {f["id"]: f.get("value", "") for f in card["body"] if f["type"].startswith("Input.")}
    [save] = card["actions"]
    activity = {
        **in_channel(teams, user, name),
        "name": "composeExtension/submitAction",
        "value": {
            "commandId": "saveLesson",
            "commandContext": "message",
            "context": {"theme": "default"},
            "data": {**save["data"], **values, **typed},
            "messagePayload": MESSAGE,
        },
    }
    return teams.send(activity)


def dialog_card(body: Any) -> dict[str, Any]:
    task = body["task"]
    assert task["type"] == "continue", body
    assert task["value"]["title"] == "Save as micro-lesson"
    attachment = task["value"]["card"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in card["body"] if f["type"].startswith("Input.")}


def curated(teams: TeamsApp) -> list[ContentItem]:
    with teams.router.bot.session() as session:
        return list(session.exec(select(ContentItem).where(ContentItem.source == "curated")))


def test_an_expert_saves_a_teams_message_and_it_answers_the_very_next_question(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    status, body = fetch_task(teams, EXPERT, "Maria Expert")
    assert status == 200
    form = inputs(dialog_card(body))
    assert form["title"]["value"] == "Refund a duplicate card charge"
    summary = form["summary"]["value"]
    assert summary == (  # the HTML as plain text: tags and the script gone, entities read, lines kept
        "Refund a duplicate card charge\n\nOpen the order, press Refund, pick the second charge & tell the "
        "customer it lands in 3-5 days.\nAsk @Lee Lead if it is over £500."
    )
    assert form["summary"]["isMultiline"] is True
    assert [c["value"] for c in form["pillar"]["choices"]] == [
        "customer-trust",
        "efficiency",
        "people-growth",
    ]
    assert [c["title"] for c in form["pillar"]["choices"]][0] == "Customer trust"
    assert {"impact", "skills", "audience"} <= set(form)

    status, body = submit(
        teams,
        EXPERT,
        "Maria Expert",
        dialog_card(body),
        pillar="customer-trust",
        impact="Refunds right first time",
        skills="refunds, billing",
    )
    assert status == 200
    said = readable(card_text(dialog_card(body)))
    assert "Saved Refund a duplicate card charge as a micro-lesson under Customer trust" in said
    [lesson] = curated(teams)
    assert lesson.url == LINK  # the link back to the original message
    assert (lesson.pillar, lesson.impact, lesson.skills) == (
        "customer-trust",
        ["Refunds right first time"],
        ["refunds", "billing"],
    )
    with teams.router.bot.session() as session:
        [curation] = session.exec(select(Curation))
    assert (curation.channel_id, curation.message_id) == (CHANNEL, "1700000123456")
    assert fake.posts() == []  # everything happened in the dialog

    teams.dm("how do I refund a duplicate card charge?")
    [answer] = fake.wait_for(1)
    assert answer.text.splitlines()[0] == "Refund a duplicate card charge"
    assert "Curated by Maria Expert" in answer.text
    assert "[Open the lesson](https://teams.microsoft.com/l/message/" in answer.text


def test_a_learner_is_refused_and_a_forged_submission_saves_nothing(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    before = len(curated(teams))
    status, body = fetch_task(teams, LEARNER, "Ana Learner")
    assert status == 200
    assert body["task"]["type"] == "message"
    assert body["task"]["value"].startswith(
        "Saving messages as micro-lessons is for subject-matter experts and L&D admins."
    )

    _, expert = fetch_task(teams, EXPERT, "Maria Expert")  # the form, as a learner could copy it
    status, body = submit(
        teams, LEARNER, "Ana Learner", dialog_card(expert), title="Learner's own lesson", pillar="efficiency"
    )
    assert status == 200
    assert body["task"]["type"] == "message" and "is for subject-matter experts" in body["task"]["value"]
    assert len(curated(teams)) == before
    assert "Learner's own lesson" not in [item.title for item in curated(teams)]


def test_a_bad_submission_comes_back_as_the_form_with_the_errors_and_what_was_typed(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    before = len(curated(teams))
    _, body = fetch_task(teams, EXPERT, "Maria Expert")
    typed = {
        "title": "   ",
        "summary": "Check the **order** first <at>x</at>",
        "pillar": "world-peace",
        "impact": "Fewer repeat calls",
        "skills": "refunds",
        "audience": "support",
    }
    status, body = submit(teams, EXPERT, "Maria Expert", dialog_card(body), **typed)
    assert status == 200
    card = dialog_card(body)
    form = inputs(card)
    assert form["summary"]["value"] == "Check the **order** first <at>x</at>"  # kept exactly as typed
    assert (form["impact"]["value"], form["skills"]["value"], form["audience"]["value"]) == (
        "Fewer repeat calls",
        "refunds",
        "support",
    )
    assert "value" not in form["pillar"]  # the unknown pillar is not one to pick
    said = readable(card_text(card))
    assert "Nothing was saved yet: please fix what is marked below." in said
    assert "Give the lesson a short title." in said
    assert (
        "I don't know the pillar 'world-peace'. Pick one of: Customer trust, Operational efficiency, "
        "Growing our people." in said
    )
    order = [b.get("id") or readable(b["text"]) for b in card["body"]]
    assert order[order.index("title") + 1] == "Give the lesson a short title."  # each error under its field
    assert order[order.index("pillar") + 1].startswith("I don't know the pillar 'world-peace'.")
    assert card["actions"][0]["data"]["link"] == LINK  # the link back still rides along
    assert len(curated(teams)) == before

    status, body = submit(
        teams, EXPERT, "Maria Expert", card, title="Check the order first", pillar="efficiency"
    )
    assert "Saved Check the order first as a micro-lesson under Operational efficiency" in readable(
        card_text(dialog_card(body))
    )
    assert len(curated(teams)) == before + 1


@pytest.mark.parametrize(
    ("body", "read"),
    [
        ({"contentType": "html", "content": "<p>One<br/>two</p><p>three</p>"}, "One\ntwo\n\nthree"),
        (
            {"contentType": "html", "content": "&lt;b&gt;not bold&lt;/b&gt; &amp; <i>kept</i>"},
            "<b>not bold</b> & kept",
        ),
        (
            {"contentType": "html", "content": "<style>p{}</style>Hi <img alt='😀' itemtype='x/Emoji'>"},
            "Hi 😀",
        ),
        ({"contentType": "text", "content": "a <b> stays\r\n  as   typed"}, "a <b> stays\nas typed"),
        (None, ""),
    ],
)
def test_a_message_body_is_read_as_the_plain_text_a_reader_sees(body: Any, read: str) -> None:
    from bot.adapters.teams.lesson_form import plain_text

    assert plain_text(body) == read
