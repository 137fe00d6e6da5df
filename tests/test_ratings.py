"""Rating conversations: both scales with their explained ends, the optional comment, updating a rating,
and the one polite ask after a completed pathway step."""

from __future__ import annotations

from sqlmodel import select

from bot.adapters.console import ConsoleChat
from bot.events import Action
from bot.router import Router
from storage.models import Enrolment, Rating, RatingAsk
from tests.nudges.conftest import MakeBot, make_bot  # noqa: F401 - the fixture

QUESTION = "how do I give feedback to a peer"


def ratings(chat: ConsoleChat) -> list[Rating]:
    with chat.router.bot.session() as session:
        return list(session.exec(select(Rating).order_by(Rating.id)))


def test_a_typed_reply_after_the_scores_becomes_the_comment(chat: ConsoleChat) -> None:
    chat.handle_line(QUESTION)
    chat.handle_line("3")  # Rate
    chat.handle_line("2")
    thanks = chat.handle_line("4")
    assert "Anything to add? Reply with a short comment, or press Skip." in thanks
    assert thanks.endswith("[1] Skip")
    said = chat.handle_line("The SBI example is great, but I can't see the Q3 goal it serves")
    assert "Thanks, I've added your comment to your rating of Give useful feedback to a peer." in said
    [rating] = ratings(chat)
    assert (rating.role_relevance, rating.strategic_clarity) == (2, 4)
    assert rating.comment == "The SBI example is great, but I can't see the Q3 goal it serves"
    assert rating.comment_asked_at is None
    # the next message is a question again, not another comment
    assert "Give useful feedback to a peer" in chat.handle_line(QUESTION)
    assert ratings(chat)[0].comment == "The SBI example is great, but I can't see the Q3 goal it serves"


def test_skip_saves_the_rating_without_a_comment_and_a_question_is_never_a_comment(chat: ConsoleChat) -> None:
    chat.handle_line(QUESTION)
    for press in ("3", "5", "5"):
        chat.handle_line(press)
    assert "your rating is saved" in chat.handle_line("1")  # Skip
    [rating] = ratings(chat)
    assert (rating.role_relevance, rating.strategic_clarity, rating.comment) == (5, 5, None)

    chat.handle_line(QUESTION)
    for press in ("3", "4", "4"):
        chat.handle_line(press)
    answer = chat.handle_line("how do I run a good one to one?")  # a question, answered as one
    assert "Thanks, I've added your comment" not in answer
    assert ratings(chat)[0].comment is None


def test_the_comment_window_closes_after_thirty_minutes(chat: ConsoleChat) -> None:
    chat.handle_line(QUESTION)
    for press in ("3", "4", "4"):
        chat.handle_line(press)
    chat.handle_line("/clock +31m")
    later = chat.handle_line("situation behaviour impact")
    assert "Thanks, I've added your comment" not in later
    assert "Give useful feedback to a peer" in later  # answered as a question
    assert ratings(chat)[0].comment is None


def test_a_comment_too_long_is_refused_and_a_shorter_one_still_taken(chat: ConsoleChat) -> None:
    chat.handle_line(QUESTION)
    for press in ("3", "4", "4"):
        chat.handle_line(press)
    told = chat.handle_line("word " * 120)
    assert "That comment is 599 characters long; I keep up to 500. Send a shorter one, or press Skip." in told
    assert told.endswith("[1] Skip")
    assert ratings(chat)[0].comment is None
    assert "Thanks, I've added your comment" in chat.handle_line("Shorter: more Q3 context please")
    assert ratings(chat)[0].comment == "Shorter: more Q3 context please"


def test_rating_again_updates_the_one_rating(chat: ConsoleChat) -> None:
    for scores in (("1", "2"), ("4", "3")):
        chat.handle_line(QUESTION)
        chat.handle_line("3")
        chat.handle_line(scores[0])
        chat.handle_line(scores[1])
    [rating] = ratings(chat)
    assert (rating.role_relevance, rating.strategic_clarity) == (4, 3)


def _to_first_step(chat: ConsoleChat) -> str:
    chat.handle_line("/clock 2026-11-27 18:00")
    chat.handle_line("/as admin")
    chat.handle_line("enrol console-learner in feedback-culture")
    chat.handle_line("/as learner")
    step = chat.handle_line("/clock +3d")
    assert "Step 1 of 4 on your pathway Feedback that helps." in step
    chat.handle_line("1")  # Start
    return chat.handle_line("1")  # Done


