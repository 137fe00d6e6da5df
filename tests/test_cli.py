"""The `learnbot` command line as an admin uses it: migrate, index, ask, help."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.cli import main
from bot.config import Settings


def run(settings: Settings, *args: str) -> int:
    return main(["--config", str(settings.config_path), "--data-dir", str(settings.data_dir), *args])


def test_db_upgrade_then_index_then_ask_prints_the_card_and_scored_results(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    assert run(settings, "db", "upgrade") == 0
    assert "database at revision" in capsys.readouterr().out
    assert run(settings, "index", "--no-progress") == 0
    assert capsys.readouterr().out.startswith("indexed: 66 added")

    assert run(settings, "ask", "how do I share my outlook calendar", "-k", "3") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Share your Outlook calendar")
    assert "Why it matters: Operational efficiency" in out
    ranked = [line for line in out.splitlines() if line.lstrip()[:2] in ("1.", "2.", "3.")]
    assert len(ranked) == 3 and "outlook-share-calendar" in ranked[0] and "conf " in ranked[0]


def test_ask_without_a_good_lesson_says_so(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    run(settings, "index", "--no-progress")
    capsys.readouterr()
    assert run(settings, "ask", "what's on the canteen menu today") == 0
    assert capsys.readouterr().out.startswith("No lesson for that yet")


def test_chat_on_a_database_that_was_never_migrated_says_what_to_run(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(make_settings(), "ask", "anything") == 2
    assert "run `learnbot db upgrade` first" in capsys.readouterr().err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("index", "ask", "chat", "db", "eval"):
        assert command in out
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert "--queries" in capsys.readouterr().out
