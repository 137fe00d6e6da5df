"""app.yaml `search:`: company synonyms reach the chat; mistakes are named by key before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.config import ConfigError, Settings, load_config
from bot.router import Router
from content_index.semantic import unavailable_reason
from tests.conftest import write_config

STATUS = "Write a clear project status update"


def chat_with(tmp_path: Path, search: dict[str, object]) -> ConsoleChat:
    tmp_path.mkdir()
    settings = Settings(data_dir=tmp_path / "data", config_path=write_config(tmp_path, search=search))
    prepare(settings)
    return ConsoleChat(Router(open_bot(settings)))


def test_company_synonyms_in_app_yaml_find_the_lesson(tmp_path: Path) -> None:
    question = "how do i do a sitrep"
    assert STATUS not in chat_with(tmp_path / "plain", {}).handle_line(question)
    chat = chat_with(tmp_path / "custom", {"synonyms": [["sitrep", "status update"]]})
    assert STATUS in chat.handle_line(question)


def test_built_in_synonyms_can_be_switched_off(tmp_path: Path) -> None:
    question = "any good hotkeys?"
    lexical = {"semantic": "off"}  # the semantic tier knows hotkeys are shortcuts without any list
    assert "Keyboard shortcuts that save hours" in chat_with(tmp_path / "on", lexical).handle_line(question)
    off = chat_with(tmp_path / "off", {**lexical, "builtin_synonyms": False})
    assert "Keyboard shortcuts that save hours" not in off.handle_line(question)


@pytest.mark.parametrize(
    ("search", "problem"),
    [
        ({"synonyms": [["pto"]]}, "search.synonyms: group 0 needs at least two phrases"),
        ({"synonyms": "pto, vacation"}, "search.synonyms: Input should be a valid list"),
        ({"semantic": "maybe"}, "search.semantic: Input should be 'off', 'on' or 'auto'"),
        ({"refresh_seconds": -1}, "search.refresh_seconds: Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_search_setting_names_its_key(tmp_path: Path, search: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, search=search))
    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems


@pytest.mark.skipif(unavailable_reason() is None, reason="the semantic extra is installed here")
def test_semantic_on_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", config_path=write_config(tmp_path, search={"semantic": "on"})
    )
    prepare(settings)
    with pytest.raises(ConfigError) as caught:
        open_bot(settings)
    assert "search.semantic is 'on' but the semantic extra is not installed" in str(caught.value)
    assert 'pip install -e ".[semantic]"' in str(caught.value)
