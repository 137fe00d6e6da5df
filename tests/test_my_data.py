"""A learner's own data: `export my data` and `delete my data` in chat, `learnbot user` for admins.

After a delete, every text and JSON column of every table (found from the schema, so tables added
later are searched too) is searched for what identified the learner, and nothing is found.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, String, select
from sqlmodel import SQLModel

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.cli import main
from bot.config import Settings
from bot.events import Action
from bot.router import Router
from storage.models import (
    Enrolment,
    Identity,
    Meeting,
    OutboxMessage,
    Person,
    Question,
    Rating,
    StepProgress,
    XapiStatement,
)
from storage.people import identity_of
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, posted_message, slack_settings, texts

QUESTION = "how do I give feedback to a peer who keeps missing deadlines"
TAKEAWAY = "I will tell Jo about the missed Tuesday deadline using situation-behaviour-impact"
COMMENT = "Too long for my lunch break, but the SBI example was spot on"
LEARNER = ("console-learner", "Sam (learner)", "sam@acme.example", "dm-console-learner")


@pytest.fixture
def chat_on(make_settings: Callable[..., Settings], db_url: str) -> ConsoleChat:
    """The console chat over the sample library, on SQLite and on PostgreSQL."""
    settings = make_settings(database_url=db_url if db_url.startswith("postgresql") else None)
    prepare(settings)
    return ConsoleChat(Router(open_bot(settings)))


def learner_id(chat: ConsoleChat) -> int | None:
    with chat.router.bot.session() as session:
        identity = identity_of(session=session, platform="console", platform_user_id="console-learner")
        return identity.person_id if identity else None


def fill_learner_data(chat: ConsoleChat) -> int:
    """The learner asks in chat; a manager, pathway, takeaway, rating, xAPI and a nudge are stored."""
    chat.handle_line("/as manager")
    chat.handle_line("hello")
    chat.handle_line("/as learner")
    assert "feedback" in chat.handle_line(QUESTION).lower()
    chat.handle_line("2")  # Not helpful
    person_id = learner_id(chat)
    assert person_id is not None
    now = dt.datetime.now(dt.UTC)
    with chat.router.bot.session() as session:
        manager = session.get(
            Person,
            identity_of(session=session, platform="console", platform_user_id="console-manager").person_id,
        )
        learner = session.get(Person, person_id)
        learner.manager_id = manager.id
        enrolment = Enrolment(user_id=person_id, pathway_id="feedback-culture")
        session.add_all([learner, enrolment])
        session.flush()
        session.add(
            StepProgress(enrolment_id=enrolment.id, content_id="give-peer-feedback", takeaway=TAKEAWAY)
        )
        session.add(
            Rating(
                user_id=person_id,
                content_id="give-peer-feedback",
                role_relevance=4,
                strategic_clarity=5,
                comment=COMMENT,
            )
        )
        session.add(
            Meeting(
                id="roster:m:r:1", manager_id=manager.id, report_id=person_id, start_at=now, source="roster"
            )
        )
        session.add(
            OutboxMessage(
                idempotency_key=f"step:{person_id}:feedback-culture:1",
                platform="console",
                user_id=person_id,
                kind="pathway_step",
                payload={"to": {"user_id": LEARNER[0], "channel_id": LEARNER[3]}, "text": f"Hi {LEARNER[1]}"},
            )
        )
        session.add(
            XapiStatement(
                id="5f0c6a1e-0000-4000-8000-000000000001",
                key="asked:question:1",
                user_id=person_id,
                verb="asked",
                object="https://learnbot.example/questions/1",
                timestamp=now,
                statement={"actor": {"name": LEARNER[1], "mbox": f"mailto:{LEARNER[2]}"}, "result": QUESTION},
                sent_at=now,
            )
        )
    return person_id


def everything_stored(chat: ConsoleChat) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table in the schema."""
    with chat.router.bot.session() as session:
        return {
            table.name: [dict(row._mapping) for row in session.execute(select(table))]
            for table in SQLModel.metadata.sorted_tables
        }


