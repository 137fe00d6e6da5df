"""Curation in the console: an expert's `save lesson: …`, the lesson answering at once with "Curated by",
peer validation counted once per colleague (never the curator) and fed to ranking; bad drafts refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.adapters.console import ConsoleChat
from bot.config import ConfigError, load_config
from content_index.feedback import VALIDATION_EFFECT, FeedbackSignals
from storage.curation import validations
from storage.models import ContentItem, Curation
from tests.conftest import ROOT, write_config

SAVE = (
    "save lesson: Refund a duplicate card charge | Open the order, press Refund, pick the second charge "
    'and tell the customer it lands in 3-5 days | pillar customer-trust | impact "Refunds right first time" '
    "| skills refunds, billing | audience support"
)
QUESTION = "how do I refund a duplicate card charge"
FOR_EVERYONE = SAVE.removesuffix(" | audience support")


def curated(chat: ConsoleChat) -> list[ContentItem]:
    with chat.router.bot.session() as session:
        return list(session.exec(select(ContentItem).where(ContentItem.source == "curated")))


def test_an_expert_saves_a_lesson_in_chat_and_it_answers_the_next_question(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")  # admins are experts too
    saved = chat.handle_line(SAVE)
    assert "Saved Refund a duplicate card charge as a micro-lesson under Customer trust" in saved
    [lesson] = curated(chat)
    assert (lesson.pillar, lesson.impact, lesson.skills, lesson.audience) == (
        "customer-trust",
        ["Refunds right first time"],
        ["refunds", "billing"],
        ["support"],
    )
    answer = chat.handle_line(QUESTION + "?")
    assert answer.splitlines()[0].removeprefix("learnbot ▸ ").startswith("Refund a duplicate card charge")
    assert "Why it matters: Customer trust — Refunds right first time" in answer
    assert "Curated by Lee (L&D admin)" in answer


def test_peer_validation_counts_each_colleague_once_and_never_the_curator(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    chat.handle_line(FOR_EVERYONE)
    [lesson] = curated(chat)
    chat.handle_line(QUESTION)
    chat.handle_line("1")  # the curator's own Helpful does not count
    for persona in ("learner", "learner", "manager"):  # the learner twice: counted once
        chat.handle_line(f"/as {persona}")
        chat.handle_line(QUESTION)
        chat.handle_line("1")
    with chat.router.bot.session() as session:
        assert validations(session=session) == {lesson.id: 2}
    chat.handle_line("/as manager")
    assert "Curated by Lee (L&D admin) · validated by 2 colleagues" in chat.handle_line(QUESTION)


def test_validation_gives_a_small_bounded_boost() -> None:
    signals = FeedbackSignals()
    signals.set_validations("curated", 3)
    signals.set_validations("famous", 400)
    boosts = signals.multipliers("anything at all", ["curated", "famous", "plain"])
    assert boosts["curated"] == 1 + VALIDATION_EFFECT * 3 / 5
    assert boosts["famous"] == 1 + VALIDATION_EFFECT  # at most +10%, however many
    assert "plain" not in boosts


def test_a_learner_is_refused_and_nothing_is_saved(chat: ConsoleChat) -> None:
    refused = chat.handle_line(SAVE)
    assert "Saving messages as micro-lessons is for subject-matter experts and L&D admins" in refused
    assert curated(chat) == []


def test_bad_drafts_say_what_is_wrong_and_save_nothing(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    said = {
        "too few parts": chat.handle_line("save lesson: Just a title"),
        "no pillar": chat.handle_line('save lesson: A title | A summary | impact "x"'),
        "unknown pillar": chat.handle_line("save lesson: A title | A summary | pillar moonshots"),
        "unreadable": chat.handle_line("save lesson: A title | A summary | pillar efficiency | colour blue"),
        "twice": chat.handle_line("save lesson: T | S | pillar efficiency | pillar customer-trust"),
        "long title": chat.handle_line(f"save lesson: {'x' * 201} | S | pillar efficiency"),
    }
    assert "I need at least a title, a summary and a pillar" in said["too few parts"]
    assert "Which pillar does it serve? Add | pillar PILLAR." in said["no pillar"]
    assert (
        "I don't know the pillar 'moonshots'. Pillars: customer-trust, efficiency, people-growth"
        in (said["unknown pillar"])
    )
    assert "I couldn't read 'colour blue'" in said["unreadable"]
    assert "pillar is given twice" in said["twice"]
    assert "the title is 201 characters long; keep it to 200" in said["long title"]
    for reply in said.values():
        assert "Usage: save lesson: TITLE | SUMMARY | pillar PILLAR" in reply or "Nothing was saved" in reply
    assert curated(chat) == []
    with chat.router.bot.session() as session:
        assert list(session.exec(select(Curation))) == []


def test_two_lessons_with_the_same_title_get_their_own_ids(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    chat.handle_line(SAVE)
    chat.handle_line(SAVE.replace("3-5 days", "five working days"))
    assert sorted(item.id for item in curated(chat)) == [
        "curated-refund-a-duplicate-card-charge",
        "curated-refund-a-duplicate-card-charge-2",
    ]


def test_help_tells_experts_and_admins_about_their_commands(chat: ConsoleChat) -> None:
    assert "save lesson" not in chat.handle_line("help")
    chat.handle_line("/as admin")
    told = chat.handle_line("help")
    assert "save lesson: TITLE | SUMMARY | pillar PILLAR" in told and "why (the most-used lessons" in told


def test_a_content_source_may_not_be_called_curated(tmp_path: Path) -> None:
    sources = [{"name": "curated", "type": "markdown", "path": str(ROOT / "samples" / "content")}]
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, content_sources=sources))
    assert caught.value.problems == [
        "content_sources[0].name: 'curated' is reserved for lessons experts save from chat"
    ]
