"""Storage round-trips on SQLite and on the real PostgreSQL server (each test runs on both)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect
from sqlmodel import select

from content_index.sources.base import SourceItem
from storage.content import active_content, all_content, deactivate, upsert_item
from storage.db import current_revision, head_revision, make_engine, session_scope, upgrade
from storage.events import first_delivery, prune_processed_events
from storage.models import Feedback, Pathway, PathwayStep, Pillar, ProcessedEvent
from storage.pathways import pathway_steps
from storage.people import identify, references, remember_reference, set_attributes
from storage.questions import answers_shown, content_gaps, record_feedback, record_question


def item(item_id: str, title: str, **extra: object) -> SourceItem:
    return SourceItem(
        id=item_id, title=title, source="lessons", skills=["excel"], impact=["Q3 goals"], **extra
    )


def test_upgrade_creates_every_table_and_is_repeatable(db_url: str) -> None:
    engine = make_engine(db_url)
    assert upgrade(engine) == head_revision()
    assert upgrade(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "person",
        "identity",
        "contentitem",
        "pathway",
        "pathwaystep",
        "enrolment",
        "stepprogress",
        "question",
        "answershown",
        "feedback",
        "conversationreference",
        "outboxmessage",
        "processedevent",
        "pillar",
    } <= tables
    assert current_revision(engine) == head_revision()


def test_content_lists_dates_and_deactivation_round_trip(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    reviewed = dt.date(2026, 5, 1)
    with session_scope(engine) as session:
        assert (
            upsert_item(
                session=session, item=item("pivots", "Pivot tables", reviewed=reviewed), existing=None
            )
            == "added"
        )
        upsert_item(session=session, item=item("charts", "Charts", audience=["manager"]), existing=None)
    with session_scope(engine) as session:
        stored = all_content(session=session)
        assert stored["pivots"].skills == ["excel"] and stored["pivots"].impact == ["Q3 goals"]
        assert stored["pivots"].reviewed == reviewed
        assert stored["charts"].audience == ["manager"]
        assert (
            upsert_item(
                session=session,
                item=item("pivots", "Pivot tables", reviewed=reviewed),
                existing=stored["pivots"],
            )
            == "unchanged"
        )
        deactivate(session=session, item=stored["charts"])
    with session_scope(engine) as session:
        assert [i.id for i in active_content(session=session)] == ["pivots"]


def test_questions_answers_feedback_and_gaps(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        upsert_item(session=session, item=item("pivots", "Pivot tables"), existing=None)
        upsert_item(session=session, item=item("charts", "Charts"), existing=None)
        user = identify(session=session, platform="slack", platform_user_id="U1", display_name="Ana")
        assert user.id is not None
        remember_reference(
            session=session, person_id=user.id, platform="slack", platform_user_id="U1", channel_id="D1"
        )
        answered = record_question(
            session=session,
            user_id=user.id,
            platform="slack",
            channel_id="D1",
            thread_id=None,
            text="pivot?",
            shown=[("pivots", 0.9), ("charts", 0.4)],
            answered=True,
            confidence=0.9,
        )
        record_question(
            session=session,
            user_id=user.id,
            platform="slack",
            channel_id="D1",
            thread_id=None,
            text="fix the printer",
            shown=[],
            answered=False,
            confidence=0.1,
        )
        record_feedback(
            session=session, user_id=user.id, content_id="pivots", verdict="helpful", question_id=answered.id
        )
        record_feedback(
            session=session,
            user_id=user.id,
            content_id="pivots",
            verdict="not_helpful",
            question_id=answered.id,
        )
    with session_scope(engine) as session:
        assert identify(session=session, platform="slack", platform_user_id="U1").display_name == "Ana"
        [ref] = references(session=session, person_ids=[user.id])[user.id]
        assert (ref.platform, ref.platform_user_id, ref.channel_id) == ("slack", "U1", "D1")
        assert [(a.content_id, a.rank) for a in answers_shown(session=session, question_id=answered.id)] == [
            ("pivots", 0),
            ("charts", 1),
        ]
        # Newest first: the unanswered question, then the one whose only answer missed.
        assert [q.text for q in content_gaps(session=session)] == ["fix the printer", "pivot?"]
        verdicts = [f.verdict for f in session.exec(select(Feedback))]
        assert verdicts == ["not_helpful"]


def test_pathway_steps_keep_their_order(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        for content_id in ("b", "a", "c"):
            upsert_item(session=session, item=item(content_id, content_id.upper()), existing=None)
        session.add(Pillar(id="efficiency", name="Operational efficiency"))
        session.flush()
        session.add(Pathway(id="p", title="P", pillar_id="efficiency"))
        session.flush()
        for position, content_id in enumerate(("c", "a", "b")):
            session.add(PathwayStep(pathway_id="p", position=position, content_id=content_id))
    with session_scope(engine) as session:
        assert pathway_steps(session=session, pathway_id="p") == ["c", "a", "b"]


def test_an_event_id_is_handled_once_even_after_a_restart(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        assert first_delivery(session=session, event_id="slack:Ev1")
        assert not first_delivery(session=session, event_id="slack:Ev1")
    engine.dispose()
    restarted = make_engine(db_url)
    with session_scope(restarted) as session:
        assert not first_delivery(session=session, event_id="slack:Ev1")
        assert first_delivery(session=session, event_id="slack:Ev2")


def test_a_stored_role_is_not_overwritten_by_chatting(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        person = identify(session=session, platform="slack", platform_user_id="U9")
        set_attributes(session=session, person=person, role="support", team="emea")
    with session_scope(engine) as session:
        again = identify(session=session, platform="slack", platform_user_id="U9", display_name="Kim")
        assert (again.role, again.team, again.display_name) == ("support", "emea", "Kim")


def test_two_first_messages_at_once_make_one_person(db_url: str) -> None:
    """Two replicas (two sessions) see a new person at the same moment: one person, no error."""
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as first, session_scope(engine) as _:
        made = identify(session=first, platform="slack", platform_user_id="U77", email="kim@acme.example")
        assert made.id is not None
    import threading

    results: list[int | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def arrive() -> None:
        try:
            barrier.wait()
            with session_scope(engine) as session:
                person = identify(session=session, platform="slack", platform_user_id="U78")
                results.append(person.id)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=arrive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(engine) as session:
        from storage.models import Identity

        rows = list(session.exec(select(Identity).where(Identity.platform_user_id == "U78")))
    assert len(rows) == 1 and set(results) == {rows[0].person_id}


def test_old_event_ids_are_pruned_but_recent_ones_still_block_duplicates(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        assert first_delivery(session=session, event_id="slack:old")
        assert first_delivery(session=session, event_id="slack:new")
        session.get(ProcessedEvent, "slack:old").processed_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with session_scope(engine) as session:
        assert prune_processed_events(session=session, before=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) == 1
    with session_scope(engine) as session:
        assert not first_delivery(session=session, event_id="slack:new")
        assert first_delivery(session=session, event_id="slack:old")