def test_export_my_data_writes_one_json_file_with_everything_about_me(chat_on: ConsoleChat) -> None:
    chat = chat_on
    person_id = fill_learner_data(chat)

    offer = chat.handle_line("export my data")
    assert "one JSON file" in offer and "Confirm within 10 minutes" in offer
    assert offer.endswith("[1] Export my data   [2] Cancel")
    done = chat.handle_line("1")

    path = Path(re.search(r"saved on learnbot's server as (\S+\.json)", done).group(1))
    data = json.loads(path.read_text())
    assert data["person"]["id"] == person_id and data["person"]["email"] == LEARNER[2]
    tables = data["tables"]
    assert [q["text"] for q in tables["question"]] == [QUESTION]
    assert tables["feedback"][0]["verdict"] == "not_helpful"
    assert tables["rating"][0]["comment"] == COMMENT
    assert tables["stepprogress"][0]["takeaway"] == TAKEAWAY  # through the enrolment
    assert {i["platform_user_id"] for i in tables["identity"]} == {LEARNER[0]}
    assert tables["conversationreference"][0]["channel_id"] == LEARNER[3]
    assert tables["outboxmessage"][0]["kind"] == "pathway_step"
    assert tables["meeting"][0]["report_id"] == person_id  # a table added by another issue, found by its key
    assert [s["verb"] for s in data["xapi_statements_sent"]] == ["asked"]
    assert "manager" not in json.dumps(tables["identity"])  # nobody else's identities


def test_delete_my_data_leaves_no_trace_only_anonymous_counts(chat_on: ConsoleChat) -> None:
    chat = chat_on
    person_id = fill_learner_data(chat)
    before = everything_stored(chat)

    offer = chat.handle_line("delete my data")
    assert "cannot be undone" in offer and offer.endswith("[1] Delete my data   [2] Cancel")
    done = chat.handle_line("1")
    assert "your personal data is erased" in done
    assert "1 learning record(s) had already been sent" in done  # the xAPI statement, honestly

    after = everything_stored(chat)
    needles = [*LEARNER, QUESTION, TAKEAWAY, COMMENT]
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "contentitem":
            continue  # lessons are not personal data
        for column in table.columns:
            if column.foreign_keys and next(iter(column.foreign_keys)).column.table.name == "person":
                assert all(row[column.name] != person_id for row in after[table.name]), (
                    table.name,
                    column.name,
                )
            if not isinstance(column.type, String | JSON):
                continue
            for row in after[table.name]:
                value = (
                    json.dumps(row[column.name], ensure_ascii=False) if row[column.name] is not None else ""
                )
                for needle in needles:
                    assert needle.lower() not in value.lower(), f"{needle!r} in {table.name}.{column.name}"
    assert all(p["id"] != person_id for p in after["person"])
    # Anonymous counts stay: the question, the verdict, the rating and the enrolment are still counted.
    for table in ("question", "feedback", "rating", "enrolment", "stepprogress", "meeting", "xapistatement"):
        assert len(after[table]) == len(before[table]), table
    assert after["identity"] and all(i["platform_user_id"] != LEARNER[0] for i in after["identity"])
    [rating] = after["rating"]
    assert (rating["role_relevance"], rating["strategic_clarity"], rating["comment"]) == (4, 5, None)
    tombstone = next(p for p in after["person"] if p["id"] == rating["user_id"])
    assert (tombstone["display_name"], tombstone["email"], tombstone["active"]) == (None, None, False)
    # Nothing more is sent: the queued nudge is cancelled and the tombstone never gets new ones.
    assert [m["status"] for m in after["outboxmessage"]] == ["cancelled"]
    assert [(n["user_id"], n["opted_out"]) for n in after["nudgepreference"]] == [(tombstone["id"], True)]
    # The manager keeps their own data, and writing again starts afresh.
    assert any(p["email"] == "maria@acme.example" for p in after["person"])
    chat.handle_line("hello again")
    assert learner_id(chat) not in (None, person_id)


def test_a_confirmation_expires_and_only_the_asker_can_confirm(chat: ConsoleChat) -> None:
    chat.handle_line(QUESTION)
    person_id = learner_id(chat)
    chat.handle_line("delete my data")
    offered = chat.choices[0]

    as_admin = Action(
        platform="console", user_id="console-admin", name=offered.name, value=offered.value, channel_id="dm"
    )
    [refused] = chat.router.on_action(as_admin)
    assert refused.text == "Only the person who asked can confirm that, so I left it alone."

    chat.clock.advance(dt.timedelta(minutes=11))
    expired = chat.handle_line("1")
    assert "That confirmation expired (they last 10 minutes), so I did nothing" in expired
    assert learner_id(chat) == person_id
    with chat.router.bot.session() as session:
        assert session.execute(select(Question.text)).scalars().all() == [QUESTION]

    chat.handle_line("delete my data")
    assert "Cancelled: nothing was exported or deleted." in chat.handle_line("2")
    assert learner_id(chat) == person_id


