"""The purpose pulse as learners meet it: off by default; when on, one question per active learner per
period, in their working hours, answered with one tap and changeable until the period ends."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.adapters.console import ConsoleChat
from bot.events import Action
from bot.router import Router
from storage.models import OutboxMessage, PulseAnswer, Question
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at, person

PULSE_ON = {"enabled": True}
QUESTION = "How clearly do you see how your learning connects to our goals?"


def pulse_rows(chat: ConsoleChat) -> list[OutboxMessage]:
    with chat.router.bot.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "pulse").order_by(OutboxMessage.id)
        return list(session.exec(query))


def answers(chat: ConsoleChat) -> list[tuple[str, int]]:
    with chat.router.bot.session() as session:
        return [(a.period, a.score) for a in session.exec(select(PulseAnswer).order_by(PulseAnswer.id))]


def test_the_pulse_is_off_by_default(make_bot: MakeBot) -> None:
    chat = ConsoleChat(Router(make_bot(at="2026-12-28T12:00:00Z")))
    chat.handle_line("how do I give feedback to a peer")
    assert QUESTION not in chat.handle_line("/clock 2027-01-08 12:00")
    assert pulse_rows(chat) == []


def test_one_question_per_active_learner_per_quarter_in_working_hours(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-12-28T12:00:00Z", purpose_pulse=PULSE_ON)
    chat = ConsoleChat(Router(bot))
    chat.handle_line("how do I give feedback to a peer")  # Sam is an active learner
    kiwi = person(bot, "console-kiwi", timezone="Pacific/Auckland")
    idle = person(bot, "console-idle")  # has talked to learnbot but learned nothing: not asked
    with bot.session() as session:
        session.add(Question(user_id=kiwi.id, platform="console", channel_id="dm", text="excel pivot"))

    # Switched on in the last days of the October quarter: the first question waits for January.
    assert QUESTION not in chat.handle_line("/clock 2026-12-31 18:00")
    out = chat.handle_line("/clock 2027-01-04 12:00")
    # Kiwi first (13:00 in Auckland is midnight in London), then Sam at nine.
    assert "── Fri 01 Jan 2027 00:00 Europe/London · direct message to console-kiwi ──" in out
    january = out[
        out.index("── Fri 01 Jan 2027 09:00 Europe/London · direct message to you ──") :
    ].splitlines()
    assert january[1] == QUESTION
    assert "you can change your answer until Wednesday 31 March" in january[2]
    assert january[-1] == "[1] 1 · not at all   [2] 2   [3] 3   [4] 4   [5] 5 · very clearly"
    rows = pulse_rows(chat)
    assert sorted(row.user_id for row in rows) == sorted([kiwi.id, chat_person_id(chat)])
    assert idle.id not in {row.user_id for row in rows}
    kiwi_row = next(row for row in rows if row.user_id == kiwi.id)
    assert kiwi_row.sent_at is not None
    local = at(kiwi_row.sent_at.isoformat()).astimezone(ZoneInfo("Pacific/Auckland"))
    assert (local.weekday(), local.hour) == (4, 13)  # Friday afternoon in Auckland: working hours

    noted = chat.handle_line("4")
    assert "Thanks! I've noted 4. You can change it until Wednesday 31 March" in noted
    changed = chat.handle_line("2")
    assert "Thanks! I've changed your answer to 2." in changed
    assert answers(chat) == [("2027-Q1", 2)]

    # A week later nothing more; the next quarter asks again, once.
    assert QUESTION not in chat.handle_line("/clock +7d")
    april = chat.handle_line("/clock 2027-04-06 12:00")
    assert april.count("direct message to you") == 1  # and one to Kiwi
    assert "── Thu 01 Apr 2027 09:00 Europe/London · direct message to you ──\n" + QUESTION in april
    assert len(pulse_rows(chat)) == 4

    # January's buttons no longer count; April's answer is its own.
    late = Action(
        platform="console", user_id="console-learner", name="pulse_answer", value="2027-Q1|5", channel_id="dm"
    )
    assert "That pulse question has closed" in chat.router.on_action(late)[0].text
    chat.handle_line("5")
    assert answers(chat) == [("2027-Q1", 2), ("2027-Q2", 5)]


def chat_person_id(chat: ConsoleChat) -> int:
    with chat.router.bot.session() as session:
        [question] = session.exec(select(Question).where(Question.channel_id == "dm-console-learner"))
        assert question.user_id is not None
        return question.user_id


def test_stop_nudges_stops_the_pulse_too(make_bot: MakeBot) -> None:
    chat = ConsoleChat(Router(make_bot(at="2026-12-28T12:00:00Z", purpose_pulse=PULSE_ON)))
    chat.handle_line("how do I give feedback to a peer")
    assert "Done: no more nudges from me" in chat.handle_line("stop nudges")
    assert QUESTION not in chat.handle_line("/clock 2027-01-08 12:00")
