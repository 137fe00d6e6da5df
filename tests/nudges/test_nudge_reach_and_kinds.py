"""Where nudges go and what the planner plans: the platform a person used last (or chose), people
learnbot cannot reach yet, and a new kind of nudge registered without touching the planner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.app import LearnBot, prepare
from bot.cli import main
from bot.config import Settings
from bot.events import Action, Button, ConversationRef, Incoming, Reply
from bot.router import Router
from nudges.kinds import KINDS, Message, Pending, Planning
from nudges.outbox import MemorySender
from nudges.planner import plan
from nudges.scheduler import run_tick
from nudges.status import lines, summary
from storage.models import OutboxMessage, Person
from storage.people import identify, remember_reference
from storage.preferences import set_opted_out
from tests.conftest import write_config
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at, console, person

MONDAY = at("2026-11-30T09:00:00Z")


def _someone(
    bot: LearnBot,
    email: str,
    contacts: Iterable[tuple[str, str, str | None, dt.datetime]],
    *,
    preferred: str | None = None,
) -> int:
    """A person who talked to learnbot on each (platform, user id, conversation, when), linked by email."""
    with bot.session() as session:
        for platform, user_id, conversation, when in contacts:
            found = identify(
                session=session, platform=platform, platform_user_id=user_id, email=email, now=when
            )
            session.flush()
            assert found.id is not None
            if conversation is not None:
                remember_reference(
                    session=session,
                    person_id=found.id,
                    platform=platform,
                    platform_user_id=user_id,
                    channel_id=conversation,
                    data={"service_url": "https://smba.example/emea/"} if platform == "teams" else {},
                    now=when,
                )
        found.preferred_platform = preferred
        session.add(found)
        assert found.id is not None
        return found.id


def _enrol(bot: LearnBot, who: str, pathway: str = "feedback-culture") -> None:
    admin = Incoming(
        platform="console", user_id="console-admin", text=f"enrol {who} in {pathway}", channel_id="d"
    )
    [reply] = Router(bot).on_message(admin)
    assert reply.text.startswith("Enrolled"), reply.text


def _rows(bot: LearnBot) -> list[OutboxMessage]:
    with bot.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_a_nudge_goes_to_the_platform_used_last_unless_the_person_chose_one(
    make_bot: MakeBot, db_url: str
) -> None:
    bot = make_bot(db_url)
    earlier, later = at("2026-11-23T10:00:00Z"), at("2026-11-25T15:00:00Z")
    ana = _someone(
        bot,
        "ana@acme.example",
        [("console", "ana", "dm-ana", earlier), ("teams", "29:ana", "a:conv-ana", later)],
    )
    ben = _someone(
        bot,
        "ben@acme.example",
        [("console", "ben", "dm-ben", earlier), ("teams", "29:ben", "a:conv-ben", later)],
        preferred="console",
    )
    for email in ("ana@acme.example", "ben@acme.example"):
        _enrol(bot, email)
    terminal, teams = console(bot), MemorySender("teams", bot.clock, needs_reference=True)

    result = run_tick(bot, {"console": terminal, "teams": teams}, at=MONDAY)

    assert result.plan.steps == 2 and result.dispatch.sent == 2 and result.plan.unreachable == 0
    [(_, to_ana)] = teams.delivered
    assert (to_ana.to.platform, to_ana.to.user_id, to_ana.to.channel_id) == ("teams", "29:ana", "a:conv-ana")
    assert to_ana.to.data == {"service_url": "https://smba.example/emea/"}  # opaque, as the adapter stored it
    assert to_ana.reply.text.startswith("Step 1 of 4 on your pathway Feedback that helps.")
    [(_, to_ben)] = terminal.delivered
    assert (to_ben.to.platform, to_ben.to.user_id) == ("console", "ben")
    rows = {row.user_id: row for row in _rows(bot)}
    assert (rows[ana].platform, rows[ben].platform) == ("teams", "console")
    assert rows[ana].payload["to"]["channel_id"] == "a:conv-ana"

    # The button answers whoever it was sent to, on the platform it reached them on.
    done = next(b for b in to_ana.reply.buttons if b.name == "nudge_done")
    click = Action(
        platform="teams", user_id="29:ana", name=done.name, value=done.value, channel_id="a:conv-ana"
    )
    assert "Nice work" in Router(bot).on_action(click)[0].text
    stranger = Action(platform="teams", user_id="29:ben", name=done.name, value=done.value, channel_id="x")
    assert "someone else's" in Router(bot).on_action(stranger)[0].text


def test_someone_learnbot_cannot_reach_yet_is_counted_and_gets_the_nudge_once_reachable(
    make_bot: MakeBot, db_url: str
) -> None:
    bot = make_bot(db_url)
    # Known from Teams (an admin linked them, say), but never installed there, and no Teams sender here.
    cy = _someone(bot, "cy@acme.example", [("teams", "29:cy", None, at("2026-11-20T10:00:00Z"))])
    _enrol(bot, "cy@acme.example")
    terminal, teams = console(bot), MemorySender("teams", bot.clock, needs_reference=True)
    senders = {"console": terminal, "teams": teams}

    first = run_tick(bot, senders, at=MONDAY)
    assert (first.plan.steps, first.plan.unreachable, first.dispatch.sent) == (0, 1, 0)
    assert _rows(bot) == []  # nothing enqueued, nothing lost: the step waits
    with bot.session() as session:
        status = summary(session=session, config=bot.config, now=MONDAY, senders=senders)
    assert status.unreachable == 1 and status.as_json()["unreachable"] == 1
    assert any(line.split()[:2] == ["unreachable", "1"] for line in lines(status))

    # Cy writes to learnbot in the console (the same verified email): now reachable there.
    hello = Incoming(
        platform="console",
        user_id="cy",
        text="nudges on",
        channel_id="dm-cy",
        user_email="cy@acme.example",
        reach=ConversationRef("console", "cy", "dm-cy"),
    )
    Router(bot).on_message(hello)
    later = run_tick(bot, senders, at=MONDAY + dt.timedelta(minutes=5))
    assert (later.plan.steps, later.plan.unreachable, later.dispatch.sent) == (1, 0, 1)
    [(_, step)] = terminal.delivered
    assert step.to.user_id == "cy" and step.kind == "step" and _rows(bot)[0].user_id == cy
    with bot.session() as session:
        assert summary(session=session, config=bot.config, now=MONDAY, senders=senders).unreachable == 0


def test_a_teams_sender_needs_a_stored_reference_while_slack_and_console_open_a_dm(make_bot: MakeBot) -> None:
    bot = make_bot()
    dee = _someone(bot, "dee@acme.example", [("teams", "29:dee", None, at("2026-11-20T10:00:00Z"))])
    _enrol(bot, "dee@acme.example")
    teams = MemorySender("teams", bot.clock, needs_reference=True)
    assert run_tick(bot, {"teams": teams}, at=MONDAY).plan.unreachable == 1
    with bot.session() as session:  # the app is installed for Dee: Teams sends a conversation update
        remember_reference(
            session=session, person_id=dee, platform="teams", platform_user_id="29:dee", channel_id="a:dee"
        )
    assert run_tick(bot, {"teams": teams}, at=MONDAY + dt.timedelta(minutes=1)).dispatch.sent == 1
    assert teams.messages[0].to.channel_id == "a:dee"


@pytest.fixture
def cli_flags(tmp_path: Path) -> Iterator[tuple[list[str], Settings]]:
    config = write_config(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", config_path=config)
    prepare(settings)
    yield ["--config", str(config), "--data-dir", str(tmp_path / "data")], settings


def test_learnbot_nudges_status_counts_unreachable_people(
    cli_flags: tuple[list[str], Settings], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import open_bot

    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    flags, settings = cli_flags
    bot = open_bot(settings)
    _someone(bot, "eli@acme.example", [("teams", "29:eli", "a:eli", at("2026-11-20T10:00:00Z"))])
    _enrol(bot, "eli@acme.example")
    bot.engine.dispose()
    assert main([*flags, "nudges", "status", "--at", "2026-11-30T09:00:00Z"]) == 0
    shown = capsys.readouterr().out
    assert "unreachable        1  people with a nudge waiting and no way to reach them yet" in shown
    assert main([*flags, "nudges", "status", "--json", "--at", "2026-11-30T09:00:00Z"]) == 0
    assert '"unreachable": 1' in capsys.readouterr().out


# ---- a new kind, registered without touching the planner ---------------------------------------


class Kudos:
    """A tiny personal kind: a 'well done' for each of `subjects`, from `earliest` on."""

    name = "kudos"
    personal = True
    priority = 2

    def __init__(self, person_ids: set[int], subjects: Sequence[str], earliest: dt.datetime) -> None:
        self.person_ids, self.subjects, self.earliest = person_ids, subjects, earliest
        self.sent: set[tuple[int, str]] = set()

    def pending(self, planning: Planning) -> Iterable[Pending]:
        people = planning.session.exec(select(Person).where(col(Person.id).in_(self.person_ids)))
        for found in people:
            for subject in self.subjects:
                if (found.id, subject) not in self.sent:
                    yield Pending(self.name, self.earliest, found, subject)

    def messages(self, planning: Planning, due: Sequence[Pending]) -> list[Message]:
        out = []
        for pending in due:
            assert pending.person is not None and pending.person.id is not None
            self.sent.add((pending.person.id, pending.subject))
            reply = Reply(text=f"Well done on {pending.subject}!", buttons=(Button("Thanks", "noop", "x"),))
            out.append(Message(f"kudos:{pending.person.id}:{pending.subject}", reply, pending))
        return out


@pytest.fixture
def registered() -> Iterator[list[Kudos]]:
    added: list[Kudos] = []
    yield added
    for kind in added:
        KINDS.remove(kind)  # type: ignore[arg-type]


def test_a_new_kind_gets_the_same_hours_caps_and_opt_out(
    make_bot: MakeBot, db_url: str, registered: list[Kudos]
) -> None:
    bot = make_bot(db_url, nudges={"default_timezone": "Europe/London", "max_per_week": 1})
    fay, gus = person(bot, "fay"), person(bot, "gus")
    assert fay.id is not None and gus.id is not None
    with bot.session() as session:
        set_opted_out(session=session, user_id=gus.id, opted_out=True, now=bot.clock.now())
    kudos = Kudos({fay.id, gus.id}, ["the retro", "the handover"], at("2026-11-27T18:00:00Z"))
    KINDS.append(kudos)  # the one registration line a new kind adds
    registered.append(kudos)
    terminal = console(bot)

    friday = run_tick(bot, {"console": terminal}, at=at("2026-11-27T18:00:00Z"))  # after hours
    assert terminal.delivered == [] and friday.next_wake == MONDAY and friday.plan.opted_out == 2
    monday = run_tick(bot, {"console": terminal}, at=MONDAY)
    assert monday.plan.counts["kudos"] == 1 and monday.plan.deferred_by_cap == 1
    for day in range(1, 7):  # the weekly cap holds the second one for a week
        run_tick(bot, {"console": terminal}, at=MONDAY + dt.timedelta(days=day))
    assert [(m.kind, m.to.user_id, m.reply.text) for m in terminal.messages] == [
        ("kudos", "fay", "Well done on the retro!")
    ]
    run_tick(bot, {"console": terminal}, at=MONDAY + dt.timedelta(days=7))
    assert [m.reply.text for m in terminal.messages] == [
        "Well done on the retro!",
        "Well done on the handover!",
    ]
    assert {row.payload["window"]["zone"] for row in _rows(bot)} == {"Europe/London"}

    # 'Stop nudges' cancels a queued nudge of the new kind too.
    kudos.subjects = ["the launch"]
    with bot.session() as session:  # planned, not yet delivered
        plan(session=session, config=bot.config, now=MONDAY + dt.timedelta(days=14))
    Router(bot).on_message(
        Incoming(platform="console", user_id="fay", text="nudges off", channel_id="dm-fay")
    )
    assert {row.idempotency_key: row.status for row in _rows(bot)}[
        f"kudos:{fay.id}:the launch"
    ] == "cancelled"
