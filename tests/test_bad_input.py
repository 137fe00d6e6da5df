"""Bad input gets a clear message and loses nothing: NUL bytes, two first messages at once, CLI mistakes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import open_bot, prepare
from bot.cli import main
from bot.config import Settings
from bot.events import Incoming
from bot.router import Router
from storage.models import Identity, Question

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def router(make_settings: Callable[..., Settings], db_url: str) -> Router:
    settings = make_settings(database_url=db_url)
    prepare(settings)
    return Router(open_bot(settings))


def _dm(text: str, user: str = "U0NEW", event: str | None = None) -> Incoming:
    return Incoming(platform="slack", user_id=user, text=text, channel_id="D0NEW", event_id=event)


def test_a_nul_byte_in_a_message_is_answered_and_stored(router: Router) -> None:
    [reply] = router.on_message(_dm("how do I make a pivot\x00 table"))
    assert reply.card is not None and reply.card.content_id == "excel-pivot-tables"
    with router.bot.session() as session:
        [question] = session.exec(select(Question)).all()
    assert question.text == "how do I make a pivot table"


def test_a_new_persons_first_two_messages_at_the_same_moment_are_both_answered(router: Router) -> None:
    """Two replicas (or two threads) meet a new person at once: no 'something went wrong', one person."""
    barrier = threading.Barrier(2)
    answers: dict[str, object] = {}

    def ask(text: str, event: str) -> None:
        barrier.wait()
        try:
            answers[text] = router.on_message(_dm(text, event=event))[0]
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            answers[text] = exc

    threads = [
        threading.Thread(target=ask, args=("how do I make a pivot table", "Ev1")),
        threading.Thread(target=ask, args=("how do I share my outlook calendar", "Ev2")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(getattr(reply, "card", None) is not None for reply in answers.values()), answers
    with router.bot.session() as session:
        identities = session.exec(select(Identity).where(Identity.platform_user_id == "U0NEW")).all()
        questions = session.exec(select(Question)).all()
    assert len(identities) == 1
    assert {q.user_id for q in questions} == {identities[0].person_id} and len(questions) == 2


def test_a_data_dir_that_is_a_file_is_named_in_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("oops")
    code = main(["--data-dir", str(not_a_folder), "db", "upgrade"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot use the data directory '{not_a_folder}'" in err and "Traceback" not in err


def test_eval_with_a_folder_for_queries_says_so(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    prepare(settings)
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]
    code = main([*args, "eval", "--queries", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {tmp_path}") and "Traceback" not in err


def test_ask_into_a_pipe_that_closes_early_ends_quietly(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    prepare(settings)
    command = [
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(settings.config_path),
        "--data-dir",
        str(settings.data_dir),
        "ask",
        "how do I make a pivot table",
        "-k",
        "50",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has already gone, as `head` has once it has its lines
    try:
        done = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=120)
    finally:
        os.close(write_end)
    err = done.stderr.decode()
    assert err == ""  # no traceback, no "Broken pipe" noise: it just stops
