"""When Slack pushes back: 429s are retried after Retry-After (a bounded number of times), errors are
explained to the person, long content is cut to Block Kit's limits; and passive help stays quiet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from bot.app import prepare
from bot.config import Settings
from storage.models import Question
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, rows, slack_settings, texts

PEER = "how do I give feedback to a peer"


def test_a_429_is_retried_after_retry_after(slack: SlackApp, fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", retry_after=1)
    slack.mention(PEER, ts="20.1", event_id="Ev-429")
    [limited, posted] = fake.wait_for("chat.postMessage", 2, timeout=8)
    assert posted.at - limited.at >= 1.0
    assert posted.params["thread_ts"] == "20.1"
    assert "Give useful feedback to a peer" in texts(posted.params["blocks"])


def test_retries_are_bounded_and_the_person_is_told(slack: SlackApp, fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", retry_after=0, times=4)
    slack.mention(PEER, ts="21.1", event_id="Ev-429-again")
    calls = fake.wait_for("chat.postMessage", 5, timeout=10)
    slack.finish()
    assert len(fake.called("chat.postMessage")) == 5  # 1 try + 3 retries, then the note below
    told = calls[-1]
    assert told.params["channel"] == "DU0LEARNER"
    assert "Slack is rate-limiting me right now" in told.params["text"]


def test_a_slack_error_is_explained_instead_of_silence(slack: SlackApp, fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", "not_in_channel")
    slack.mention(PEER, ts="22.1", event_id="Ev-not-in")
    [_, told] = fake.wait_for("chat.postMessage", 2)
    assert told.params["channel"] == "DU0LEARNER"
    assert "I couldn't post in <#C0SALES> because I'm not a member" in told.params["text"]


def test_an_experts_channel_i_am_not_in_is_explained(slack: SlackApp, fake: FakeSlack) -> None:
    slack.dm("what's on the canteen menu today", event_id="Ev-gap")
    [answer] = fake.wait_for("chat.postMessage")
    fake.fail("chat.postMessage", "channel_not_found")
    slack.click(answer.params | {"ts": answer.response["ts"]}, "Ask the experts", channel="D0DM")
    [told] = fake.wait_for("response_url")
    assert told.params["response_type"] == "ephemeral"
    assert "I couldn't post in the experts channel (Slack said: channel_not_found)" in told.params["text"]
    slack.finish()
    assert fake.called("chat.update") == []  # no "I've asked the experts" when that failed


def test_a_very_long_question_is_cut_to_fit_and_still_posted(slack: SlackApp, fake: FakeSlack) -> None:
    question = "why " + "is the canteen menu so boring today " * 120
    slack.dm(question, event_id="Ev-long")
    [call] = fake.wait_for("chat.postMessage")
    for block in call.params["blocks"]:
        Block.parse(block).validate_json()  # slack_sdk's own Block Kit limits
    quoted = call.params["blocks"][1]["text"]["text"]
    assert len(quoted) == 3000 and quoted.endswith("…")
    assert len(call.params["text"]) <= 3000
    [stored] = rows(slack, Question)
    assert stored.text == question.strip()  # stored whole; only the message is cut


# ---- passive help ----


@pytest.fixture
def passive(
    make_settings: Callable[..., Settings], fake: FakeSlack, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[SlackApp]:
    reply_as = getattr(request, "param", "thread")
    policy = {
        "channels": ["C0HELP"],
        "reply_as": reply_as,
        "per_channel_minutes": 30,
        "per_user_minutes": 240,
    }
    config = write_config(tmp_path, passive_help=policy)
    settings = slack_settings(make_settings(config_path=config), fake)
    prepare(settings)
    app = SlackApp.start(settings, fake)
    fake.reset()
    yield app
    app.stop()


def _said(app: SlackApp, text: str, *, user: str, channel: str = "C0HELP", ts: str, event_id: str) -> None:
    event = {
        "type": "message",
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
    }
    assert app.event(event | {"channel": channel}, event_id) == 200


def test_passive_help_suggests_once_then_keeps_quiet(passive: SlackApp, fake: FakeSlack) -> None:
    _said(passive, "how do I give feedback to a peer?", user="U0ONE", ts="30.1", event_id="Ev-p1")
    [call] = fake.wait_for("chat.postMessage")
    assert call.params["thread_ts"] == "30.1"
    shown = texts(call.params["blocks"])
    assert "This lesson might help" in shown and "Give useful feedback to a peer" in shown

    _said(passive, "how do I give feedback to my peer?", user="U0TWO", ts="31.1", event_id="Ev-p2")
    _said(passive, "how do I share my outlook calendar?", user="U0ONE", ts="32.1", event_id="Ev-p3")
    _said(
        passive,
        "how do I give feedback to a peer?",
        user="U0ONE",
        channel="C0OTHER",
        ts="1.2",
        event_id="Ev-p4",
    )
    passive.finish()
    assert len(fake.called("chat.postMessage")) == 1  # channel window, person window, not opted in


def test_passive_help_ignores_chatter_and_mentions(passive: SlackApp, fake: FakeSlack) -> None:
    _said(passive, "thanks all, great meeting", user="U0ONE", ts="33.1", event_id="Ev-p5")
    _said(passive, "<@UBOT> how do I give feedback to a peer?", user="U0ONE", ts="1.3", event_id="Ev-p6")
    passive.finish()
    assert fake.called("chat.postMessage") == [] and fake.called("chat.postEphemeral") == []


@pytest.mark.parametrize("passive", ["ephemeral"], indirect=True)
def test_passive_help_can_whisper_instead(passive: SlackApp, fake: FakeSlack) -> None:
    _said(passive, "how do I give feedback to a peer?", user="U0ONE", ts="34.1", event_id="Ev-p7")
    [call] = fake.wait_for("chat.postEphemeral")
    assert (call.params["user"], call.params["thread_ts"]) == ("U0ONE", "34.1")
    assert fake.called("chat.postMessage") == []


def test_passive_help_is_off_by_default(slack: SlackApp, fake: FakeSlack) -> None:
    _said(slack, "how do I give feedback to a peer?", user="U0ONE", ts="35.1", event_id="Ev-p8")
    slack.finish()
    assert fake.calls == []
    assert rows(slack, Question) == []
