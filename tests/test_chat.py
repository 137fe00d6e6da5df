"""Conversations with learnbot through the console adapter, over the sample library."""

from __future__ import annotations

import io
from collections.abc import Callable

from sqlmodel import select

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.config import Settings
from bot.events import Incoming
from bot.router import Router
from storage.models import AnswerShown, ConversationReference, Feedback, Question


def rows(chat: ConsoleChat, model: type) -> list:
    with chat.router.bot.session() as session:
        return list(session.exec(select(model)))


def test_ask_get_an_answer_card_then_not_helpful_is_recorded(chat: ConsoleChat) -> None:
    answer = chat.handle_line("how do I give feedback to a peer")
    assert "Give useful feedback to a peer" in answer
    assert "Why it matters: Growing our people — Builds the feedback culture" in answer
    assert "https://learn.example.com/lessons/give-peer-feedback" in answer
    assert "· 5 min" in answer
    assert answer.endswith("[1] Helpful   [2] Not helpful   [3] Rate   [4] Add to my pathway")

    follow_up = chat.handle_line("2")
    assert follow_up.startswith("learnbot ▸ Thanks, noted. Here's the next-best lesson I have:")
    assert "Give useful feedback to a peer" not in follow_up

    [question] = rows(chat, Question)
    assert (question.text, question.answered, question.platform) == (
        "how do I give feedback to a peer",
        True,
        "console",
    )
    shown = rows(chat, AnswerShown)
    assert shown[0].content_id == "give-peer-feedback" and shown[0].rank == 0
    [feedback] = rows(chat, Feedback)
    assert (feedback.content_id, feedback.verdict, feedback.question_id) == (
        "give-peer-feedback",
        "not_helpful",
        question.id,
    )
    assert [ref.channel_id for ref in rows(chat, ConversationReference)] == ["dm-console-learner"]


def test_helpful_thanks_the_learner_and_a_second_click_replaces_the_verdict(chat: ConsoleChat) -> None:
    chat.handle_line("make a pivot table in excel")
    assert "Glad it helped" in chat.handle_line("1")
    assert [f.verdict for f in rows(chat, Feedback)] == ["helpful"]


def test_typo_still_finds_the_lesson(chat: ConsoleChat) -> None:
    assert "Summarise data with Excel pivot tables" in chat.handle_line("how do i make a pivto tabel")


def test_unanswerable_question_is_an_honest_gap_that_admins_can_see(chat: ConsoleChat) -> None:
    reply = chat.handle_line("what's on the canteen menu today")
    assert "I don't have a lesson for that yet" in reply
    assert "> what's on the canteen menu today" in reply
    [question] = rows(chat, Question)
    assert question.answered is False
    assert rows(chat, AnswerShown) == []

    assert "Only L&D admins can see content gaps" in chat.handle_line("gaps")
    chat.handle_line("/as admin")
    gaps = chat.handle_line("gaps")
    assert "1 open content gap (questions I couldn't answer well, last 90 days)" in gaps
    assert "“what's on the canteen menu today”" in gaps


def test_learners_do_not_get_manager_only_lessons_but_managers_do(chat: ConsoleChat) -> None:
    question = "how do I run a 1:1 with my report"
    as_learner = chat.handle_line(question)
    chat.handle_line("/as manager")
    as_manager = chat.handle_line(question)
    assert "Run a great 1:1 with your direct report" in as_manager
    assert "Run a great 1:1 with your direct report" not in as_learner


def test_in_a_channel_the_answer_goes_in_a_thread(chat: ConsoleChat) -> None:
    assert chat.handle_line("/channel sales") == "(now in #sales: learnbot answers in a thread)"
    assert chat.handle_line("share my outlook calendar").startswith("learnbot ▸ (in thread) ")
    [question] = rows(chat, Question)
    assert (question.channel_id, question.thread_id) == ("sales", "thread-1")
    # Every contact refreshes how to reach the person later: their DM, not the channel.
    assert [ref.channel_id for ref in rows(chat, ConversationReference)] == ["dm-console-learner"]


def test_help_console_commands_and_bad_choices(chat: ConsoleChat) -> None:
    assert "/as learner|manager|admin" in chat.handle_line("/help")
    assert "I'm learnbot" in chat.handle_line("help")
    assert "unknown persona 'ceo'" in chat.handle_line("/as ceo")
    chat.handle_line("how do I give feedback to a peer")
    assert "Pick a number from 1 to 4" in chat.handle_line("7")


def test_a_duplicate_event_is_answered_once(chat: ConsoleChat) -> None:
    event = Incoming(
        platform="slack", user_id="U1", text="share my outlook calendar", channel_id="D1", event_id="Ev1"
    )
    assert chat.router.on_message(event)
    assert chat.router.on_message(event) == []
    assert len(rows(chat, Question)) == 1


def test_the_chat_loop_keeps_logs_out_of_the_conversation(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    prepare(settings)
    stdin = io.StringIO("how do I give feedback to a peer\n/quit\n")
    stdout = io.StringIO()
    assert ConsoleChat(Router(open_bot(settings)), stdin=stdin, stdout=stdout).run() == 0
    transcript = stdout.getvalue()
    assert "Give useful feedback to a peer" in transcript
    assert "INFO" not in transcript and transcript.rstrip().endswith("Bye!")


def test_index_and_chat_work_the_same_on_postgresql(
    make_settings: Callable[..., Settings], pg_url: str
) -> None:
    settings = make_settings(database_url=pg_url)
    assert prepare(settings).added == 66
    assert prepare(settings).unchanged == 66
    chat = ConsoleChat(Router(open_bot(settings)))
    assert "Give useful feedback to a peer" in chat.handle_line("how do I give feedback to a peer")
    chat.handle_line("2")
    [feedback] = rows(chat, Feedback)
    assert (feedback.content_id, feedback.verdict) == ("give-peer-feedback", "not_helpful")
