"""Who is acting in Slack and what follows from it: the router decides roles from stored org data and
app.yaml, admin commands answer only in private, people named in a message are mentions, the campaign
form submits structured data, and every contact leaves a way to reach the person later."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import prepare
from bot.config import Settings
from storage.models import Campaign, ConversationReference, Enrolment, Identity, Person
from storage.people import set_attributes
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, posted_message, slack_settings, texts

DELEGATE = "how do I delegate work effectively"


@pytest.fixture
def admin_app(make_settings: Callable[..., Settings], fake: FakeSlack, tmp_path: Path) -> Iterator[SlackApp]:
    settings = slack_settings(make_settings(config_path=write_config(tmp_path, admins=["U0ADMIN"])), fake)
    prepare(settings)
    app = SlackApp.start(settings, fake)
    fake.reset()
    yield app
    app.stop()


def _said_in_dm(app: SlackApp, text: str, *, user: str, event_id: str) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": "9.1",
        "channel": "D" + user,
    }
    assert app.event(event, event_id) == 200


def test_a_slack_user_with_direct_reports_in_the_org_data_sees_manager_lessons(
    slack: SlackApp, fake: FakeSlack
) -> None:
    with slack.adapter.router.bot.session() as session:  # a roster: Maria manages Rob, known by email
        maria = Person(display_name="Maria", email="u0mgr@example.com")
        session.add(maria)
        session.flush()
        rob = Person(display_name="Rob", email="rob@example.com")
        session.add(rob)
        session.flush()
        set_attributes(session=session, person=rob, manager_id=maria.id)

    slack.dm(DELEGATE, user="U0LEARNER", event_id="Ev-learner")
    [learner] = fake.wait_for("chat.postMessage")
    assert "Delegate work effectively" not in texts(learner.params["blocks"])  # a manager lesson

    slack.dm(DELEGATE, user="U0MGR", event_id="Ev-manager")  # users.info says u0mgr@example.com
    [_, manager] = fake.wait_for("chat.postMessage", 2)
    assert manager.params["blocks"][0]["text"]["text"] == "Delegate work effectively"
    with slack.adapter.router.bot.session() as session:
        [identity] = session.exec(select(Identity).where(Identity.platform_user_id == "U0MGR")).all()
        assert identity.person_id == maria.id and identity.workspace == "T0001"


def test_an_admin_command_in_a_channel_is_answered_privately_and_leaks_nothing(
    admin_app: SlackApp, fake: FakeSlack
) -> None:
    _said_in_dm(admin_app, "what's on the canteen menu today", user="U0LEARNER", event_id="Ev-gap")
    fake.wait_for("chat.postMessage")
    fake.reset()

    admin_app.mention("gaps", user="U0ADMIN", channel="C0GENERAL", ts="70.1", event_id="Ev-gaps-channel")
    [whisper] = fake.wait_for("chat.postEphemeral")
    assert (whisper.params["channel"], whisper.params["user"]) == ("C0GENERAL", "U0ADMIN")
    assert "direct message" in texts(whisper.params["blocks"])
    admin_app.finish()
    assert fake.called("chat.postMessage") == [] and fake.called("response_url") == []
    assert "wifi" not in json.dumps([call.params for call in fake.calls])

    _said_in_dm(admin_app, "gaps", user="U0ADMIN", event_id="Ev-gaps-dm")
    [answer] = fake.wait_for("chat.postMessage")
    assert answer.params["channel"] == "DU0ADMIN"
    assert "what's on the canteen menu today" in texts(answer.params["blocks"])


def test_an_admin_enrols_a_colleague_named_by_a_slack_mention(admin_app: SlackApp, fake: FakeSlack) -> None:
    admin_app.mention(
        "enrol <@U0SAM|sam> in feedback-culture", user="U0ADMIN", ts="71.1", event_id="Ev-enrol-channel"
    )
    [whisper] = fake.wait_for("chat.postEphemeral")
    assert "direct message" in texts(whisper.params["blocks"])

    _said_in_dm(
        admin_app, "<@UBOT> enrol <@U0SAM|sam> in feedback-culture", user="U0ADMIN", event_id="Ev-enrol-dm"
    )
    [reply] = fake.wait_for("chat.postMessage")
    assert reply.params["channel"] == "DU0ADMIN"
    with admin_app.adapter.router.bot.session() as session:
        [enrolment] = session.exec(select(Enrolment)).all()
        assert (enrolment.pathway_id, enrolment.joined_by) == ("feedback-culture", "admin")
        [sam] = session.exec(select(Identity).where(Identity.person_id == enrolment.user_id)).all()
        assert (sam.platform, sam.platform_user_id) == ("slack", "U0SAM")


def _form(values: dict) -> dict:
    return {"id": "V0002", "type": "modal", "callback_id": "lb_campaign", "state": {"values": values}}


def test_the_announce_form_creates_the_campaign_from_its_fields_and_shows_errors_in_the_form(
    admin_app: SlackApp, fake: FakeSlack
) -> None:
    shortcut = {
        "type": "shortcut",
        "callback_id": "lb_new_campaign",
        "trigger_id": "t9",
        "user": {"id": "U0ADMIN"},
    }
    assert admin_app.interact(shortcut)[0] == 200
    [opened] = fake.wait_for("views.open")
    assert json.loads(opened.params["view"]["private_metadata"]) == {"zone": "Europe/London"}

    values = {
        "lb_c_pathway": {"pathway": {"selected_option": {"value": "feedback-culture"}}},
        "lb_c_channels": {"channels": {"selected_conversations": []}},
        "lb_c_message": {"message": {"value": "Join us <!channel> & <@U0BOSS>"}},
        "lb_c_cron": {"cron": {"value": "mondays"}},
        "lb_c_tz": {"tz": {"value": "Europe/London"}},
    }
    status, body, _ = admin_app.interact(
        {"type": "view_submission", "user": {"id": "U0ADMIN"}, "view": _form(values)}
    )
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {
            "lb_c_channels": "Pick at least one channel.",
            "lb_c_cron": "A cron has five fields like 0 9 * * mon, without quotes.",
        },
    }
    with admin_app.adapter.router.bot.session() as session:
        assert session.exec(select(Campaign).where(Campaign.source != "config")).all() == []

    values["lb_c_channels"] = {"channels": {"selected_conversations": ["C0GENERAL", "C0SALES"]}}
    values["lb_c_cron"] = {"cron": {"value": "0 9 * * mon"}}
    status, body, _ = admin_app.interact(
        {"type": "view_submission", "user": {"id": "U0ADMIN"}, "view": _form(values)}
    )
    assert (status, body) == (200, "")  # the form closes
    [confirmed] = fake.wait_for("chat.postMessage")
    assert confirmed.params["channel"] == "DU0ADMIN"
    assert "will post in #C0GENERAL, #C0SALES on the schedule `0 9 * * mon` (Europe/London)" in texts(
        confirmed.params["blocks"]
    )
    with admin_app.adapter.router.bot.session() as session:
        [campaign] = session.exec(select(Campaign).where(Campaign.source != "config")).all()
    assert (campaign.channels, campaign.cron, campaign.timezone) == (
        ["C0GENERAL", "C0SALES"],
        "0 9 * * mon",
        "Europe/London",
    )
    assert campaign.message == "Join us <!channel> & <@U0BOSS>"  # stored as typed; escaped when posted
    assert (campaign.pathway_id, campaign.platform, campaign.created_by) == (
        "feedback-culture",
        "slack",
        "U0ADMIN",
    )


def _references(app: SlackApp) -> dict[str, ConversationReference]:
    with app.adapter.router.bot.session() as session:
        found = session.exec(
            select(Identity.platform_user_id, ConversationReference).join(
                ConversationReference, ConversationReference.user_id == Identity.person_id
            )
        ).all()
    return {user: ref for user, ref in found}


def test_every_contact_leaves_a_way_to_reach_the_person(slack: SlackApp, fake: FakeSlack) -> None:
    slack.dm("make a pivot table in excel", user="U0DM", event_id="Ev-ref-dm")
    slack.mention("make a pivot table in excel", user="U0MENTION", ts="72.1", event_id="Ev-ref-mention")
    slack.command("make a pivot table in excel", user="U0COMMAND")
    slack.event(
        {"type": "app_home_opened", "user": "U0HOME", "channel": "D0HOME", "tab": "messages"}, "Ev-ref-home"
    )
    answers = fake.wait_for("chat.postMessage", 2)
    fake.wait_for("response_url")
    slack.click(posted_message(answers[0]), "Helpful", user="U0CLICK", channel="D0DM")
    fake.wait_for("chat.update")
    slack.finish()

    refs = _references(slack)
    where = {
        user: (ref.platform, ref.platform_user_id, ref.channel_id, ref.data) for user, ref in refs.items()
    }
    team = {"team": "T0001"}
    assert where == {
        "U0DM": ("slack", "U0DM", "D0DM", team),  # a DM: its channel, so nudges need no conversations.open
        "U0MENTION": ("slack", "U0MENTION", None, team),
        "U0COMMAND": ("slack", "U0COMMAND", None, team),
        "U0HOME": ("slack", "U0HOME", "D0HOME", team),  # App Home opened (its Messages tab is the DM)
        "U0CLICK": ("slack", "U0CLICK", "D0DM", team),
    }
    assert fake.called("views.publish") == []  # the Messages tab needs no Home view
