"""xAPI statements delivered to a real LRS (ralph's, file backend) through the outbox, exactly once even
when the answer to a POST that reached the LRS is lost and the batch is sent again."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.app import LearnBot
from bot.cli import main
from bot.events import Reply
from bot.markup import Text
from nudges.clock import as_utc
from nudges.outbox import Dispatcher, Outbound
from nudges.scheduler import run_tick
from nudges.xapi.sender import XapiSender
from nudges.xapi.sweep import LRS, sweep
from storage.models import OutboxMessage, XapiStatement
from storage.outbox import SENT
from tests.lrs import DroppingProxy, Lrs, lrs  # noqa: F401 - `lrs` is the fixture
from tests.test_xapi import MakeBot, learner_conversation, make_bot  # noqa: F401 - `make_bot` is the fixture


def xapi_rows(bot: LearnBot) -> tuple[list[OutboxMessage], list[XapiStatement]]:
    with bot.session() as session:
        rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.platform == "xapi")))
        statements = list(session.exec(select(XapiStatement).order_by(col(XapiStatement.timestamp))))
    return rows, statements


def test_statements_reach_the_lrs_exactly_once_when_the_first_answer_is_lost(
    make_bot: MakeBot,  # noqa: F811
    lrs: Lrs,  # noqa: F811
    db_url: str,
) -> None:
    # A base of its own, so this run's statement ids are new to the LRS (it serves every test here).
    bot = make_bot(db_url, batch_size=4, iri_base=f"https://learn.acme.example/xapi/{uuid.uuid4().hex[:8]}")
    learner_conversation(bot)
    proxy = DroppingProxy(lrs.endpoint.removesuffix("/xAPI"), drop=1)
    sender = XapiSender(proxy.start() + "/xAPI", lrs.key, lrs.secret, engine=bot.engine, clock=bot.clock)
    try:
        first = run_tick(bot, {"xapi": sender})  # sweeps, then delivers: 3 batches, the 1st answer lost
        rows, statements = xapi_rows(bot)
        ids = [s.id for s in statements]
        assert len(ids) == 10 and (first.dispatch.sent, first.dispatch.retried) == (2, 1), [
            row.last_error for row in rows
        ]
        assert proxy.posts == [200, 200, 200]  # every POST reached the LRS and was stored
        assert sorted(i for i in lrs.stored_ids() if i in ids) == sorted(ids)
        rows, _ = xapi_rows(bot)
        [waiting] = [row for row in rows if row.status != SENT]
        assert waiting.maybe_sent and "no answer from the LRS" in (waiting.last_error or "")

        later = run_tick(bot, {"xapi": sender}, at=bot.clock.now() + dt.timedelta(minutes=1))
        assert later.dispatch.sent == 1
        assert proxy.posts[3:] == [204]  # sent again: the LRS already held every id, stored nothing
    finally:
        proxy.stop()
        sender.close()

    stored = Counter(i for i in lrs.stored_ids() if i in ids)
    assert stored == Counter({i: 1 for i in ids})  # each statement id once in the LRS
    rows, statements = xapi_rows(bot)
    assert [row.status for row in rows] == [SENT] * 3
    assert all(s.sent_at is not None for s in statements)

    completed = next(s for s in statements if s.verb == "completed")
    back = lrs.get(completed.id)  # what the LRS holds is what learnbot built
    for part in ("id", "actor", "verb", "object", "context", "result", "timestamp"):
        assert back[part] == completed.statement[part], part
    assert back["actor"]["account"]["name"] == "console-learner"
    assert back["object"]["definition"]["name"] == {"en-US": "Give useful feedback to a peer"}
    base = completed.statement["context"]["extensions"]
    assert list(base.values()) == [
        f"{bot.config.xapi.iri_base}/pillars/people-growth",
        f"{bot.config.xapi.iri_base}/pathways/feedback-culture",
    ]


def test_wrong_credentials_are_retried_with_the_lrs_reason_and_nothing_is_marked_sent(
    make_bot: MakeBot,  # noqa: F811
    lrs: Lrs,  # noqa: F811
    tmp_path: Path,
) -> None:
    bot = make_bot(iri_base=f"https://learn.acme.example/xapi/{uuid.uuid4().hex[:8]}")
    learner_conversation(bot)
    sender = XapiSender(lrs.endpoint, lrs.key, "not-the-secret", engine=bot.engine, clock=bot.clock)
    try:
        result = run_tick(bot, {"xapi": sender})
    finally:
        sender.close()
    assert result.dispatch.retried == 1 and result.dispatch.sent == 0
    [row], statements = xapi_rows(bot)
    assert "LRS answered HTTP 401" in (row.last_error or "") and "check XAPI_KEY and XAPI_SECRET" in (
        row.last_error or ""
    )
    assert "not-the-secret" not in (row.last_error or "")
    assert all(s.sent_at is None for s in statements)
    assert not set(lrs.stored_ids()) & {s.id for s in statements}

    fixed = XapiSender(lrs.endpoint, lrs.key, lrs.secret, engine=bot.engine, clock=bot.clock)
    dispatcher = Dispatcher(bot.engine, {"xapi": fixed}, bot.clock)  # the right secret delivers them
    bot.clock.advance(dt.timedelta(minutes=5))
    try:
        assert dispatcher.drain().sent == 1
    finally:
        dispatcher.close()
        fixed.close()
    assert Counter(i for i in lrs.stored_ids() if i in {s.id for s in statements}) == Counter(
        {s.id: 1 for s in statements}
    )


def test_a_statement_the_lrs_rejects_fails_its_batch_with_the_lrs_reason_but_not_the_statement(
    make_bot: MakeBot,  # noqa: F811
    lrs: Lrs,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot = make_bot(iri_base=f"https://learn.acme.example/xapi/{uuid.uuid4().hex[:8]}")
    learner_conversation(bot)
    with bot.session() as session:  # a statement spoiled after it was built: the LRS must refuse it
        sweep(session=session, config=bot.config, now=bot.clock.now())
        spoiled = session.exec(select(XapiStatement).where(XapiStatement.verb == "completed")).one()
        spoiled.statement = {key: value for key, value in spoiled.statement.items() if key != "actor"}
        session.add(spoiled)
    sender = XapiSender(lrs.endpoint, lrs.key, lrs.secret, engine=bot.engine, clock=bot.clock)
    try:
        result = run_tick(bot, {"xapi": sender})
    finally:
        sender.close()
    assert result.dispatch.failed == 1  # retrying the same statements cannot help
    folder = bot.config.base_dir
    assert (
        main(["--config", str(folder / "app.yaml"), "--data-dir", str(folder / "data"), "xapi", "status"])
        == 0
    )
    status = capsys.readouterr().out
    assert "statements: 10 recorded, 0 sent, 10 waiting" in status and "batches: 1 failed" in status
    assert "last failure: not retried: LRS answered HTTP 422" in status
    [row], _ = xapi_rows(bot)
    assert row.status == "failed"
    assert re.search(r"LRS answered HTTP 422: body\.\d+\.actor: Field required", row.last_error or "")
    assert "lessons/give-peer-feedback" not in (row.last_error or "")  # the statement is not echoed


def test_a_rate_limited_batch_waits_for_retry_after_without_using_an_attempt(
    make_bot: MakeBot,  # noqa: F811
    lrs: Lrs,  # noqa: F811
) -> None:
    bot = make_bot(iri_base=f"https://learn.acme.example/xapi/{uuid.uuid4().hex[:8]}")
    learner_conversation(bot)
    proxy = DroppingProxy(lrs.endpoint.removesuffix("/xAPI"), drop=0, busy=1)
    sender = XapiSender(proxy.start() + "/xAPI", lrs.key, lrs.secret, engine=bot.engine, clock=bot.clock)
    try:
        now = bot.clock.now()
        assert run_tick(bot, {"xapi": sender}).dispatch.deferred == 1
        [row], _ = xapi_rows(bot)
        assert row.status == "pending" and row.attempts == 0  # a rate limit uses no attempt
        assert as_utc(row.due_at) == now + dt.timedelta(seconds=7)  # Retry-After: 7
        assert run_tick(bot, {"xapi": sender}, at=now + dt.timedelta(seconds=6)).dispatch.sent == 0
        assert run_tick(bot, {"xapi": sender}, at=now + dt.timedelta(seconds=7)).dispatch.sent == 1
    finally:
        proxy.stop()
        sender.close()
    _, statements = xapi_rows(bot)
    assert Counter(i for i in lrs.stored_ids() if i in {s.id for s in statements}) == Counter(
        {s.id: 1 for s in statements}
    )


def test_an_id_the_lrs_holds_with_other_content_counts_as_delivered_and_is_not_stored_twice(
    make_bot: MakeBot,  # noqa: F811
    lrs: Lrs,  # noqa: F811
) -> None:
    bot = make_bot(iri_base=f"https://learn.acme.example/xapi/{uuid.uuid4().hex[:8]}")
    learner_conversation(bot)
    sender = XapiSender(lrs.endpoint, lrs.key, lrs.secret, engine=bot.engine, clock=bot.clock)
    try:
        assert run_tick(bot, {"xapi": sender}).dispatch.sent == 1
        [row], statements = xapi_rows(bot)
        with bot.session() as session:  # the same ids, built differently (say, a lesson renamed since)
            for stored in session.exec(select(XapiStatement)):
                renamed = {"objectType": "Activity", "id": "https://learn.acme.example/renamed"}
                stored.statement = {**stored.statement, "object": renamed}
                session.add(stored)
        outbound = Outbound(row.idempotency_key, "xapi", LRS, Reply(text=Text("")))
        assert sender.send(outbound) == "lrs-409-10"  # the LRS refuses to change them: delivered
    finally:
        sender.close()
    ids = {s.id for s in statements}
    assert Counter(i for i in lrs.stored_ids() if i in ids) == Counter({i: 1 for i in ids})


def test_learnbot_tick_with_the_lrs_in_the_environment_sends_the_statements(
    make_bot: MakeBot,  # noqa: F811
    lrs: Lrs,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot = make_bot(iri_base=f"https://learn.acme.example/xapi/{uuid.uuid4().hex[:8]}")
    learner_conversation(bot)
    monkeypatch.setenv("XAPI_ENDPOINT", lrs.endpoint)
    monkeypatch.setenv("XAPI_KEY", lrs.key)
    monkeypatch.setenv("XAPI_SECRET", lrs.secret)
    folder = bot.config.base_dir
    args = ["--config", str(folder / "app.yaml"), "--data-dir", str(folder / "data")]
    assert main([*args, "tick", "--at", "2026-12-04T12:05:00Z"]) == 0
    printed = capsys.readouterr()
    assert "sent 1, retrying 0, failed 0" in printed.out
    assert lrs.secret not in printed.out + printed.err
    _, statements = xapi_rows(bot)
    ids = {s.id for s in statements}
    assert len(ids) == 10 and all(s.sent_at is not None for s in statements)
    assert Counter(i for i in lrs.stored_ids() if i in ids) == Counter({i: 1 for i in ids})
