"""Fixtures for the Teams tests: the fake connector and learnbot served with Teams on, one per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app import prepare
from bot.config import Settings
from tests.conftest import write_config
from tests.teams.fake_connector import FakeConnector
from tests.teams.harness import LEARNER, OTHER, TeamsApp, member, teams_settings

ADMIN = "00000000-0000-4000-8000-00000000ad01"
SME_CHANNEL = "19:experts@thread.tacv2"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeConnector]:
    people = {
        f"29:{LEARNER}": member(LEARNER, "Ana Learner", "ana@example.com"),
        f"29:{OTHER}": member(OTHER, "Ola Other", "ola@example.com"),
        f"29:{ADMIN}": member(ADMIN, "Ada Admin", "ada@example.com"),
    }
    with FakeConnector(members=people) as server:
        yield server


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("teams")
    config = write_config(folder, admins=[ADMIN], channels={"sme": SME_CHANNEL, "announcements": "general"})
    settings = teams_settings(Settings(data_dir=folder / "data", config_path=config))
    prepare(settings)
    return settings


@pytest.fixture(scope="module")
def app(settings: Settings, fake: FakeConnector) -> Iterator[TeamsApp]:
    served = TeamsApp.start(settings, fake)
    yield served
    served.stop()


@pytest.fixture
def teams(app: TeamsApp, fake: FakeConnector) -> TeamsApp:
    """The module's server, with the connector's record cleared for this test."""
    app.finish()
    fake.reset()
    return app
