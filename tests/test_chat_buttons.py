"""Console transcripts for the buttons under an answer: Rate, pathway, experts; and /home."""

from __future__ import annotations

from sqlmodel import select

from bot.adapters.console import ConsoleChat
from storage.models import Enrolment, Rating, StepProgress


def rows(chat: ConsoleChat, model: type) -> list:
    with chat.router.bot.session() as session:
        return list(session.exec(select(model)))


def test_rate_asks_role_relevance_then_strategic_clarity_and_stores_both(chat: ConsoleChat) -> None:
    chat.handle_line("how do I give feedback to a peer")
    relevance = chat.handle_line("3")
    assert "How relevant is Give useful feedback to a peer to your role?" in relevance
    assert "1 = not relevant to my role … 5 = core to my role" in relevance
    assert relevance.endswith("[1] 1   [2] 2   [3] 3   [4] 4   [5] 5")
    clarity = chat.handle_line("4")
    assert "how clearly does it show which company goal it serves?" in clarity
    assert "1 = I can't tell which goal it serves … 5 = I can see exactly which goal it serves" in clarity
    assert "relevance to your role 4/5, strategic clarity 5/5" in chat.handle_line("5")
    [rating] = rows(chat, Rating)
    assert (rating.role_relevance, rating.strategic_clarity, rating.comment) == (4, 5, None)
    assert rating.content_id == "give-peer-feedback"


def test_add_to_my_pathway_enrols_where_the_lesson_is_a_step(chat: ConsoleChat) -> None:
    chat.handle_line("how do I give feedback to a peer")
    added = chat.handle_line("4")
    assert "Added to your pathway Feedback that helps (step 1 of 4)" in added
    assert "every 7 days" in added
    [enrolment] = rows(chat, Enrolment)
    assert (enrolment.pathway_id, enrolment.joined_by, enrolment.status) == (
        "feedback-culture",
        "self",
        "active",
    )
    [progress] = rows(chat, StepProgress)
    assert progress.content_id == "give-peer-feedback" and progress.started_at is not None

    chat.handle_line("how do I give feedback to a peer")
    assert "You're already on Feedback that helps (step 1 of 4)" in chat.handle_line("4")
    assert len(rows(chat, Enrolment)) == 1

    home = chat.handle_line("/home")
    assert "Feedback that helps: 0/4 done · next: Give useful feedback to a peer" in home
    assert "how do I give feedback to a peer → Give useful feedback to a peer" in home
    assert "Still to rate: Give useful feedback to a peer" in home


def test_a_lesson_outside_any_pathway_offers_the_pathways_that_fit(chat: ConsoleChat) -> None:
    answer = chat.handle_line("share my outlook calendar")
    assert "[4] Add to my pathway" in answer
    offer = chat.handle_line("4")
    assert "isn't a step of a learning pathway yet" in offer
    assert "[1] Join Automate the boring stuff" in offer
    assert "Solve it on first contact" not in offer  # that one is for support, sales and managers
    joined = chat.handle_line("1")
    assert "Added to your pathway Automate the boring stuff" in joined
    assert "First step: Summarise data with Excel pivot tables" in joined
    assert [e.pathway_id for e in rows(chat, Enrolment)] == ["automate-the-boring-stuff"]


def test_after_not_helpful_the_question_can_go_to_the_experts(chat: ConsoleChat) -> None:
    chat.handle_line("/channel sales")
    chat.handle_line("how do I give feedback to a peer")
    follow_up = chat.handle_line("2")
    assert follow_up.endswith("[4] Add to my pathway   [5] Ask the experts")
    sent = chat.handle_line("5")
    assert "(posted in #learning-experts, asked by console-learner, from thread-1)" in sent
    assert "> how do I give feedback to a peer" in sent
    assert "I've asked the experts in #learning-experts" in sent


def test_an_unanswerable_question_offers_the_experts_and_admins_see_numbers(chat: ConsoleChat) -> None:
    assert chat.handle_line("what's on the canteen menu today").endswith("[1] Ask the experts")
    assert "asked by console-learner" in chat.handle_line("1")
    chat.handle_line("/as admin")
    home = chat.handle_line("/home")
    assert "This week: Questions (7 days) 1, Answered 0%" in home
    assert "what's on the canteen menu today" in home
