"""The purpose pulse's answers and summary: one answer per person per period (updatable), periods from
app.yaml, and a summary that shows groups of five or more only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.app import prepare
from bot.config import ConfigError, PurposePulse, Settings, load_config
from nudges.kinds.pulse import period_at
from storage.db import make_engine
from storage.models import Person, PulseAnswer, Question
from storage.pulse import MIN_GROUP, pulse_summary, save_answer, spearman
from tests.conftest import write_config

JAN = dt.datetime(2027, 1, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(make_settings: Callable[..., Settings], db_url: str):  # type: ignore[no-untyped-def]
    prepare(make_settings(database_url=db_url))
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def people(session: Session, n: int) -> list[int]:
    rows = [Person(display_name=f"P{i}") for i in range(n)]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows if row.id is not None]


def test_one_answer_per_person_and_period_and_answering_again_changes_it(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        [sam] = people(session, 1)
        first, updated = save_answer(session=session, user_id=sam, period="2027-Q1", score=4, at=JAN)
        assert not updated
        again, updated = save_answer(
            session=session, user_id=sam, period="2027-Q1", score=2, at=JAN + dt.timedelta(days=3)
        )
        assert updated and again.id == first.id
        save_answer(session=session, user_id=sam, period="2027-Q2", score=5, at=JAN + dt.timedelta(days=80))
        with pytest.raises(ValueError, match="a pulse score is 1-5, not 6"):
            save_answer(session=session, user_id=sam, period="2027-Q2", score=6, at=JAN)
        session.commit()
        stored = [(a.period, a.score) for a in session.exec(select(PulseAnswer).order_by(PulseAnswer.period))]
        assert stored == [("2027-Q1", 2), ("2027-Q2", 5)]
        session.add(PulseAnswer(user_id=sam, period="2027-Q1", score=3, answered_at=JAN))
        with pytest.raises(IntegrityError):  # the database itself keeps one per person and period
            session.commit()


def test_the_summary_shows_groups_of_five_or_more_and_how_scores_follow_activity(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        ids = people(session, 15)
        # January: five without learning activity, two with some, five active learners.
        plan = [
            (0, 1),
            (0, 2),
            (0, 2),
            (0, 3),
            (0, 2),
            (2, 3),
            (3, 4),
            (5, 4),
            (6, 5),
            (8, 5),
            (4, 4),
            (9, 3),
        ]
        for person_id, (events, score) in zip(ids, plan, strict=False):
            for n in range(events):
                asked = JAN - dt.timedelta(days=2 + n)
                session.add(Question(user_id=person_id, platform="console", text=f"q{n}", asked_at=asked))
            save_answer(session=session, user_id=person_id, period="2027-Q1", score=score, at=JAN)
        old = JAN - dt.timedelta(days=200)  # learning long before the answer does not count
        session.add(Question(user_id=ids[0], platform="console", text="old", asked_at=old))
        for person_id, score in zip(ids[12:], (1, 5, 3), strict=True):  # April: three people
            save_answer(
                session=session,
                user_id=person_id,
                period="2027-Q2",
                score=score,
                at=JAN + dt.timedelta(days=80),
            )
        session.commit()
        summary = pulse_summary(
            session=session, since=JAN - dt.timedelta(days=1), now=JAN + dt.timedelta(days=100)
        )
        only_january = pulse_summary(
            session=session, since=JAN - dt.timedelta(days=1), now=JAN + dt.timedelta(days=1)
        )

    january, april = summary.periods
    assert (january.period, january.people, january.mean) == ("2027-Q1", 12, 3.17)
    assert january.distribution == {1: 1, 2: 3, 3: 3, 4: 3, 5: 2}
    assert (april.period, april.people, april.distribution, april.mean) == ("2027-Q2", 3, None, None)
    bands = {band.band: (band.people, band.mean) for band in summary.bands}
    assert bands["no activity"] == (8, 2.38)  # January's five and April's three
    assert bands["some"][0] == 2 and bands["some"][1] is None  # two people: too few to show
    assert bands["active"] == (5, 4.2)
    assert summary.correlation is not None and summary.correlation > 0.5  # more learning, clearer purpose
    assert summary.min_group == MIN_GROUP == 5 and summary.answers == 15
    assert [p.period for p in only_january.periods] == ["2027-Q1"]


def test_spearman_uses_average_ranks_for_ties() -> None:
    assert spearman([1, 2, 3], [10, 20, 30]) == 1.0
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(0.866, abs=0.001)
    assert spearman([3, 3, 3], [1, 2, 3]) is None


def test_periods_start_on_the_listed_months_or_every_n_days() -> None:
    quarterly = PurposePulse(enabled=True)
    jan = period_at(quarterly, dt.datetime(2027, 3, 31, 23, 0, tzinfo=dt.UTC))
    assert (jan.label, jan.start.date(), jan.last_day) == (
        "2027-Q1",
        dt.date(2027, 1, 1),
        dt.date(2027, 3, 31),
    )
    december = period_at(PurposePulse(months=[3, 9]), dt.datetime(2027, 2, 1, tzinfo=dt.UTC))
    assert (december.label, december.end.date()) == ("2026-09", dt.date(2027, 3, 1))
    every = PurposePulse(every_days=91)
    first = period_at(every, dt.datetime(2026, 4, 6, tzinfo=dt.UTC))
    assert (first.label, first.end.date()) == ("2026-04-06", dt.date(2026, 7, 6))


def test_bad_pulse_settings_name_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, purpose_pulse={"enabled": True, "months": [1, 13], "every_days": 91})
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    problems = "\n".join(raised.value.problems)
    assert "purpose_pulse.months: month 13 is not 1-12" in problems
    config = write_config(tmp_path, purpose_pulse={"months": [1, 7], "every_days": 91})
    with pytest.raises(ConfigError, match="purpose_pulse: give either months or every_days, not both"):
        load_config(config)
    assert load_config(write_config(tmp_path)).purpose_pulse.enabled is False  # off by default