def test_after_a_completed_step_learnbot_asks_once_for_a_rating(make_bot: MakeBot) -> None:  # noqa: F811
    chat = ConsoleChat(Router(make_bot(at="2026-11-23T12:00:00Z")))
    done = _to_first_step(chat)
    assert "Nice work: Give useful feedback to a peer is done (step 1 of 4)." in done
    assert "If you have a moment: How relevant is Give useful feedback to a peer to your role?" in done
    assert "1 = not relevant to my role … 5 = core to my role" in done
    assert done.endswith("[1] 1   [2] 2   [3] 3   [4] 4   [5] 5")
    assert "which company goal it serves" in chat.handle_line("5")
    assert "strategic clarity 3/5" in chat.handle_line("3")
    [rating] = ratings(chat)
    assert (rating.content_id, rating.role_relevance, rating.strategic_clarity) == (
        "give-peer-feedback",
        5,
        3,
    )

    # Done pressed again on the same step (an old message): the step is done, no second ask
    with chat.router.bot.session() as session:
        [enrolment] = session.exec(select(Enrolment))
    again = chat.router.on_action(
        Action(
            platform="console",
            user_id="console-learner",
            name="nudge_done",
            value=f"{enrolment.id}|give-peer-feedback",
            channel_id="dm-console-learner",
            is_direct=True,
        )
    )
    assert len(again) == 1 and "How relevant" not in again[0].text


def test_the_ask_after_a_step_is_never_repeated_even_when_ignored(make_bot: MakeBot) -> None:  # noqa: F811
    chat = ConsoleChat(Router(make_bot(at="2026-11-23T12:00:00Z")))
    assert "If you have a moment" in _to_first_step(chat)  # ignored: no rating given
    with chat.router.bot.session() as session:
        [enrolment] = session.exec(select(Enrolment))
        assert [(a.content_id) for a in session.exec(select(RatingAsk))] == ["give-peer-feedback"]
    again = chat.router.on_action(
        Action(
            platform="console",
            user_id="console-learner",
            name="nudge_done",
            value=f"{enrolment.id}|give-peer-feedback",
            channel_id="dm-console-learner",
            is_direct=True,
        )
    )
    assert "How relevant" not in "\n".join(reply.text for reply in again)
    assert ratings(chat) == []


def test_a_lesson_already_rated_is_not_asked_about_after_its_step(make_bot: MakeBot) -> None:  # noqa: F811
    chat = ConsoleChat(Router(make_bot(at="2026-11-23T12:00:00Z")))
    chat.handle_line(QUESTION)
    for press in ("3", "4", "4", "1"):
        chat.handle_line(press)
    done = _to_first_step(chat)
    assert "Nice work" in done and "If you have a moment" not in done


def test_typing_skip_or_no_thanks_is_not_kept_as_a_comment(chat: ConsoleChat) -> None:
    for typed in ("Skip", "no thanks!"):
        chat.handle_line(QUESTION)
        for press in ("3", "4", "4"):
            chat.handle_line(press)
        assert "your rating is saved" in chat.handle_line(typed)
        assert ratings(chat)[0].comment is None


def test_ratings_move_a_lesson_in_ranking_at_once_and_after_a_restart(chat: ConsoleChat) -> None:
    from bot.app import open_bot
    from bot.config import Settings
    from content_index.feedback import FeedbackSignals

    bot = chat.router.bot
    signals = bot.index.signals
    assert isinstance(signals, FeedbackSignals)
    assert "give-peer-feedback" not in signals.multipliers("anything at all", ["give-peer-feedback"])
    chat.handle_line(QUESTION)
    for press in ("3", "1", "3", "1"):  # Rate: not relevant to my role, clarity 3, Skip
        chat.handle_line(press)
    lowered = signals.multipliers("anything at all", ["give-peer-feedback"])["give-peer-feedback"]
    assert lowered < 1.0  # for every question, not only the one asked

    restarted = open_bot(Settings(data_dir=bot.data_dir, config_path=bot.config_path)).index.signals
    assert isinstance(restarted, FeedbackSignals)
    assert restarted.multipliers("anything", ["give-peer-feedback"]) == {"give-peer-feedback": lowered}
