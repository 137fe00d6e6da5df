"""Conversations in Teams over real HTTP against the fake connector: the Done-when conversation (ask →
card → Not helpful → next-best → Add to my pathway → a nudge arrives when the clock moves → Done), a
channel @mention answered in its reply chain, every card button, stale and tampered clicks, installs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.adapters.teams import TeamsSender
from bot.config import Settings
from bot.events import ConversationRef, Reply
from nudges.clock import ManualClock
from nudges.outbox import DeliveryError, Outbound
from nudges.scheduler import run_tick
from storage.models import (
    Campaign,
    ConversationReference,
    Enrolment,
    Feedback,
    Identity,
    Question,
    StepProgress,
)
from tests.nudges.helpers import at
from tests.teams.conftest import ADMIN, SME_CHANNEL
from tests.teams.fake_connector import FakeConnector, buttons, card_text
from tests.teams.harness import CHANNEL, LEARNER, OTHER, TeamsApp

PEER = "how do I give feedback to a peer"


def rows(teams: TeamsApp, model: type) -> list:
    with teams.router.bot.session() as session:
        return list(session.exec(select(model)))


def person_of(teams: TeamsApp, aad: str) -> int:
    with teams.router.bot.session() as session:
        [identity] = session.exec(select(Identity).where(Identity.platform_user_id == aad))
        return identity.person_id


def new_user(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def test_ask_not_helpful_next_best_add_to_pathway_then_the_nudge_arrives_and_done_is_recorded(
    teams: TeamsApp, fake: FakeConnector, settings: Settings
) -> None:
    bot = teams.router.bot
    monday = at("2026-11-30T10:00:00Z")
    bot.clock = ManualClock(monday)

    status, _ = teams.dm(PEER)
    assert status == 202  # acknowledged at once; the answer follows through the connector
    [answer] = fake.wait_for(1)
    assert answer.method == "POST" and answer.path.endswith(f"/a:personal-{LEARNER}/activities")
    assert answer.text.splitlines()[0] == "Give useful feedback to a peer"
    assert "Why it matters: Growing our people — Builds the feedback culture" in answer.text
    assert "⏱ 5 min · [Open the lesson](https://learn.example.com/lessons/give-peer-feedback)" in answer.text
    assert buttons(answer.card) == ["Helpful", "Not helpful", "Rate", "Add to my pathway"]
    assert all(a["type"] == "Action.Execute" for a in answer.card["actions"])

    status, body = teams.click(answer.card, "Not helpful")
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    clicked = body["value"]  # the clicked card, replaced in place: the lesson stays, the choice shows
    assert "Give useful feedback to a peer" in clicked["body"][0]["text"]
    assert clicked["body"][-1]["text"] == "You chose **Not helpful**."
    assert "actions" not in clicked
    teams.finish()
    [_, next_best] = fake.wait_for(2)
    assert next_best.text.startswith("Thanks, noted. Here's the next-best lesson I have:")
    assert "Give useful feedback to a peer" not in next_best.text
    assert buttons(next_best.card)[:2] == ["Helpful", "Not helpful"]
    learner = person_of(teams, LEARNER)
    [feedback] = [f for f in rows(teams, Feedback) if f.user_id == learner]
    [question] = [q for q in rows(teams, Question) if q.user_id == learner]
    assert (feedback.verdict, feedback.content_id, question.platform) == (
        "not_helpful",
        "give-peer-feedback",
        "teams",
    )

    status, body = teams.click(next_best.card, "Add to my pathway", message_id="activity-2")
    assert status == 200 and body["value"]["body"][-1]["text"] == "You chose **Add to my pathway**."
    teams.finish()
    offers = fake.wait_for(3)[2]
    assert offers.text.startswith("Giving and Receiving Feedback isn't a step of a learning pathway yet.")
    assert buttons(offers.card) == ["Join Feedback that helps", "Join Automate the boring stuff"]

    status, body = teams.click(offers.card, "Join Feedback that helps", message_id="activity-3")
    assert status == 200
    teams.finish()
    joined = "\n".join(block["text"] for block in body["value"]["body"])
    assert "I'll remind you of the next step every 7 days." in joined
    [enrolment] = [e for e in rows(teams, Enrolment) if e.user_id == learner]
    [reference] = [r for r in rows(teams, ConversationReference) if r.user_id == learner]
    assert (reference.platform, reference.channel_id) == ("teams", f"a:personal-{LEARNER}")
    assert reference.data["service_url"] == fake.url

    # The promise: the next step arrives through the outbox, in the stored personal chat, when it is due.
    fake.reset()
    sender = TeamsSender(settings)
    try:
        assert run_tick(bot, {"teams": sender}, at=monday + dt.timedelta(days=6)).dispatch.sent == 0
        sent = run_tick(bot, {"teams": sender}, at=monday + dt.timedelta(days=7)).dispatch.sent
        assert sent == 1
    finally:
        sender.close()
    [nudge] = fake.wait_for(1)
    assert nudge.path.endswith(f"/a:personal-{LEARNER}/activities") and nudge.authorization is None
    assert "on your pathway" in nudge.text
    assert buttons(nudge.card) == ["Start", "Done", "Snooze", "Not now", "Stop nudges"]

    status, body = teams.click(nudge.card, "Start", message_id="activity-9")
    started = body["value"]
    assert "Enjoy **Give useful feedback to a peer**!" in "\n".join(b["text"] for b in started["body"])
    assert "Done" in buttons(started)

    status, body = teams.click(started, "Done", message_id="activity-9")
    assert status == 200
    done = "\n".join(block["text"] for block in body["value"]["body"])
    assert "Nice work:" in done and "is done" in done
    teams.finish()
    completed = [p for p in rows(teams, StepProgress) if p.completed_at is not None]
    assert [p.enrolment_id for p in completed] == [enrolment.id]
    teams.router.bot.clock = ManualClock(monday)  # the nudge tick moved it on: back for the next test


def test_a_channel_mention_is_answered_in_its_reply_chain_and_helpful_updates_the_card(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    user = new_user(101)
    status, _ = teams.mention("how do I make a pivot table in excel", user=user, root="1700000000555001")
    assert status == 202
    [answer] = fake.wait_for(1)
    assert answer.conversation == f"{CHANNEL};messageid=1700000000555001"
    assert answer.reply_to == "1700000000555001"  # POST …/activities/{root}: in the mention's reply chain
    assert "Summarise data with Excel pivot tables" in answer.text
    [question] = [q for q in rows(teams, Question) if q.user_id == person_of(teams, user)]
    assert question.text == "how do I make a pivot table in excel"  # learnbot's own mention removed
    [lookup] = [c for c in fake.calls if c.method == "GET"]
    assert lookup.path == f"/v3/conversations/{CHANNEL}/members/29:{user}"  # the channel's members

    channel = {"conversationType": "channel", "id": answer.conversation, "isGroup": True}
    status, body = teams.click(answer.card, "Helpful", user=user, conversation=channel)
    assert status == 200
    card = body["value"]
    texts = [block["text"] for block in card["body"]]
    assert texts[0] == "Summarise data with Excel pivot tables"  # the lesson stays
    assert "Glad it helped!" in texts[-1]
    assert buttons(card) == ["Rate", "Add to my pathway"]
    assert [f.verdict for f in rows(teams, Feedback) if f.user_id == person_of(teams, user)] == ["helpful"]

    status, body = teams.click(card, "Rate", user=user, conversation=channel)
    assert "How relevant is **Summarise data with Excel pivot tables** to your role?" in str(body)
    assert buttons(body["value"]) == ["1", "2", "3", "4", "5"]
    status, body = teams.click(body["value"], "4", user=user, conversation=channel)
    assert "And how clearly does it show which company goal it serves?" in str(body)
    status, body = teams.click(body["value"], "5", user=user, conversation=channel)
    assert "relevance to your role 4/5, strategic clarity 5/5" in str(body)
    teams.finish()
    assert len(fake.posts()) == 1  # every click changed the card in place; nothing else was posted


def test_someone_elses_buttons_stale_and_tampered_clicks_get_a_private_note(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    owner = new_user(201)
    teams.dm("how do I give feedback to a peer", user=owner)
    [answer] = fake.wait_for(1)

    status, body = teams.click(answer.card, "Helpful", user=OTHER)
    assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"].startswith("Those buttons are for the person who asked")
    assert [f for f in rows(teams, Feedback) if f.user_id == person_of(teams, owner)] == []

    stale = {"type": "Action.Execute", "verb": "lb:retired_button", "data": {"lb": "retired_button"}}
    status, body = teams.invoke(stale, user=owner)
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Sorry, that button no longer works. Ask me again and I'll find you a lesson.",
    }
    foreign = {"type": "Action.Execute", "verb": "someOtherAppVerb"}
    assert "no longer works" in teams.invoke(foreign, user=owner)[1]["value"]

    tampered = next(a for a in answer.card["actions"] if a["title"] == "Helpful")
    tampered = {**tampered, "data": {**tampered["data"], "value": "999999|give-peer-feedback"}}
    status, body = teams.invoke(tampered, user=owner)
    assert body["value"] == "Sorry, I couldn't find that question any more. Please ask it again."
    teams.finish()
    assert len(fake.posts()) == 1


def test_no_lesson_then_ask_the_experts_posts_in_the_experts_channel_escaped(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    user = new_user(301)
    question = "what's on the canteen menu today **<at>everyone</at>** [x](http://evil.example)"
    teams.dm(question, user=user)
    [answer] = fake.wait_for(1)
    assert "I don't have a lesson for that yet" in answer.text
    shown = "\n".join(block["text"] for block in answer.card["body"] if block["type"] == "TextBlock")
    quoted = answer.card["body"][1]["items"][0]["text"]  # the question, as typed, in a quote box
    assert quoted == r"what's on the canteen menu today \*\*@everyone\*\* \[x\](http://evil.example)"
    assert "entities" not in answer.card["msteams"] and "[x](http" not in shown + quoted
    assert "Ask the experts" in buttons(answer.card)

    status, body = teams.click(answer.card, "Ask the experts", user=user)
    assert status == 200
    assert "I've asked the experts in #19:experts@thread.tacv2." in body["value"]["body"][-1]["text"]
    teams.finish()
    [_, experts] = fake.wait_for(2)
    assert experts.conversation == SME_CHANNEL and experts.reply_to is None
    assert "what's on the canteen menu today" in experts.text
    assert experts.card["msteams"]["entities"][0]["mentioned"]["id"] == user  # "From @…" names the asker


def test_an_admin_announces_a_campaign_in_a_teams_channel_it_is_posted_and_a_learner_joins(
    teams: TeamsApp, fake: FakeConnector, settings: Settings
) -> None:
    bot = teams.router.bot
    bot.clock = ManualClock(at("2026-12-01T10:00:00Z"))
    sales = "19:sales@thread.tacv2"
    announce = {
        **teams.base(ADMIN, teams.personal(ADMIN), "Ada Admin"),
        "type": "message",
        "text": "announce feedback-culture in <at>Sales</at>: Feedback week starts now!",
        "entities": [
            {"type": "mention", "text": "<at>Sales</at>", "mentioned": {"id": sales, "name": "Sales"}}
        ],
    }
    assert teams.send(announce)[0] == 202
    [confirmed] = fake.wait_for(1)
    assert "will post in #Sales now" in confirmed.text
    teams.finish()

    fake.reset()
    sender = TeamsSender(settings, engine=bot.engine)
    try:
        assert run_tick(bot, {"teams": sender}, at=at("2026-12-01T10:01:00Z")).campaign_posts == 1
    finally:
        sender.close()
    [post] = fake.wait_for(1)
    assert post.path == "/v3/conversations" and post.conversation == sales  # a new thread in the channel
    assert post.text.startswith("📣 Feedback that helps\nFeedback week starts now!")
    assert buttons(post.card) == ["Join Feedback that helps", "What's in it?"]

    joiner = new_user(401)
    thread = {"conversationType": "channel", "id": f"{sales};messageid=1", "isGroup": True}
    status, body = teams.click(post.card, "Join Feedback that helps", user=joiner, conversation=thread)
    assert status == 200 and "Feedback that helps" in str(body)
    assert [e.pathway_id for e in rows(teams, Enrolment) if e.user_id == person_of(teams, joiner)] == [
        "feedback-culture"
    ]
    with bot.session() as session:
        [campaign] = session.exec(select(Campaign))
    assert (campaign.platform, campaign.channels) == ("teams", [sales])


def test_a_channel_typed_as_a_name_in_teams_is_refused_before_anything_is_promised(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    announce = {
        **teams.base(ADMIN, teams.personal(ADMIN), "Ada Admin"),
        "type": "message",
        "text": "announce feedback-culture in #general: Feedback week starts now!",
    }
    assert teams.send(announce)[0] == 202
    [refused] = fake.wait_for(1)
    assert "name the channel by mentioning it (@general), not as #general" in refused.text
    assert "will post" not in refused.text
    teams.finish()
    assert not [c for c in rows(teams, Campaign) if "general" in c.channels]


def test_a_campaign_channel_that_is_not_a_teams_channel_fails_plainly(
    settings: Settings, fake: FakeConnector
) -> None:
    sender = TeamsSender(settings)
    try:
        to = ConversationRef("teams", "", channel_id="general")
        with pytest.raises(DeliveryError) as refused:
            sender.send(Outbound(key="c1", kind="campaign", to=to, reply=Reply(text="hi")))
    finally:
        sender.close()
    assert refused.value.permanent and "is not a Teams channel id (19:…@thread…)" in refused.value.reason


def test_installing_learnbot_remembers_the_personal_chat_for_later(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    user = new_user(501)
    status, _ = teams.install(user=user)
    assert status == 202
    teams.finish()
    [reference] = [r for r in rows(teams, ConversationReference) if r.platform_user_id == user]
    assert reference.channel_id == f"a:personal-{user}"
    assert reference.data["service_url"] == fake.url and reference.data["bot_id"] == "28:learnbot-app-id"
    assert fake.posts() == []  # an install says nothing it cannot keep


def test_bad_requests_get_clear_errors_and_nothing_is_stored(teams: TeamsApp, fake: FakeConnector) -> None:
    from tests.teams.harness import post_json

    before = len(rows(teams, Question))
    assert post_json(teams.url, b"{not json") == (400, {"error": "the body is not JSON"})
    assert post_json(teams.url, {"type": "message", "text": "hi"})[0] == 400
    assert post_json(teams.url, b"x" * (300 * 1024))[0] == 413
    assert post_json(teams.served.url + "/api/other", {})[0] == 404
    assert len(rows(teams, Question)) == before and fake.posts() == []


def test_when_the_queue_is_full_the_person_is_told_at_once(teams: TeamsApp, fake: FakeConnector) -> None:
    work = teams.served.teams.work
    work.capacity = 0
    try:
        status, _ = teams.dm("how do I give feedback to a peer", user=new_user(601))
    finally:
        work.capacity = 1000
    assert status == 202
    [busy] = fake.wait_for(1)
    assert busy.text == "I'm busy right now, so I couldn't do that. Please try again in a minute."


def test_find_a_lesson_in_the_compose_box_lists_lessons_to_share(
    teams: TeamsApp, fake: FakeConnector
) -> None:
    user = new_user(701)
    search = {
        **teams.base(user, teams.personal(user)),
        "type": "invoke",
        "name": "composeExtension/query",
        "value": {"commandId": "findLesson", "parameters": [{"name": "query", "value": "pivot table"}]},
    }
    status, body = teams.send(search)
    assert status == 200
    results = body["composeExtension"]
    assert results["type"] == "result" and results["attachmentLayout"] == "list"
    first = results["attachments"][0]
    assert first["preview"]["content"]["title"] == "Summarise data with Excel pivot tables"
    assert first["contentType"] == "application/vnd.microsoft.card.adaptive"
    shared = card_text(first["content"])
    assert "Summarise data with Excel pivot tables" in shared and "[Open the lesson](" in shared
    assert "actions" not in first["content"]  # a shared lesson has no one's feedback buttons

    initial = {
        **search,
        "value": {"commandId": "findLesson", "parameters": [{"name": "initialRun", "value": "true"}]},
    }
    status, body = teams.send(initial)
    assert body["composeExtension"] == {
        "type": "message",
        "text": "Type what you want to learn, e.g. give feedback to a peer.",
    }
    assert fake.posts() == []


def test_a_delivery_teams_retries_is_answered_once(teams: TeamsApp, fake: FakeConnector) -> None:
    user = new_user(801)
    message = {
        **teams.base(user, teams.personal(user)),
        "type": "message",
        "text": "how do I give feedback to a peer",
    }
    assert teams.send(message)[0] == 202
    assert teams.send(message)[0] == 202  # Teams thought the first delivery failed and sent it again
    teams.finish()
    assert len(fake.posts()) == 1
    assert len([q for q in rows(teams, Question) if q.user_id == person_of(teams, user)]) == 1
