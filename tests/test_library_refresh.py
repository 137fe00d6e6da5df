"""A running bot picks up lessons `learnbot index` added, changed or removed, without rebuilding its index."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.config import Settings
from bot.router import Router
from tests.conftest import ROOT, copy_tree, write_config

NEW_LESSON = """---
id: negotiate-a-raise
title: Negotiate a salary raise with evidence
summary: Prepare the numbers, pick the moment and ask for a raise with confidence.
pillar: people-growth
audience: [everyone]
---
Collect market data, list your results, and rehearse the conversation with a peer.
"""
QUESTION = "how do I negotiate a salary raise"


@pytest.fixture
def running(tmp_path: Path, db_url: str) -> tuple[ConsoleChat, Settings, Path]:
    """A bot over a copy of the sample lessons, checking storage before every question (SQLite and
    PostgreSQL)."""
    lessons = copy_tree(ROOT / "samples" / "content", tmp_path / "lessons")
    config = write_config(tmp_path, search={"refresh_seconds": 0})
    data = yaml.safe_load(config.read_text())
    data["content_sources"][0]["path"] = str(lessons)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    settings = Settings(data_dir=tmp_path / "data", config_path=config, database_url=db_url)
    prepare(settings)
    return ConsoleChat(Router(open_bot(settings))), settings, lessons


def test_a_new_lesson_is_found_without_a_rebuild(running: tuple[ConsoleChat, Settings, Path]) -> None:
    chat, settings, lessons = running
    index = chat.router.bot.index
    size = len(index)
    assert "I don't have a lesson for that yet" in chat.handle_line(QUESTION)

    (lessons / "negotiate-a-raise.md").write_text(NEW_LESSON)
    prepare(settings)  # `learnbot index`, as another process would run it

    assert "Negotiate a salary raise with evidence" in chat.handle_line(QUESTION)
    assert chat.router.bot.index is index and len(index) == size + 1


def test_changed_and_removed_lessons_follow_storage(running: tuple[ConsoleChat, Settings, Path]) -> None:
    chat, settings, lessons = running
    (lessons / "negotiate-a-raise.md").write_text(NEW_LESSON)
    prepare(settings)
    assert "Negotiate a salary raise with evidence" in chat.handle_line(QUESTION)

    (lessons / "negotiate-a-raise.md").write_text(NEW_LESSON.replace("with evidence", "like a pro"))
    prepare(settings)
    assert "Negotiate a salary raise like a pro" in chat.handle_line(QUESTION)

    (lessons / "negotiate-a-raise.md").unlink()
    prepare(settings)
    assert "I don't have a lesson for that yet" in chat.handle_line(QUESTION)