def test_in_a_channel_learnbot_asks_for_a_direct_message(chat: ConsoleChat) -> None:
    chat.handle_line("/channel general")
    reply = chat.handle_line("delete my data")
    assert "let's do this in a direct message" in reply and "[1]" not in reply


def test_admins_export_and_delete_a_person_from_the_command_line(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    prepare(settings)
    chat = ConsoleChat(Router(open_bot(settings)))
    chat.handle_line(QUESTION)
    person_id = learner_id(chat)
    base = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]

    out = tmp_path / "sam.json"
    assert main([*base, "user", "export", "sam@acme.example", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"exported person {person_id} to {out}\n"
    assert json.loads(out.read_text())["tables"]["question"][0]["text"] == QUESTION
    assert main([*base, "user", "export", str(person_id)]) == 0
    assert json.loads(capsys.readouterr().out)["person"]["id"] == person_id

    assert main([*base, "user", "delete", "console:console-learner"]) == 1  # no terminal, no --yes
    assert "refusing to erase person" in capsys.readouterr().err and learner_id(chat) == person_id
    assert main([*base, "user", "delete", "nobody@acme.example", "--yes"]) == 1
    assert "no person matches 'nobody@acme.example'" in capsys.readouterr().err

    assert main([*base, "user", "delete", "console:console-learner", "--yes"]) == 0
    assert f"erased person {person_id} (Sam (learner), sam@acme.example)" in capsys.readouterr().out
    assert learner_id(chat) is None
    with chat.router.bot.session() as session:
        assert session.execute(select(Question.text)).scalars().all() == [""]  # counted, not readable
        assert "console-learner" not in session.execute(select(Identity.platform_user_id)).scalars().all()


def test_in_slack_the_export_arrives_as_a_file_in_the_direct_message(
    make_settings: Callable[..., Settings],
) -> None:
    with FakeSlack() as fake:
        settings = slack_settings(make_settings(), fake)
        prepare(settings)
        app = SlackApp.start(settings, fake)
        try:
            app.dm(QUESTION, ts="1.0001", event_id="Ev-question")
            app.finish()
            fake.reset()
            app.dm("export my data", ts="2.0001", event_id="Ev-export")
            app.finish()
            [offer] = fake.called("chat.postMessage")
            assert "one JSON file" in texts(posted_message(offer)["blocks"])

            app.click(posted_message(offer), "Export my data", channel="D0DM")
            app.finish()

            [upload] = fake.wait_for("upload")
            data = json.loads(upload.params["content"])
            assert data["tables"]["question"][0]["text"] == QUESTION
            assert {i["platform_user_id"] for i in data["tables"]["identity"]} == {"U0LEARNER"}
            [shared] = fake.called("files.completeUploadExternal")
            assert shared.params["channel_id"] == "D0DM"
            [told] = fake.called("chat.update")
            assert told.params["text"].startswith("Your data is ready")
        finally:
            app.stop()


def test_deleting_my_data_never_rewrites_what_other_people_wrote(chat: ConsoleChat) -> None:
    chat.handle_line("/as manager")
    chat.handle_line("text")  # a short question of the manager's: not personal data of anyone else's
    chat.handle_line("/as learner")
    chat.handle_line("text me the sleeping bag policy")  # "text" as a word, the manager's name inside one
    with chat.router.bot.session() as session:
        manager = session.get(
            Person,
            identity_of(session=session, platform="console", platform_user_id="console-manager").person_id,
        )
        manager.display_name = "Leep"  # inside "sleeping", never a whole word there
        session.add(manager)
        session.add(
            OutboxMessage(
                idempotency_key="someone-else",
                platform="console",
                kind="pathway_step",
                payload={"text": "Hi Sam", "to": {"channel_id": "dm-other"}},
            )
        )

    chat.handle_line("/as manager")
    chat.handle_line("delete my data")
    chat.handle_line("1")

    after = everything_stored(chat)
    assert any(q["text"] == "text me the sleeping bag policy" for q in after["question"])
    [other] = [m for m in after["outboxmessage"] if m["idempotency_key"] == "someone-else"]
    assert other["payload"] == {"text": "Hi Sam", "to": {"channel_id": "dm-other"}}
