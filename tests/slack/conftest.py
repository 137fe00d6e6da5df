"""Fixtures for the Slack tests: the fake Slack, settings pointing at it, and learnbot's Bolt app served."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, slack_settings


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], fake: FakeSlack, prepared_data: Path) -> Settings:
    settings = slack_settings(make_settings(), fake)
    shutil.copytree(prepared_data, settings.data_dir)  # as `prepare` leaves it (see tests/conftest.py)
    return settings


@pytest.fixture
def slack(settings: Settings, fake: FakeSlack) -> Iterator[SlackApp]:
    app = SlackApp.start(settings, fake)
    fake.reset()  # auth.test at start-up is not what the tests are about
    yield app
    app.stop()
