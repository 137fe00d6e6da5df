"""The outbox's Teams sender against the fake connector: the stored reference leads to the personal chat,
429 and 503 wait for their Retry-After (no attempt used), refusals fail at once, and a row is sent once."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.adapters.teams import TeamsSender
from bot.app import open_bot, prepare
from bot.config import Settings
from bot.events import Button, ConversationRef, Reply
from bot.markup import Text, bold
from nudges.clock import ManualClock
from nudges.outbox import DeliveryError, Dispatcher, Outbound, reply_payload
from storage.models import OutboxMessage
from storage.outbox import enqueue
from storage.people import identify
from tests.conftest import write_config
from tests.nudges.helpers import at
from tests.teams.fake_connector import FakeConnector, buttons
from tests.teams.harness import BOT_ID, TENANT

USER = "00000000-0000-4000-8000-00000000d001"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeConnector]:
    with FakeConnector() as server:
        yield server


@pytest.fixture
def sender(fake: FakeConnector) -> Iterator[TeamsSender]:
    fake.reset()
    teams = TeamsSender(Settings(teams_allow_anonymous=True), timeout=5)
    yield teams
    teams.close()


def ref(fake: FakeConnector, **data: object) -> ConversationRef:
    stored = {
        "service_url": fake.url,
        "tenant_id": TENANT,
        "bot_id": BOT_ID,
        "teams_user_id": f"29:{USER}",
        "conversation_type": "personal",
        **data,
    }
    return ConversationRef("teams", USER, f"a:personal-{USER}", data=stored)


def out(to: ConversationRef, key: str = "k1") -> Outbound:
    reply = Reply(
        text=Text("Step 1 on ", bold("Feedback *that* helps"), " <at>everyone</at>"),
        buttons=(Button("Done", "nudge_done", "7"),),
    )
    return Outbound(key=key, kind="pathway_step", to=to, reply=reply)


def test_a_nudge_goes_to_the_stored_personal_chat_as_a_card(sender: TeamsSender, fake: FakeConnector) -> None:
    sent = sender.send(out(ref(fake)))
    [post] = fake.wait_for(1)
    assert sent == "activity-1" and post.conversation == f"a:personal-{USER}" and post.reply_to is None
    assert post.card["body"][0]["text"] == r"Step 1 on **Feedback \*that\* helps** \<at\>everyone\</at\>"
    assert buttons(post.card) == ["Done"] and post.body["from"]["id"] == BOT_ID
    assert post.authorization is None  # anonymous mode: no token to a local fake


def test_connector_errors_become_retry_later_or_give_up(sender: TeamsSender, fake: FakeConnector) -> None:
    fake.fail(429, retry_after="7")
    with pytest.raises(DeliveryError) as limited:
        sender.send(out(ref(fake)))
    assert (limited.value.retry_after, limited.value.permanent, limited.value.ambiguous) == (
        7.0,
        False,
        False,
    )
    fake.fail(503, retry_after="3")
    with pytest.raises(DeliveryError) as unavailable:
        sender.send(out(ref(fake)))
    assert (unavailable.value.retry_after, unavailable.value.ambiguous) == (3.0, True)
    fake.fail(403)
    with pytest.raises(DeliveryError) as removed:
        sender.send(out(ref(fake)))
    assert removed.value.permanent and "403" in removed.value.reason
    fake.fail(500)
    with pytest.raises(DeliveryError) as broken:
        sender.send(out(ref(fake)))
    assert broken.value.ambiguous and not broken.value.permanent
    with pytest.raises(DeliveryError) as nowhere:
        sender.send(out(ref(fake, service_url=None)))
    assert nowhere.value.permanent and "service URL" in nowhere.value.reason
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(DeliveryError) as refused:
        sender.send(out(ref(fake, service_url=f"http://127.0.0.1:{closed}/")))
    assert not refused.value.ambiguous and not refused.value.permanent  # never connected: nothing sent
    assert fake.posts() == []


def test_a_rate_limited_row_waits_for_retry_after_then_arrives_once(
    sender: TeamsSender, fake: FakeConnector, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", config_path=write_config(tmp_path))
    prepare(settings)
    bot = open_bot(settings)
    now = at("2026-11-30T09:00:00Z")
    clock = ManualClock(now)
    with bot.session() as session:
        person = identify(session=session, platform="teams", platform_user_id=USER, now=now)
        to = ref(fake)
        payload = reply_payload(out(to).reply, to=to)
        enqueue(
            session=session,
            key="step:1",
            platform="teams",
            kind="pathway_step",
            payload=payload,
            due_at=now,
            user_id=person.id,
            channel_id=to.channel_id,
        )
    dispatcher = Dispatcher(bot.engine, {"teams": sender}, clock, pause=lambda _: None)
    try:
        fake.fail(429, retry_after="30", count=1)
        first = dispatcher.drain()
        assert (first.sent, first.deferred, first.failed) == (0, 1, 0)
        with bot.session() as session:
            [row] = session.exec(select(OutboxMessage))
            assert row.attempts == 0 and row.status == "pending"
            assert row.due_at.replace(tzinfo=dt.UTC) >= now + dt.timedelta(seconds=30)
        clock.set(now + dt.timedelta(seconds=31))
        assert dispatcher.drain().sent == 1
        clock.set(now + dt.timedelta(minutes=10))
        assert dispatcher.drain().sent == 0
    finally:
        dispatcher.close()
        bot.engine.dispose()
    assert len(fake.posts()) == 1
