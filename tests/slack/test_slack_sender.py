"""The outbox's Slack sender against the fake Web API: where each reference leads, what comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.adapters.slack.sender import SlackSender, outbox_client
from bot.config import Settings
from bot.events import ConversationRef, Reply
from bot.markup import Text, bold
from nudges.outbox import DeliveryError, Outbound
from tests.fake_slack import FakeSlack
from tests.slack_harness import texts


@pytest.fixture
def sender(settings: Settings, fake: FakeSlack) -> Iterator[SlackSender]:
    yield SlackSender(outbox_client(settings))


def _out(to: ConversationRef, key: str = "k1") -> Outbound:
    reply = Reply(text=Text("Step 1 on ", bold("Feedback *that* helps"), " <!channel>"))
    return Outbound(key=key, kind="pathway_step", to=to, reply=reply)


def test_a_channel_post_goes_to_the_channel_and_returns_the_ts(sender: SlackSender, fake: FakeSlack) -> None:
    ts = sender.send(_out(ConversationRef("slack", "", channel_id="C0GEN", data={"team": "T0001"})))
    [post] = fake.called("chat.postMessage")
    assert ts == post.response["ts"] and post.params["channel"] == "C0GEN"
    assert texts(post.params["blocks"]) == "Step 1 on *Feedback that helps* &lt;!channel&gt;"
    assert post.params["metadata"] == {"event_type": "learnbot_outbox", "event_payload": {"key": "k1"}}
    assert fake.called("conversations.open") == []


def test_a_dm_uses_the_known_channel_or_opens_one_once(sender: SlackSender, fake: FakeSlack) -> None:
    sender.send(_out(ConversationRef("slack", "U0A", channel_id="D0A")))
    assert fake.called("conversations.open") == []
    sender.send(_out(ConversationRef("slack", "U0B"), key="k2"))
    sender.send(_out(ConversationRef("slack", "U0B"), key="k3"))
    [opened] = fake.called("conversations.open")
    assert opened.params["users"] == "U0B"
    assert [c.params["channel"] for c in fake.called("chat.postMessage")] == ["D0A", "DU0B", "DU0B"]


def test_slack_errors_become_retry_or_give_up(sender: SlackSender, fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(DeliveryError) as limited:
        sender.send(_out(ConversationRef("slack", "", channel_id="C0GEN")))
    assert (limited.value.retry_after, limited.value.permanent) == (7.0, False)
    fake.fail("chat.postMessage", "channel_not_found")
    with pytest.raises(DeliveryError) as gone:
        sender.send(_out(ConversationRef("slack", "", channel_id="C0GONE")))
    assert gone.value.permanent and "channel_not_found" in gone.value.reason
    with pytest.raises(DeliveryError) as nowhere:
        sender.send(_out(ConversationRef("slack", "")))
    assert nowhere.value.permanent


def test_with_several_workspaces_each_message_uses_its_workspaces_token(
    fake: FakeSlack, settings: Settings
) -> None:
    tokens = {"T0002": "xoxb-beta"}
    sender = SlackSender(
        outbox_client(settings.model_copy(update={"slack_bot_token": None})), token_for=tokens.get
    )
    sender.send(_out(ConversationRef("slack", "U0B", data={"team": "T0002"})))
    assert [c.token for c in fake.calls] == ["xoxb-beta", "xoxb-beta"]  # conversations.open, chat.postMessage


def test_a_dropped_answer_is_ambiguous_and_find_reads_the_key_back(
    sender: SlackSender, fake: FakeSlack
) -> None:
    """Finding 4: Slack posted it but the answer was lost; `find` sees the key in the history's metadata."""
    to = ConversationRef("slack", "", channel_id="C0GEN")
    assert sender.find(_out(to, key="k0")) is None  # nothing posted yet
    fake.drop("chat.postMessage")
    with pytest.raises(DeliveryError) as dropped:
        sender.send(_out(to, key="k1"))
    assert dropped.value.ambiguous and not dropped.value.permanent
    sender.send(_out(to, key="k2"))
    [first, second] = fake.called("chat.postMessage")
    assert sender.find(_out(to, key="k1")) == first.response["ts"]
    assert sender.find(_out(to, key="k2")) == second.response["ts"]
    assert sender.find(_out(to, key="k3")) is None
    history = fake.called("conversations.history")
    assert {c.params["channel"] for c in history} == {"C0GEN"}
    assert all(c.params["include_all_metadata"] in ("1", "true") for c in history)


def test_a_refused_connection_is_not_ambiguous_and_a_500_is() -> None:
    refused = SlackSender(
        outbox_client(Settings(slack_bot_token="xoxb-x", slack_api_url="http://127.0.0.1:9/api/"))
    )
    with pytest.raises(DeliveryError) as never_sent:
        refused.send(_out(ConversationRef("slack", "", channel_id="C0GEN")))
    assert not never_sent.value.ambiguous
    with FakeSlack() as fake:
        fake.chaos("chat.postMessage", errors=1.0)
        flaky = SlackSender(outbox_client(Settings(slack_bot_token="xoxb-x", slack_api_url=fake.url)))
        with pytest.raises(DeliveryError) as server_error:
            flaky.send(_out(ConversationRef("slack", "", channel_id="C0GEN")))
    assert server_error.value.ambiguous and not server_error.value.permanent
