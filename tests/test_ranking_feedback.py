"""Feedback feeds ranking: clicks change the next answer, for similar questions only, and boundedly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.adapters.console import ConsoleChat
from bot.app import open_bot
from bot.config import Settings
from bot.router import Router
from content_index.feedback import FeedbackSignals
from nudges.pathways import join, start_step
from storage.models import utcnow
from storage.people import identify

PEER = "Give useful feedback to a peer"
QUESTION = "how do I give feedback to a peer"


def first_card(reply: str) -> str:
    """The title line of the answer card (or the no-lesson text)."""
    return reply.splitlines()[0].removeprefix("learnbot ▸ ")


def vote_down_until_replaced(chat: ConsoleChat, question: str, title: str) -> int:
    """Ask, and click Not helpful while `title` is the answer; returns how many clicks it took."""
    for clicks in range(5):
        if not first_card(chat.handle_line(question)).startswith(title):
            return clicks
        chat.handle_line("2")  # Not helpful
    return 5


def test_repeated_not_helpful_demotes_a_lesson_for_that_question_only(chat: ConsoleChat) -> None:
    assert vote_down_until_replaced(chat, QUESTION, PEER) == 2  # one click is not enough, two are

    again = first_card(chat.handle_line("how can I give feedback to my peer?"))
    assert not again.startswith(PEER)
    assert "I don't have a lesson" not in again

    unrelated = first_card(chat.handle_line("situation behaviour impact"))
    assert unrelated.startswith(PEER)


def test_demotion_is_kept_in_storage_and_survives_a_restart(
    make_settings: Callable[..., Settings], chat: ConsoleChat
) -> None:
    vote_down_until_replaced(chat, QUESTION, PEER)
    restarted = ConsoleChat(Router(open_bot(make_settings())))  # same database, a fresh process's view
    assert not first_card(restarted.handle_line(QUESTION)).startswith(PEER)


def test_helpful_answers_win_back_a_demoted_lesson(chat: ConsoleChat) -> None:
    vote_down_until_replaced(chat, QUESTION, PEER)
    signals = chat.router.bot.index.signals
    assert isinstance(signals, FeedbackSignals)
    for _ in range(3):
        signals.record(QUESTION, "give-peer-feedback", "helpful")
    assert first_card(chat.handle_line(QUESTION)).startswith(PEER)


def test_feedback_is_bounded_and_fades() -> None:
    signals = FeedbackSignals()
    for _ in range(100):
        signals.record("reset my password", "buried", "not_helpful")
        signals.record("reset my password", "praised", "helpful")
    factors = signals.multipliers("reset my password", ["buried", "praised", "untouched"])
    assert 0.3 <= factors["buried"] < 0.35
    assert 1.25 < factors["praised"] <= 1.3
    assert "untouched" not in factors

    old = FeedbackSignals()
    year_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    old.record("reset my password", "buried", "not_helpful", at=year_ago)
    fresh = FeedbackSignals()
    fresh.record("reset my password", "buried", "not_helpful")
    assert fresh.multipliers("reset my password", ["buried"])["buried"] < 0.8
    assert old.multipliers("reset my password", ["buried"])["buried"] > 0.95


def test_ratings_and_completions_count_too() -> None:
    signals = FeedbackSignals()
    signals.record("pivot tables in excel", "pivots", "rating", relevance=1)
    signals.record("pivot tables in excel", "charts", "rating", relevance=5)
    signals.record("pivot tables in excel", "neutral", "rating", relevance=3)
    signals.record_completion("popular", 30)
    factors = signals.multipliers("excel pivot tables", ["pivots", "charts", "neutral", "popular"])
    assert factors["pivots"] < 1.0 < factors["charts"]
    assert "neutral" not in factors
    assert 1.0 < factors["popular"] <= 1.05


def test_completions_stored_by_pathways_promote_a_lesson_after_a_restart(
    make_settings: Callable[..., Settings], chat: ConsoleChat
) -> None:
    with chat.router.bot.session() as session:
        for n in range(5):
            user = identify(session=session, platform="console", platform_user_id=f"learner-{n}")
            assert user.id is not None
            enrolment, _ = join(
                session=session,
                user_id=user.id,
                pathway_id="feedback-culture",
                joined_by="self",
                now=utcnow(),
            )
            session.flush()
            progress = start_step(
                session=session, enrolment=enrolment, content_id="hard-conversations", now=utcnow()
            )
            progress.completed_at = utcnow()
    restarted = open_bot(make_settings())
    signals = restarted.index.signals
    assert isinstance(signals, FeedbackSignals)
    factors = signals.multipliers("anything at all", ["hard-conversations", "give-peer-feedback"])
    assert 1.0 < factors["hard-conversations"] <= 1.05
    assert "give-peer-feedback" not in factors
