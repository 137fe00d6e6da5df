"""What a person notices when they ask: the right lesson, a short "Not sure" choice that holds it, small talk
answered kindly and never logged as a gap, and answers that do not depend on mentions or on `-k`."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest
from sqlmodel import select

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.cli import main
from bot.config import Settings
from bot.router import Router
from content_index.answering import clean_question, small_talk
from content_index.confidence import expected_calibration_error, fit_logistic
from content_index.encoder import shared_encoder
from content_index.lexical import LexicalIndex
from content_index.search import make_synonyms
from content_index.semantic import HybridIndex, unavailable_reason
from storage.models import Feedback, Question
from tests.conftest import write_config

needs_semantic = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

# The everyday questions from issue 10, each with the lesson a person means, and who asks it.
EVERYDAY = [
    ("learner", "how do i book time off next month, my manager said use the system but i cant find it",
     "Request annual leave"),
    ("learner", "how do i claim back my uber from the client visit", "Submit an expense claim"),
    ("learner", "i think i clicked a dodgy link, who do i tell?", "phishing|security incident|Phishing"),
    ("learner", "how do i share my calender with my EA", "Share your Outlook calendar"),
    ("manager", "new starter joins monday what do i need to prep", "Onboard a new hire"),
    ("manager", "perf review", "Write a fair performance review"),
]  # fmt: skip


def shows(reply: str, titles: str) -> bool:
    """The reply answers with one of `titles` (| separated), or offers it as a Not sure choice."""
    head = reply.splitlines()[0]
    offered = reply.startswith("learnbot ▸ Not sure") and any(t in reply for t in titles.split("|"))
    return any(t in head for t in titles.split("|")) or offered


def button(reply: str, label: str) -> str:
    """The number to type to press the button whose label starts with `label`."""
    found = re.search(rf"\[(\d+)\] {re.escape(label)}", reply)
    assert found, reply
    return found.group(1)


def ask_as(chat: ConsoleChat, role: str, question: str) -> str:
    chat.handle_line(f"/as {role}")
    return chat.handle_line(question)


@needs_semantic
@pytest.mark.parametrize(("role", "question", "titles"), EVERYDAY)
def test_everyday_questions_get_the_right_lesson_or_a_choice_holding_it(
    chat: ConsoleChat, role: str, question: str, titles: str
) -> None:
    assert shows(ask_as(chat, role, question), titles)


@needs_semantic
@pytest.mark.parametrize("question", ["OOO", "whats the ooo policy", "out of office"])
def test_an_abbreviation_finds_what_it_stands_for(chat: ConsoleChat, question: str) -> None:
    # The encoder reads "ooo" as noise; the semantic tier reads "out of office" instead.
    assert shows(chat.handle_line(question), "Request annual leave")


def test_the_semantic_tier_reads_abbreviations_spelled_out_and_company_words_beside_their_synonyms() -> None:
    synonyms = make_synonyms()
    assert synonyms.expanded(["whats", "the", "ooo", "policy"]) == (
        ["whats", "the", "out of office", "policy"],
        [],
    )
    words, beside = synonyms.expanded(["my", "okrs", "for", "q3"])
    assert words[1] == "objectives and key results" and beside == []
    words, beside = synonyms.expanded(["my", "okrs"], known=lambda word: word.startswith("okr"))
    assert words == ["my", "okrs"] and beside == ["objectives and key results"]  # a lesson says "OKRs"
    words, beside = synonyms.expanded(["gdpr", "basics"])  # not initials: read beside, not instead
    assert words == ["gdpr", "basics"] and beside


@needs_semantic
def test_picking_a_not_sure_choice_shows_the_lesson_and_counts_as_helpful(chat: ConsoleChat) -> None:
    reply = chat.handle_line("going on hols in august how do i put it in")
    assert reply.startswith("learnbot ▸ Not sure - is it one of these?")
    assert "None of these" in reply
    picked = chat.handle_line(button(reply, "Request annual leave"))
    assert "Request annual leave" in picked and "Thanks!" in picked
    bot = chat.router.bot
    with bot.session() as session:
        [feedback] = session.exec(select(Feedback)).all()
        assert (feedback.content_id, feedback.verdict) == ("request-annual-leave", "helpful")
        assert all(question.answered for question in session.exec(select(Question)).all())
    chat.handle_line("/as admin")
    assert "hols in august" not in chat.handle_line("gaps")


@needs_semantic
def test_none_of_these_is_an_honest_gap(chat: ConsoleChat) -> None:
    reply = chat.handle_line("going on hols in august how do i put it in")
    answer = chat.handle_line(button(reply, "None of these"))
    assert "I don't have a lesson for that yet" in answer


@pytest.mark.parametrize(
    ("message", "reply_starts"),
    [
        ("hi", "Hi!"),
        ("Hello there", "Hi!"),
        ("thanks!", "You're welcome"),
        ("thank you so much", "You're welcome"),
        ("great", "Great!"),
        ("how are you?", "I'm doing well"),
        ("7", "There are no buttons to press right now"),
    ],
)
def test_small_talk_gets_a_friendly_reply_and_is_never_a_content_gap(
    chat: ConsoleChat, message: str, reply_starts: str
) -> None:
    reply = chat.handle_line(message)
    assert reply.removeprefix("learnbot ▸ ").startswith(reply_starts)
    assert "content gap" not in reply
    chat.handle_line("/as admin")
    assert message not in chat.handle_line("gaps")


def test_small_talk_is_only_small_talk_when_that_is_all_there_is() -> None:
    assert small_talk("hi, how do I book annual leave") is None
    assert small_talk("thanks, and how do I share my calendar") is None
    assert small_talk("what is it") is None
    assert small_talk("a") is None


def test_mentions_and_platform_syntax_are_dropped_before_search() -> None:
    assert clean_question("<@U0123ABC> can you help with expenses") == "can you help with expenses"
    assert clean_question("@learnbot <#C01|general> *how* do I <https://x.example|claim> :wave:") == (
        "general how do I claim"
    )
    assert clean_question("mail me at sam@example.com") == "mail me at sam@example.com"


@pytest.mark.parametrize("mention", ["<@U0123ABC>", "<@U0123ABC|sam>", "@learnbot", "<!here>"])
def test_a_mention_does_not_change_the_answer(chat: ConsoleChat, mention: str) -> None:
    plain = chat.handle_line("can you help with expenses for my train tickets")
    mentioned = chat.handle_line(f"{mention} can you help with expenses for my train tickets")
    assert mentioned.splitlines()[0] == plain.splitlines()[0]
    assert "Submit an expense claim" in plain.splitlines()[0]


def test_how_many_results_are_listed_never_changes_the_answer(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    prepare(settings)
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir), "ask"]
    first_lines = []
    for k in ("0", "1", "5"):
        assert main([*args, "how do i claim back my uber from the client visit", "-k", k]) == 0
        first_lines.append(capsys.readouterr().out.splitlines()[0])
    assert first_lines[0] == first_lines[1] == first_lines[2]
    assert "Submit an expense claim" in first_lines[0]


def test_semantic_off_keeps_a_lexical_bot_answering(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path / "data", config_path=write_config(tmp_path, search={"semantic": "off"})
    )
    prepare(settings)
    bot = open_bot(settings)
    assert isinstance(bot.index, LexicalIndex)
    reply = ConsoleChat(Router(bot)).handle_line("how do I share my outlook calendar")
    assert reply.splitlines()[0].startswith("learnbot ▸ Share your Outlook calendar")


@needs_semantic
def test_the_model_is_loaded_once_per_process(chat: ConsoleChat) -> None:
    index = chat.router.bot.index
    assert isinstance(index, HybridIndex)
    assert index.encoder is shared_encoder()
    assert HybridIndex([], cache=None).encoder is index.encoder


def test_calibration_error_and_the_logistic_fit() -> None:
    assert expected_calibration_error([0.9, 0.9, 0.1, 0.1], [True, True, False, False]) == pytest.approx(0.1)
    assert expected_calibration_error([1.0, 0.0], [False, True]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 1))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0)))).astype(float)
    bias, slope = fit_logistic(x, y)
    assert bias == pytest.approx(-1.0, abs=0.25) and slope == pytest.approx(2.0, abs=0.3)


def test_a_huge_lesson_does_not_win_every_question() -> None:
    from content_index.search import Document
    from tests.test_search import LESSONS

    vocabulary = " ".join(f"{d.title} {d.summary} {d.body}" for d in LESSONS).split()
    huge = Document(id="handbook", title="Company handbook", body=" ".join(vocabulary * 400))
    index = LexicalIndex([*LESSONS, huge])
    for lesson in LESSONS:
        assert index.search(lesson.title.lower(), k=1)[0].id == lesson.id


@needs_semantic
def test_the_two_stage_dense_search_of_big_libraries_ranks_like_the_exact_one(
    chat: ConsoleChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    import content_index.semantic as semantic

    index = chat.router.bot.index
    questions = [question for _, question, _ in EVERYDAY]
    exact = [[hit.id for hit in index.search(q, k=3)] for q in questions]
    monkeypatch.setattr(semantic, "LARGE", 0)  # as if the library were big
    monkeypatch.setattr(semantic, "SHORTLIST", 20)
    staged = [[hit.id for hit in index.search(q, k=3)] for q in questions]
    assert [ids[0] for ids in staged] == [ids[0] for ids in exact]


@needs_semantic
def test_the_first_embedding_of_a_large_library_shows_progress(capsys: pytest.CaptureFixture[str]) -> None:
    from content_index.search import Document
    from content_index.semantic import PROGRESS_MIN, EmbeddingCache

    lessons = [Document(id=f"l{n}", title=f"Lesson {n} about topic {n % 7}") for n in range(PROGRESS_MIN)]
    HybridIndex(lessons, cache=EmbeddingCache(None))
    assert "embedding lessons (once)" in capsys.readouterr().err
    HybridIndex(lessons[:10], cache=EmbeddingCache(None))  # cached, and small: no bar
    assert "embedding lessons" not in capsys.readouterr().err


@needs_semantic
def test_a_restart_with_every_vector_cached_loads_no_model_until_a_question(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from content_index.semantic import EmbeddingCache
    from tests.test_search import LESSONS

    path = tmp_path / "embeddings.sqlite3"
    HybridIndex(LESSONS, cache=EmbeddingCache(path))
    restarted = HybridIndex(LESSONS, cache=EmbeddingCache(path))  # e.g. a nudges worker
    assert restarted._encoder is None
    assert restarted.search("pivot table", k=1)[0].id == "pivot-tables"
    assert restarted._encoder is shared_encoder()
