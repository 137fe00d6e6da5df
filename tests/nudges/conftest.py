"""Fixtures for pathways, nudges and campaigns: a bot on a manual clock over a real database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.app import LearnBot, open_bot, prepare
from bot.config import Settings
from nudges.clock import ManualClock
from tests.conftest import write_config

MakeBot = Callable[..., LearnBot]


@pytest.fixture
def make_bot(tmp_path: Path) -> Iterator[MakeBot]:
    """A bot over the sample library on `database_url` (default SQLite), app.yaml overrides, clock at `at`."""
    bots: list[LearnBot] = []

    def build(
        database_url: str | None = None, at: str = "2026-11-27T18:00:00Z", **overrides: object
    ) -> LearnBot:
        folder = tmp_path / f"bot{len(bots)}"
        folder.mkdir()
        settings = Settings(
            data_dir=folder / "data", config_path=write_config(folder, **overrides), database_url=database_url
        )
        prepare(settings)
        bot = open_bot(settings)
        bot.clock = ManualClock(dt.datetime.fromisoformat(at.replace("Z", "+00:00")))
        bots.append(bot)
        return bot

    yield build
    for bot in bots:
        bot.engine.dispose()
