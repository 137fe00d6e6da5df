"""The "why" audit in chat: admins list the most-used lessons with their flags, and give a lesson its pillar
and impact tag from chat; the overlay shows at once and survives `learnbot index` (even a changed file)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.cli import main
from bot.config import Settings
from bot.router import Router
from storage.models import ContentItem, LessonOverlay
from tests.conftest import ROOT, write_config

OUTLOOK = "how do I share my outlook calendar"
EDIT = 'why outlook-share-calendar: pillar customer-trust, impact "Customers get answers faster"'


def test_admins_see_the_most_used_lessons_with_their_flags(chat: ConsoleChat) -> None:
    for _ in range(3):
        chat.handle_line(OUTLOOK)
    chat.handle_line("3")  # Rate the last answer
    chat.handle_line("4")
    chat.handle_line("2")
    chat.handle_line("/as admin")
    audit = chat.handle_line("why")
    assert "The top 20% most-used lessons of the last 30 days (1)" in audit
    assert (
        "1. Share your Outlook calendar (outlook-share-calendar) · 3 uses (3 answers, 0 completions, "
        '0 pathway starts) · Operational efficiency · impact "Cuts back-and-forth scheduling emails across '
        'teams" · role relevance 4.0, strategic clarity 2.0 from 1 rating'
    ) in " ".join(audit.split())
    assert "⚠ past its review date (reviewed 2025-08-04)" in audit  # one rating is too few to call it unclear
    assert 'Change one with why LESSON: pillar PILLAR, impact "…".' in audit


def test_why_is_for_admins_and_only_in_private(chat: ConsoleChat) -> None:
    chat.handle_line(OUTLOOK)
    assert "top 20% most-used lessons" not in chat.handle_line("why")  # a learner: just a question
    assert "Updated" not in chat.handle_line(EDIT)
    chat.handle_line("/as admin")
    chat.handle_line("/channel general")
    assert "only answer that in a direct message" in chat.handle_line("why")
    assert "only answer that in a direct message" in chat.handle_line(EDIT)
    with chat.router.bot.session() as session:
        assert session.get(LessonOverlay, "outlook-share-calendar") is None


def test_an_admin_gives_a_lesson_its_why_and_the_next_answer_shows_it(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    said = chat.handle_line(EDIT)
    assert (
        'Updated Share your Outlook calendar: pillar Customer trust, impact "Customers get answers faster".'
        in said
    )
    assert "It stays that way when the library is indexed again." in said
    chat.handle_line("/as learner")
    assert "Why it matters: Customer trust — Customers get answers faster" in chat.handle_line(OUTLOOK)
    chat.handle_line("/as admin")
    chat.handle_line("why outlook-share-calendar: pillar people-growth")  # one part alone
    with chat.router.bot.session() as session:
        item = session.get(ContentItem, "outlook-share-calendar")
        assert item is not None and (item.pillar, item.impact) == (
            "people-growth",
            ["Customers get answers faster"],
        )


def test_bad_why_edits_say_what_is_wrong_and_change_nothing(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    said = {
        "unknown lesson": chat.handle_line("why no-such-lesson: pillar efficiency"),
        "unknown pillar": chat.handle_line("why outlook-share-calendar: pillar moonshots"),
        "malformed": chat.handle_line("why outlook-share-calendar: colour blue"),
        "unquoted impact": chat.handle_line("why outlook-share-calendar: impact faster answers"),
        "empty impact": chat.handle_line('why outlook-share-calendar: impact ""'),
        "nothing": chat.handle_line("why outlook-share-calendar:"),
    }
    assert "I don't know a lesson with the id no-such-lesson." in said["unknown lesson"]
    assert (
        "I don't know the pillar 'moonshots'. Pillars: customer-trust, efficiency, people-growth."
        in (said["unknown pillar"])
    )
    assert "I couldn't read 'colour blue'." in said["malformed"]
    assert "I couldn't read 'impact faster answers'." in said["unquoted impact"]
    assert "The impact tag is empty" in said["empty impact"]
    assert "Nothing to change after the colon." in said["nothing"]
    for reply in said.values():
        assert 'Usage: why LESSON: pillar PILLAR, impact "what it changes for the business"' in reply
    with chat.router.bot.session() as session:
        item = session.get(ContentItem, "outlook-share-calendar")
        assert item is not None and item.pillar == "efficiency"
        assert session.get(LessonOverlay, "outlook-share-calendar") is None


def test_the_overlay_survives_learnbot_index_even_when_the_file_changes(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    library = tmp_path / "lessons"
    shutil.copytree(ROOT / "samples" / "content", library)
    sources = [{"name": "lessons", "type": "markdown", "path": str(library)}]
    settings = make_settings(write_config(tmp_path, content_sources=sources))
    prepare(settings)
    chat = ConsoleChat(Router(open_bot(settings)))
    chat.handle_line("/as admin")
    chat.handle_line(EDIT)

    lesson = library / "outlook-share-calendar.md"
    lesson.write_text(lesson.read_text().replace("Let colleagues see", "Let your colleagues see"))
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]
    assert main([*args, "index", "--no-progress"]) == 0

    restarted = ConsoleChat(Router(open_bot(settings)))
    answer = restarted.handle_line(OUTLOOK)
    assert "Let your colleagues see" in answer  # the file's change is in
    assert "Why it matters: Customer trust — Customers get answers faster" in answer  # and so is the overlay
    chat.router.bot.engine.dispose()
    restarted.router.bot.engine.dispose()


def test_a_long_audit_comes_in_several_messages_none_cut_short(chat: ConsoleChat) -> None:
    from bot.events import Incoming
    from storage.content import active_content
    from storage.models import AnswerShown, Question
    from storage.people import identify

    with chat.router.bot.session() as session:
        lessons = active_content(session=session)
        learner = identify(session=session, platform="console", platform_user_id="console-learner")
        for uses, item in enumerate(lessons, 1):
            for _ in range(uses % 7 + 1):
                question = Question(user_id=learner.id, platform="console", text=item.title)
                session.add(question)
                session.flush()
                assert question.id is not None
                session.add(AnswerShown(question_id=question.id, content_id=item.id))
    expected = -(-len(lessons) // 5)  # a fifth, rounded up
    said = chat.router.on_message(
        Incoming(platform="console", user_id="console-admin", text="why", channel_id="dm", is_direct=True)
    )
    assert len(said) > 1 and all(len(reply.text) <= 2600 for reply in said)
    said_lines = [line for reply in said for line in str(reply.text).splitlines()]
    numbers = [found[1] for line in said_lines if (found := re.match(r"^(\d+)\. ", line))]
    assert numbers == [str(n) for n in range(1, expected + 1)]
