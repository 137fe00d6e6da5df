"""Shared fixtures: real databases (SQLite files and the PostgreSQL server), workspaces with app.yaml.

PostgreSQL tests use the server at 127.0.0.1:5432 (override with LEARNBOT_TEST_PG_URL), each
in a schema of its own. Without a server they skip with the reason, except under CI=true,
where a skip would hide untested code, so they fail instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.config import Settings
from bot.router import Router

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LEARNBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_unavailable_reason() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server to test against"
        first_line = str(exc).splitlines()[0]
        return f"no PostgreSQL server at {PG_URL.split('@')[-1]}: {type(exc).__name__}: {first_line}"
    return None


_PG_REASON: str | None | bool = False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema on the real PostgreSQL server."""
    global _PG_REASON
    if _PG_REASON is False:
        _PG_REASON = _pg_unavailable_reason()
    if _PG_REASON:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the PostgreSQL tests to run: {_PG_REASON}")
        pytest.skip(str(_PG_REASON))
    schema = f"lb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on a SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'learnbot.db'}"
    return request.getfixturevalue("pg_url")


def write_config(folder: Path, **overrides: object) -> Path:
    """The sample app.yaml, with its sources pointing at the sample library, plus overrides."""
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    for source in data["content_sources"]:
        source["path"] = str(ROOT / source["path"])
    data.update(overrides)
    path = folder / "app.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(config_path: Path | None = None, database_url: str | None = None) -> Settings:
        return Settings(
            data_dir=tmp_path / "data",
            config_path=config_path or write_config(tmp_path),
            database_url=database_url,
        )

    return build


@pytest.fixture(scope="session")
def prepared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory `learnbot index` has filled from the sample library, made once per run."""
    folder = tmp_path_factory.mktemp("prepared")
    prepare(Settings(data_dir=folder / "data", config_path=write_config(folder)))
    return folder / "data"


@pytest.fixture
def chat(make_settings: Callable[..., Settings], prepared_data: Path) -> ConsoleChat:
    """The console chat over the sample library, on a fresh SQLite database: a copy of one that
    `prepare` made (the same as preparing anew, without its half second a test)."""
    settings = make_settings()
    shutil.copytree(prepared_data, settings.data_dir)
    return ConsoleChat(Router(open_bot(settings)))


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
