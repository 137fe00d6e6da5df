"""xAPI export: a learner's conversation becomes statements that ralph's xAPI models accept, with the
right actor, verb, lesson and context; sweeping twice records nothing twice; `learnbot xapi export`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement
from sqlalchemy import inspect as sa_inspect
from sqlmodel import col, select

from bot.adapters.console import ConsoleChat
from bot.app import LearnBot, open_bot, prepare
from bot.cli import main
from bot.config import Settings, SettingsError, load_settings
from bot.router import Router
from bot.wiring import senders
from nudges.clock import ManualClock
from nudges.scheduler import run_tick
from nudges.xapi.statements import VERB_IRIS
from nudges.xapi.sweep import sweep
from storage.models import OutboxMessage, XapiStatement
from tests.conftest import write_config

BASE = "https://learn.acme.example/xapi"
LESSON = "https://learn.example.com/lessons/give-peer-feedback"  # the sample lesson's url
MakeBot = Callable[..., LearnBot]


@pytest.fixture
def make_bot(tmp_path: Path) -> Iterator[MakeBot]:
    """A bot over the sample library with an app.yaml `xapi` section, on SQLite or `database_url`."""
    bots: list[LearnBot] = []

    def build(database_url: str | None = None, **xapi: object) -> LearnBot:
        folder = tmp_path / f"bot{len(bots)}"
        folder.mkdir()
        config = write_config(folder, xapi={"iri_base": BASE, **xapi})
        settings = Settings(data_dir=folder / "data", config_path=config, database_url=database_url)
        prepare(settings)
        bot = open_bot(settings)
        bot.clock = ManualClock(dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))
        bots.append(bot)
        return bot

    yield build
    for bot in bots:
        bot.engine.dispose()


def learner_conversation(bot: LearnBot) -> list[str]:
    """Sam asks, finds the answer helpful, is enrolled, starts and finishes the first step, applies it,
    shares the takeaway with their manager, and rates the lesson."""
    chat = ConsoleChat(Router(bot))
    lines = [
        "how do I give feedback to a peer",
        "1",  # Helpful
        "/clock 2026-11-27 18:00",
        "/as admin",
        "enrol console-learner in feedback-culture",
        "/as learner",
        "/clock +3d",
        "1",  # Start
        "1",  # Done
        "/clock 2026-12-04 12:00",
        "1",  # Applied it
        "I asked for feedback in the first minute of our retro",
        "1",  # Share with my manager
        "how do I give feedback to a peer",
        "3",  # Rate
        "4",
        "5",
    ]
    out = [chat.handle_line(line) for line in lines]
    assert "Did you get to apply Give useful feedback to a peer?" in out[9]
    assert "relevance to your role 4/5, strategic clarity 5/5" in out[-1]
    return out


def recorded(bot: LearnBot) -> list[XapiStatement]:
    with bot.session() as session:
        return list(session.exec(select(XapiStatement).order_by(col(XapiStatement.timestamp))))


def by_verb(rows: list[XapiStatement]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(row.verb, []).append(row.statement)
    return found


def test_a_learners_conversation_becomes_valid_statements_with_actor_verb_lesson_and_context(
    make_bot: MakeBot, db_url: str
) -> None:
    bot = make_bot(db_url)
    learner_conversation(bot)
    with bot.session() as session:
        result = sweep(session=session, config=bot.config, now=bot.clock.now())
    assert result.recorded == Counter(
        asked=2, answered=2, rated=2, experienced=1, completed=1, applied=1, shared=1
    )
    rows = recorded(bot)
    for row in rows:
        BaseXapiStatement.model_validate(row.statement)  # ralph's xAPI models accept every statement
        assert row.statement["version"] == "1.0.3" and row.id == row.statement["id"]
    statements = by_verb(rows)
    sam = {
        "objectType": "Agent",
        "account": {"homePage": f"{BASE}/platforms/console", "name": "console-learner"},
    }
    for verb in ("asked", "experienced", "completed", "applied", "rated", "shared"):
        assert all(s["actor"] == sam for s in statements[verb]), verb
    assert {verb: statements[verb][0]["verb"]["id"] for verb in VERB_IRIS} == {
        "asked": "http://adlnet.gov/expapi/verbs/asked",
        "answered": "http://adlnet.gov/expapi/verbs/answered",
        "experienced": "http://adlnet.gov/expapi/verbs/experienced",
        "completed": "http://adlnet.gov/expapi/verbs/completed",
        "shared": "http://adlnet.gov/expapi/verbs/shared",
        "rated": "http://id.tincanapi.com/verb/rated",
    }
    assert statements["applied"][0]["verb"]["id"] == f"{BASE}/verbs/applied"

    [completed] = statements["completed"]
    assert completed["object"] == {
        "objectType": "Activity",
        "id": LESSON,
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/lesson",
            "name": {"en-US": "Give useful feedback to a peer"},
        },
    }
    assert completed["result"] == {"completion": True}
    assert completed["timestamp"] == "2026-11-30T18:00:00.000Z"  # when Sam pressed Done
    assert completed["context"]["extensions"] == {
        f"{BASE}/extensions/pillar": f"{BASE}/pillars/people-growth",
        f"{BASE}/extensions/pathway": f"{BASE}/pathways/feedback-culture",
    }
    assert completed["context"]["contextActivities"]["parent"][0]["id"] == f"{BASE}/pathways/feedback-culture"

    first_question = statements["asked"][0]
    assert first_question["object"]["id"].startswith(f"{BASE}/questions/")
    assert first_question["result"] == {"success": True}
    answered = statements["answered"][0]
    assert answered["actor"]["account"] == {"homePage": BASE, "name": "learnbot"}
    assert answered["object"]["id"] == first_question["object"]["id"]
    assert answered["context"]["statement"] == {"objectType": "StatementRef", "id": first_question["id"]}
    assert answered["result"]["response"] == LESSON

    helpful, rating = statements["rated"]
    assert helpful["result"] == {"success": True, "response": "helpful"}
    assert rating["result"]["extensions"] == {
        f"{BASE}/extensions/role-relevance": 4,
        f"{BASE}/extensions/strategic-clarity": 5,
    }
    everything = json.dumps([row.statement for row in rows])
    assert "first minute of our retro" not in everything  # typed text never leaves learnbot
    assert "how do I give feedback" not in everything and "sam@acme.example" not in everything


def test_sweeping_again_records_nothing_twice_and_batches_go_to_the_outbox(make_bot: MakeBot) -> None:
    bot = make_bot(batch_size=4)
    learner_conversation(bot)
    with bot.session() as session:
        first = sweep(session=session, config=bot.config, now=bot.clock.now())
    with bot.session() as session:
        again = sweep(session=session, config=bot.config, now=bot.clock.now())
    assert sum(first.recorded.values()) == 10 and first.batches == 3  # 4 + 4 + 2
    assert not again.recorded and again.batches == 0
    with bot.session() as session:
        rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.platform == "xapi")))
        statements = list(session.exec(select(XapiStatement)))
    assert sorted(row.payload["statements"] for row in rows) == [2, 4, 4]
    assert {s.batch for s in statements} == {row.idempotency_key for row in rows}
    assert all(s.sent_at is None for s in statements)

    # A rating changed later is a new statement; the old one stays as it was sent.
    chat = ConsoleChat(Router(bot))
    chat.handle_line("/clock 2026-12-10 12:00")
    for line in ("how do I give feedback to a peer", "3", "2", "3"):
        chat.handle_line(line)
    with bot.session() as session:
        later = sweep(session=session, config=bot.config, now=bot.clock.now())
    assert later.recorded == Counter(asked=1, answered=1, rated=1)


def test_mbox_sha1sum_actor_by_app_yaml_choice(make_bot: MakeBot) -> None:
    bot = make_bot(actor="mbox_sha1sum")
    learner_conversation(bot)
    with bot.session() as session:
        sweep(session=session, config=bot.config, now=bot.clock.now())
    [completed] = by_verb(recorded(bot))["completed"]
    BaseXapiStatement.model_validate(completed)
    digest = hashlib.sha1(b"mailto:sam@acme.example").hexdigest()
    assert completed["actor"] == {"objectType": "Agent", "mbox_sha1sum": digest}


def test_the_planner_tick_sweeps_only_when_an_lrs_is_configured(make_bot: MakeBot) -> None:
    bot = make_bot()
    learner_conversation(bot)
    run_tick(bot, {})  # no XAPI_ENDPOINT: no xapi sender, nothing recorded
    assert recorded(bot) == []
    settings = load_settings(
        {"XAPI_ENDPOINT": "http://127.0.0.1:9/xAPI/", "XAPI_KEY": "key", "XAPI_SECRET": "s3cret-value"}
    )
    registered = senders(settings, bot.clock, console=False, engine=bot.engine)
    assert list(registered) == ["xapi"]
    assert "s3cret-value" not in repr(settings) and settings.xapi_endpoint == "http://127.0.0.1:9/xAPI"
    with bot.session() as session:  # sweep without delivering (port 9 would refuse)
        swept = sweep(session=session, config=bot.config, now=bot.clock.now())
    assert sum(swept.recorded.values()) == 10


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"XAPI_ENDPOINT": "https://lrs.acme.example/xAPI"}, "XAPI_KEY and XAPI_SECRET"),
        (
            {"XAPI_ENDPOINT": "http://lrs.acme.example/xAPI", "XAPI_KEY": "k", "XAPI_SECRET": "s"},
            "must use https unless it is a loopback address",
        ),
        (
            {"XAPI_ENDPOINT": "lrs.acme.example", "XAPI_KEY": "k", "XAPI_SECRET": "s"},
            "must be an http(s) URL",
        ),
    ],
)
def test_bad_lrs_settings_say_what_is_wrong(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match="XAPI_ENDPOINT") as caught:
        load_settings(env)
    assert problem in str(caught.value)


def test_bad_xapi_section_in_app_yaml_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, xapi={"actor": "email", "batch_size": 0, "iri_base": "learnbot"})
    assert main(["--config", str(config), "--data-dir", str(tmp_path / "d"), "xapi", "sweep"]) == 0  # off
    assert (
        main(["--config", str(config), "--data-dir", str(tmp_path / "d"), "xapi", "export", "--out", "x"])
        == 2
    )
    err = capsys.readouterr().err
    assert "xapi.actor: Input should be 'account' or 'mbox_sha1sum'" in err
    assert "xapi.batch_size: Input should be greater than or equal to 1" in err
    assert "xapi.iri_base: must be an http(s) URL" in err


def test_export_writes_the_statements_sent_and_those_not_swept_yet(
    make_bot: MakeBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = make_bot()
    learner_conversation(bot)
    with bot.session() as session:
        sweep(session=session, config=bot.config, now=bot.clock.now())
    ConsoleChat(Router(bot)).handle_line("how do I give feedback to a peer")  # after the sweep: new
    sent = {row.id: row.statement for row in recorded(bot)}
    out = tmp_path / "out" / "statements.json"
    config = str(bot.config.base_dir / "app.yaml")
    data_dir = str(bot.config.base_dir / "data")
    args = [
        "--config",
        config,
        "--data-dir",
        data_dir,
        "xapi",
        "export",
        "--since",
        "3650d",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert "wrote 12 statements since" in capsys.readouterr().out
    exported = json.loads(out.read_text())
    assert {s["id"]: s for s in exported if s["id"] in sent} == sent  # exactly what the LRS gets
    assert Counter(s["verb"]["display"]["en-US"] for s in exported if s["id"] not in sent) == Counter(
        asked=1, answered=1
    )
    for statement in exported:
        BaseXapiStatement.model_validate(statement)

    assert main(args[:-4] + ["--since", "last month", "--out", str(out)]) == 2
    assert "--since 'last month': use a period like 30d, 12h or 2w" in capsys.readouterr().err
    assert main(args[:-2] + ["--out", str(tmp_path)]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err


def test_migration_0013_adds_and_removes_the_statement_table(db_url: str) -> None:
    from alembic import command

    from storage.db import _alembic_config, make_engine, upgrade

    engine = make_engine(db_url)
    try:
        assert upgrade(engine, "0013") == "0013"
        columns = {c["name"] for c in sa_inspect(engine).get_columns("xapistatement")}
        assert {"id", "key", "user_id", "verb", "object", "statement", "batch", "sent_at"} <= columns
        command.downgrade(_alembic_config(engine), "0012")
        assert "xapistatement" not in sa_inspect(engine).get_table_names()
        assert upgrade(engine) is not None and "xapistatement" in sa_inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_long_history_is_swept_a_bounded_piece_at_a_time_and_nothing_is_left(make_bot: MakeBot) -> None:
    bot = make_bot(batch_size=3)
    learner_conversation(bot)
    pieces = []
    for _ in range(5):
        with bot.session() as session:
            pieces.append(sweep(session=session, config=bot.config, now=bot.clock.now(), limit=4))
        if not pieces[-1].more:
            break
    assert [sum(p.recorded.values()) for p in pieces] == [4, 4, 2]
    assert [p.batches for p in pieces] == [2, 2, 1]
    rows = recorded(bot)
    assert len({row.key for row in rows}) == 10 and all(row.batch for row in rows)


def test_a_persons_statements_are_listed_for_their_export_and_emptied_when_they_are_forgotten(
    make_bot: MakeBot, db_url: str
) -> None:
    from storage.people import identify
    from storage.xapi import forget_person, statements_for_person

    bot = make_bot(db_url)
    learner_conversation(bot)
    with bot.session() as session:
        sweep(session=session, config=bot.config, now=bot.clock.now())
        sam = identify(
            session=session, platform="console", platform_user_id="console-learner", now=bot.clock.now()
        )
        assert sam.id is not None
        mine = statements_for_person(session=session, user_id=sam.id)
        assert len(mine) == 10 and {s.verb for s in mine} >= {"asked", "completed", "applied", "shared"}
        assert forget_person(session=session, user_id=sam.id) == 10
        assert statements_for_person(session=session, user_id=sam.id) == []
    with bot.session() as session:  # the rows kept as anonymous counts are not turned into statements again
        assert not sweep(session=session, config=bot.config, now=bot.clock.now()).recorded
        everything = json.dumps([row.statement for row in session.exec(select(XapiStatement))])
    assert "console-learner" not in everything
