"""Ratings, overlays and the "why" audit in storage, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from content_index.sources.base import SourceItem
from storage.audit import why_audit
from storage.content import upsert_item
from storage.db import make_engine, session_scope, upgrade
from storage.models import (
    AnswerShown,
    ContentItem,
    Enrolment,
    Pathway,
    Person,
    Pillar,
    Question,
    Rating,
    StepProgress,
)
from storage.overlays import apply_all_overlays, set_overlay
from storage.ratings import (
    RatingError,
    ratings_for,
    summary_by_lesson,
    summary_by_pillar,
    upsert_rating,
)

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def lesson(lesson_id: str, *, pillar: str | None = "growth", impact: tuple[str, ...] = ("Q3 goals",), **kw):  # type: ignore[no-untyped-def]
    return SourceItem(
        id=lesson_id,
        title=lesson_id.replace("-", " ").title(),
        source="lessons",
        pillar=pillar,
        impact=list(impact),
        **kw,
    )


def people(session: Session, n: int) -> list[int]:
    made = [Person(display_name=f"P{i}") for i in range(n)]
    session.add_all(made)
    session.flush()
    return [p.id for p in made if p.id is not None]


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def test_one_rating_per_person_and_lesson_updated_in_place(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        upsert_item(session=session, item=lesson("pivots"), existing=None)
        ana, ben = people(session, 2)
        upsert_rating(
            session=session, user_id=ana, content_id="pivots", role_relevance=2, strategic_clarity=3
        )
        upsert_rating(
            session=session,
            user_id=ana,
            content_id="pivots",
            role_relevance=5,
            strategic_clarity=4,
            comment="made the Q3 link obvious",
        )
        upsert_rating(
            session=session, user_id=ana, content_id="pivots", role_relevance=4, strategic_clarity=4
        )
        upsert_rating(
            session=session, user_id=ben, content_id="pivots", role_relevance=2, strategic_clarity=2
        )
    with session_scope(engine) as session:
        rows = ratings_for(session=session, content_id="pivots")
        assert [(r.user_id, r.role_relevance, r.strategic_clarity) for r in rows] == [
            (ana, 4, 4),
            (ben, 2, 2),
        ]
        assert rows[0].comment == "made the Q3 link obvious"  # a later rating without a comment keeps it
        [by_lesson] = summary_by_lesson(session=session)
        assert (by_lesson.key, by_lesson.count, by_lesson.role_relevance, by_lesson.strategic_clarity) == (
            "pivots",
            2,
            3.0,
            3.0,
        )
        assert by_lesson.title == "Pivots" and by_lesson.comments == 1
        [by_pillar] = summary_by_pillar(session=session)
        assert (by_pillar.key, by_pillar.count) == ("growth", 2)


@pytest.mark.parametrize("scores", [(0, 3), (3, 6), (True, 3), ("5", 3)])
def test_scores_outside_one_to_five_are_refused_and_nothing_changes(engine: sa.Engine, scores) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        upsert_item(session=session, item=lesson("pivots"), existing=None)
        [ana] = people(session, 1)
        upsert_rating(
            session=session, user_id=ana, content_id="pivots", role_relevance=4, strategic_clarity=4
        )
    with session_scope(engine) as session, pytest.raises(RatingError, match="from 1 to 5"):
        upsert_rating(
            session=session,
            user_id=ana,
            content_id="pivots",
            role_relevance=scores[0],
            strategic_clarity=scores[1],
        )
    with session_scope(engine) as session:
        [row] = session.exec(select(Rating)).all()
        assert (row.role_relevance, row.strategic_clarity) == (4, 4)


def test_an_overlay_changes_pillar_and_impact_and_survives_the_source_changing(engine: sa.Engine) -> None:
    with session_scope(engine) as session:
        upsert_item(session=session, item=lesson("pivots", pillar="growth", impact=()), existing=None)
        [admin] = people(session, 1)
        set_overlay(
            session=session,
            content_id="pivots",
            edited_by=admin,
            pillar="efficiency",
            impact=["Halve manual reporting by Q3"],
            now=NOW,
        )
    with session_scope(engine) as session:
        stored = session.get(ContentItem, "pivots")
        assert stored is not None and (stored.pillar, stored.impact) == (
            "efficiency",
            ["Halve manual reporting by Q3"],
        )
        # the source file changes: the index run writes the source's pillar, then the overlay again
        changed = lesson("pivots", pillar="growth", impact=(), summary="now with slicers")
        upsert_item(session=session, item=changed, existing=stored)
        assert apply_all_overlays(session=session) == 1
    with session_scope(engine) as session:
        stored = session.get(ContentItem, "pivots")
        assert stored is not None and stored.summary == "now with slicers"
        assert (stored.pillar, stored.impact) == ("efficiency", ["Halve manual reporting by Q3"])


def _use(session: Session, person: int, content_id: str, times: int, at: dt.datetime) -> None:
    for _ in range(times):
        question = Question(user_id=person, platform="console", text=f"about {content_id}", asked_at=at)
        session.add(question)
        session.flush()
        assert question.id is not None
        session.add(AnswerShown(question_id=question.id, content_id=content_id, rank=0))
        session.add(AnswerShown(question_id=question.id, content_id="lesson-9", rank=1))  # not an answer


def test_the_audit_picks_the_top_fifth_by_use_and_flags_the_three_problems(engine: sa.Engine) -> None:
    old = dt.date(2025, 1, 1)
    fresh = dt.date(2026, 10, 1)
    with session_scope(engine) as session:
        session.add(Pillar(id="growth", name="Growth"))
        for n in range(10):  # ten lessons: the top fifth is two
            kw: dict = {"reviewed": fresh}
            if n == 0:
                kw = {"impact": (), "reviewed": fresh}
            if n == 1:
                kw = {"reviewed": old}
            upsert_item(session=session, item=lesson(f"lesson-{n}", **kw), existing=None)
        ids = people(session, 4)
        _use(session, ids[0], "lesson-0", 5, NOW - dt.timedelta(days=3))
        _use(session, ids[0], "lesson-2", 3, NOW - dt.timedelta(days=3))
        _use(session, ids[0], "lesson-2", 9, NOW - dt.timedelta(days=90))  # before the period
        session.add(Pathway(id="p", title="P", pillar_id="growth"))
        session.flush()
        enrolment = Enrolment(user_id=ids[1], pathway_id="p")
        session.add(enrolment)
        session.flush()
        assert enrolment.id is not None
        session.add(
            StepProgress(
                enrolment_id=enrolment.id,
                content_id="lesson-1",
                started_at=NOW - dt.timedelta(days=2),
                completed_at=NOW - dt.timedelta(days=1),
            )
        )
        _use(session, ids[2], "lesson-1", 3, NOW - dt.timedelta(days=1))
        for person, clarity in zip(ids[:3], (2, 2, 3), strict=True):
            upsert_rating(
                session=session,
                user_id=person,
                content_id="lesson-1",
                role_relevance=4,
                strategic_clarity=clarity,
            )
        upsert_rating(
            session=session, user_id=ids[3], content_id="lesson-0", role_relevance=5, strategic_clarity=1
        )  # one rating: too few to call it unclear
    with session_scope(engine) as session:
        rows = why_audit(session=session, since=NOW - dt.timedelta(days=30), now=NOW, review_after_days=365)
    assert [(r.content_id, r.uses) for r in rows] == [("lesson-0", 5), ("lesson-1", 5)]
    first, second = rows
    assert first.flags == ("no_impact",) and first.ratings == 1 and first.strategic_clarity == 1.0
    assert (second.answers, second.completions, second.pathway_starts) == (3, 1, 1)
    assert second.flags == ("weak_clarity", "past_review")
    assert second.ratings == 3 and second.strategic_clarity == pytest.approx(7 / 3)
    assert second.review_due == dt.date(2026, 1, 1) and second.pillar == "growth"


def test_the_audit_refuses_a_backwards_period(engine: sa.Engine) -> None:
    with session_scope(engine) as session, pytest.raises(ValueError, match="must start before it ends"):
        why_audit(session=session, since=NOW, now=NOW - dt.timedelta(days=1), review_after_days=365)


def test_migration_0011_keeps_the_latest_old_rating_per_person_and_lesson(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0010")
    at = [NOW - dt.timedelta(days=d) for d in (30, 20, 10)]
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO person (id, active, created_at) VALUES (1, :t, :at), (2, :t, :at)"),
            {"t": True, "at": at[0]},
        )
        for lesson_id in ("pivots", "charts"):
            connection.execute(
                sa.text(
                    "INSERT INTO contentitem (id, source, kind, title, summary, body, skills, impact,"
                    " audience, content_hash, location, active, created_at, updated_at)"
                    " VALUES (:id, 'lessons', 'lesson', :id, '', '', '[]', '[]', '[]', 'h', '', :t, :at, :at)"
                ),
                {"id": lesson_id, "t": True, "at": at[0]},
            )
        rows = [
            (1, "pivots", "rating", 2, 2, None, at[0]),
            (1, "pivots", "rating", 4, 5, "better now", at[1]),  # the latest for person 1 and pivots
            (1, "pivots", "helpful", None, None, None, at[2]),  # not a rating
            (2, "pivots", "rating", 1, 3, None, at[2]),
            (2, "charts", "rating", None, None, None, at[2]),  # no scores: nothing to keep
        ]
        for user, lesson_id, verdict, relevance, clarity, comment, when in rows:
            connection.execute(
                sa.text(
                    "INSERT INTO feedback (user_id, content_id, verdict, relevance, clarity, comment,"
                    " created_at) VALUES (:u, :c, :v, :r, :cl, :co, :at)"
                ),
                {
                    "u": user,
                    "c": lesson_id,
                    "v": verdict,
                    "r": relevance,
                    "cl": clarity,
                    "co": comment,
                    "at": when,
                },
            )
    upgrade(engine)
    with session_scope(engine) as session:
        kept = [
            (r.user_id, r.content_id, r.role_relevance, r.strategic_clarity, r.comment)
            for r in ratings_for(session=session)
        ]
        assert sorted(kept) == [(1, "pivots", 4, 5, "better now"), (2, "pivots", 1, 3, None)]
        feedback = session.exec(sa.text("SELECT count(*) FROM feedback")).one()  # type: ignore[call-overload]
        assert feedback[0] == 5  # the old rows stay as history


def test_curated_lessons_and_their_validation_on_both_databases(engine: sa.Engine) -> None:
    from storage.curation import CurationError, curator_name, save_curated, validations
    from storage.models import Feedback

    with session_scope(engine) as session:
        maria, ana, ben = people(session, 3)
        draft = dict(
            summary="Open the order, press Refund",
            pillar="customer-trust",
            impact=["Refunds right"],
            skills=["refunds"],
            audience=[],
            url="https://acme.slack.com/archives/C1/p1",
            platform="slack",
        )
        first = save_curated(session=session, curated_by=maria, title="Refund a charge", **draft)
        second = save_curated(session=session, curated_by=maria, title="Refund a charge", **draft)
        assert (first.id, second.id) == ("curated-refund-a-charge", "curated-refund-a-charge-2")
        for person, verdict in ((maria, "helpful"), (ana, "helpful"), (ana, "helpful"), (ben, "not_helpful")):
            session.add(Feedback(user_id=person, content_id=first.id, verdict=verdict))
        with pytest.raises(CurationError, match="the title is empty"):
            save_curated(session=session, curated_by=maria, title="   ", **draft)
    with session_scope(engine) as session:
        assert validations(session=session) == {"curated-refund-a-charge": 1}  # Ana once; not Maria, not Ben
        assert curator_name(session=session, content_id="curated-refund-a-charge") == "P0"
        stored = session.get(ContentItem, "curated-refund-a-charge")
        assert stored is not None and stored.source == "curated" and stored.active
