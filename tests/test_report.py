"""`learnbot report` on a database whose every number is known: each metric read back from its CSV.

Two weeks ending Friday 27 November 2026 at noon UTC (ISO weeks 2026-W46, W47, W48). Ana asks
twice (Helpful, then Not helpful) and snoozes; Ben asks what no lesson answers, joins the feedback
pathway, does two steps and applies both; Chloe, on the automation pathway since before the
period, applies an older step, asks, finds it helpful and stops nudges; Dev, a manager, finishes
the customer pathway and answers two 1:1 prompts about Ana. Eve is nudged and never answers.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.app import prepare
from bot.cli import main
from bot.config import Settings
from bot.report import Table
from bot.report.sections import optional
from storage.db import make_engine, session_scope
from storage.enrolments import enrol
from storage.models import Meeting, NudgePreference, OutboxMessage, Person, StepProgress
from storage.questions import record_feedback, record_question
from tests.conftest import write_config

UNTIL = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


def ask(session: Session, person: Person, text: str, lesson: str | None, when: dt.datetime) -> int:
    question = record_question(
        session=session,
        user_id=person.id,
        platform="console",
        channel_id="D1",
        thread_id=None,
        text=text,
        shown=[(lesson, 0.9)] if lesson else [],
        answered=lesson is not None,
        confidence=0.9 if lesson else 0.2,
    )
    question.asked_at = when
    assert question.id is not None
    return question.id


def verdict(
    session: Session, person: Person, question_id: int, lesson: str, what: str, when: dt.datetime
) -> None:
    feedback = record_feedback(
        session=session, user_id=person.id, content_id=lesson, verdict=what, question_id=question_id
    )
    feedback.created_at = when


def nudge(session: Session, person: Person, key: str, sent: dt.datetime | None, kind: str = "step") -> None:
    session.add(
        OutboxMessage(
            idempotency_key=key,
            platform="console",
            user_id=person.id,
            kind=kind,
            status="sent" if sent else "pending",
            due_at=sent or UNTIL,
            sent_at=sent,
        )
    )


def step(
    session: Session,
    enrolment_id: int,
    lesson: str,
    started: dt.datetime,
    completed: dt.datetime | None = None,
    applied: dt.datetime | None = None,
) -> None:
    session.add(
        StepProgress(
            enrolment_id=enrolment_id,
            content_id=lesson,
            started_at=started,
            completed_at=completed,
            applied_at=applied,
        )
    )


def seed_known(session: Session) -> None:
    ana, ben, chloe, dev, eve = (
        Person(display_name=name, email=f"{name.lower()}@example.com")
        for name in ("Ana", "Ben", "Chloe", "Dev", "Eve")
    )
    for person in (ana, ben, chloe, dev, eve):
        session.add(person)
    session.flush()
    # Questions: one before the period (not counted), four in it; three answered.
    ask(session, ana, "how do i give feedback to a peer", "give-peer-feedback", at(1))
    q1 = ask(
        session, ana, "how do i tell a coworker their slides were confusing", "give-peer-feedback", at(14)
    )
    verdict(session, ana, q1, "give-peer-feedback", "helpful", at(14, 10, 5))
    q2 = ask(
        session,
        ana,
        "whats a good way to give feedback without it being awkward",
        "give-peer-feedback",
        at(17),
    )
    verdict(session, ana, q2, "give-peer-feedback", "not_helpful", at(17, 10, 5))
    ask(session, ben, "how do i fix the printer on floor 3", None, at(18))
    q4 = ask(session, chloe, "how do i use xlookup", "excel-xlookup", at(24))
    verdict(session, chloe, q4, "excel-xlookup", "helpful", at(24, 10, 5))
    # Pathways: Ben (people-growth) 2 of 4 steps, both applied; Chloe (efficiency) 1 of 4 before the
    # period, applied in it; Dev (customer-trust) all 4 steps.
    b, _ = enrol(session=session, user_id=ben.id, pathway_id="feedback-culture", joined_by="self", now=at(19))
    c, _ = enrol(
        session=session,
        user_id=chloe.id,
        pathway_id="automate-the-boring-stuff",
        joined_by="audience",
        now=at(10),
    )
    d, _ = enrol(
        session=session,
        user_id=dev.id,
        pathway_id="first-contact-resolution",
        joined_by="campaign",
        now=at(16),
    )
    session.flush()
    step(session, b.id, "give-peer-feedback", at(20, 9), at(20, 15), at(23, 15))  # applied after 3 days
    step(session, b.id, "receive-feedback-well", at(25, 9), at(25, 10), at(26, 10))  # after 1 day
    step(session, c.id, "excel-pivot-tables", at(12, 8), at(12, 9), at(21, 9))  # after 9 days
    for lesson in (
        "handle-a-customer-escalation",
        "write-to-an-upset-customer",
        "log-a-case-in-the-crm",
        "data-privacy-basics",
    ):
        step(session, d.id, lesson, at(21, 9), at(21, 11))
    d.status = "completed"
    # Nudges: four learners sent a step nudge in the period; a pending one, an older one and a
    # campaign post are not counted.
    nudge(session, ana, "n-ana", at(16, 8))
    nudge(session, ben, "n-ben", at(20, 8))
    nudge(session, chloe, "n-chloe", at(24, 8))
    nudge(session, eve, "n-eve", at(25, 8))
    nudge(session, eve, "n-eve-old", at(2, 8))
    nudge(session, eve, "n-eve-later", None)
    nudge(session, ana, "n-campaign", at(16, 8), kind="campaign")
    session.add(NudgePreference(user_id=ana.id, snoozed_until=at(18, 9), updated_at=at(17, 12)))
    session.add(NudgePreference(user_id=chloe.id, opted_out=True, updated_at=at(24, 12)))
    # 1:1s: Dev manages Ana; two held in the period, one next week.
    for day, month, answer in ((18, 11, "discussed"), (25, 11, "not_this_time"), (2, 12, None)):
        start = at(day, 10, month=month)
        session.add(
            Meeting(
                id=f"roster:{dev.id}:{ana.id}:{day}",
                manager_id=dev.id,
                report_id=ana.id,
                start_at=start,
                source="roster",
                response=answer,
                responded_at=start + dt.timedelta(hours=1) if answer else None,
            )
        )
        if answer:
            nudge(session, dev, f"1on1-{day}", start - dt.timedelta(hours=2), kind="one_on_one")
    # Ratings: Ana (W46) and Ben (W47) rate the feedback lesson.
    from storage.ratings import upsert_rating

    upsert_rating(
        session=session, user_id=ana.id, content_id="give-peer-feedback", role_relevance=4,
        strategic_clarity=2, now=at(14, 10, 6),
    )  # fmt: skip
    upsert_rating(
        session=session, user_id=ben.id, content_id="give-peer-feedback", role_relevance=5,
        strategic_clarity=4, comment="More examples please", now=at(20, 16),
    )  # fmt: skip
    # The purpose pulse: four answers, fewer than the five it takes to show a mean.
    from storage.pulse import save_answer

    for person, score in ((ana, 4), (ben, 5), (chloe, 3), (dev, 4)):
        save_answer(session=session, user_id=person.id, period="2026-Q4", score=score, at=at(26, 11))


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def by(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in rows}


def write_known_report(
    tmp_path: Path, db_url: str, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Seed the known activity and run `learnbot report` for the two weeks; the folder of the output."""
    config = write_config(tmp_path, content={"review_after_days": 500})
    settings = make_settings(config_path=config, database_url=db_url)
    prepare(settings)
    engine = make_engine(settings.db_url)
    with session_scope(engine) as session:
        seed_known(session)
    engine.dispose()
    out = tmp_path / "reports"
    monkeypatch.setenv("DATABASE_URL", db_url)
    args = ["--config", str(config), "--data-dir", str(settings.data_dir)]
    assert main([*args, "report", "--since", "14d", "--until", "2026-11-27T12:00", "--out", str(out)]) == 0
    return out


@pytest.fixture
def known_report(
    tmp_path: Path, db_url: str, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The known report, on SQLite and on PostgreSQL."""
    return write_known_report(tmp_path, db_url, make_settings, monkeypatch)


def test_every_metric_of_the_report_is_the_known_number(known_report: Path, db_url: str) -> None:
    out = known_report
    weeks = read(out, "weekly_active_learners")
    assert [(w["week"], w["active_learners"], w["asked"], w["clicked"], w["progressed"]) for w in weeks] == [
        ("2026-W46", "1", "1", "1", "0"),
        ("2026-W47", "4", "2", "2", "3"),
        ("2026-W48", "2", "1", "1", "1"),
    ]
    assert weeks[1]["week_starts"] == "2026-11-16"

    questions = by(read(out, "questions"), "week")
    assert questions["total"] == {
        "week": "total", "asked": "4", "answered": "3", "answer_rate": "0.75",
        "helpful": "2", "not_helpful": "1", "helpful_rate": "0.6667",
    }  # fmt: skip
    assert (questions["2026-W47"]["asked"], questions["2026-W47"]["answered"]) == ("2", "1")

    nudges = by(read(out, "nudge_responses"), "measure")
    assert nudges["nudges sent"]["learners"] == "4" and nudges["learners nudged"]["learners"] == "4"
    assert {k: (v["learners"], v["share_of_nudged"]) for k, v in nudges.items() if v["share_of_nudged"]} == {
        "started a step": ("1", "0.25"),
        "marked a step done": ("1", "0.25"),
        "snoozed": ("1", "0.25"),
        "stopped nudges": ("1", "0.25"),
        "any of these": ("3", "0.75"),
    }

    pillars = by(read(out, "pathways_by_pillar"), "pillar")
    assert pillars["people-growth"] == {
        "pillar": "people-growth", "name": "Growing our people", "pathways": "1", "enrolled": "1",
        "joined": "1", "steps_completed": "2", "average_progress": "0.5", "completed": "0",
        "completion_rate": "0.0",
    }  # fmt: skip
    eff = pillars["efficiency"]
    assert (eff["enrolled"], eff["joined"], eff["steps_completed"], eff["average_progress"]) == (
        "1",
        "0",
        "0",
        "0.25",
    )
    trust = pillars["customer-trust"]
    assert (trust["enrolled"], trust["steps_completed"], trust["completed"], trust["completion_rate"]) == (
        "1", "4", "1", "1.0",
    )  # fmt: skip

    applying = {row["days"]: row["steps"] for row in read(out, "learning_to_applying")}
    assert applying == {
        "same day": "0", "1-3 days": "2", "4-7 days": "0", "8-14 days": "1", "15-30 days": "0",
        "over 30 days": "0",
    }  # fmt: skip

    meetings = {row["measure"]: (row["count"], row["share_of_prompts"]) for row in read(out, "one_on_ones")}
    assert meetings == {
        "1:1 prompts sent": ("2", ""), "1:1s held": ("2", ""), "Discussed it": ("1", "0.5"),
        "Not this time": ("1", "0.5"),
    }  # fmt: skip

    summary = {row["metric"]: row["value"] for row in read(out, "summary")}
    assert summary == {
        "Active learners": "4",
        "Questions asked": "4",
        "Answer rate": "0.75",
        "Helpful rate": "0.6667",
        "Nudge response rate": "0.75",
        "Median days from learning to applying": "3.0",
        "1:1 prompts sent": "2",
        "Discussed-it rate": "0.5",
    }

    stale = read(out, "stale_content")  # reviewed more than 500 days before 27 Nov 2026
    assert [(r["content_id"], r["reviewed"], r["days_since_review"]) for r in stale] == [
        ("run-a-discovery-call", "2025-06-05", "540"),
        ("keyboard-shortcuts", "2025-06-12", "533"),
        ("book-a-meeting-room", "2025-06-24", "521"),
    ]

    audit = read(out, "why_audit")
    top = audit[0]
    assert (top["content_id"], top["uses"], top["answers"], top["completions"], top["pathway_starts"]) == (
        "give-peer-feedback", "4", "2", "1", "1",
    )  # fmt: skip
    assert (top["ratings"], top["role_relevance"], top["strategic_clarity"]) == ("2", "4.5", "3.0")

    gaps = read(out, "gap_clusters")
    printer = [g for g in gaps if "printer" in g["topic"]]
    assert len(printer) == 1 and (printer[0]["questions"], printer[0]["people"]) == ("1", "1")
    assert printer[0]["status"] == "open" and printer[0]["first_seen"].startswith("2026-11-18")

    lessons = by(read(out, "ratings_by_lesson"), "key")
    assert lessons["give-peer-feedback"]["ratings"] == "2"
    assert (lessons["give-peer-feedback"]["role_relevance"], lessons["give-peer-feedback"]["comments"]) == (
        "4.5",
        "1",
    )
    pillar_ratings = by(read(out, "ratings_by_pillar"), "key")
    assert pillar_ratings["people-growth"]["strategic_clarity"] == "3.0"

    pulse = by(read(out, "purpose_pulse"), "group")
    assert pulse["quarter 2026-Q4"]["people"] == "4"
    assert pulse["quarter 2026-Q4"]["mean_score"] == ""  # fewer than five people: no mean shown


def test_the_page_says_what_each_table_measures_and_over_which_period(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite = f"sqlite:///{tmp_path / 'learnbot.db'}"  # the page is the same on both databases
    page = (write_known_report(tmp_path, sqlite, make_settings, monkeypatch) / "report.html").read_text()
    assert "13 Nov 2026 – 27 Nov 2026 (14 days)" in page
    assert page.count("<svg") >= 5  # charts inline, nothing to fetch: no scripts, links or stylesheets
    assert "<script" not in page and not re.search(r"""(src|href)=["'](?!#)|url\((?!#)|@import""", page)
    for title in (
        "Weekly active learners",
        "Questions, answers and helpfulness",
        "Nudge response rate",
        "Pathway enrolment, progress and completion by pillar",
        "Time from learning to applying",
        "1:1 prompts",
        "Stale content",
        "Content gaps",
        "Ratings by lesson",
        "Ratings by pillar",
        "Purpose pulse",
    ):
        assert f"<h2>{title}</h2>" in page
    assert "Median: 3.0 days over 3 steps applied." in page
    assert "75%" in page  # rates are shown as percentages on the page


def test_a_bad_period_is_refused_with_what_to_type(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]
    assert main([*args, "report", "--since", "last month"]) == 2
    assert "--since 'last month': give a period like 30d" in capsys.readouterr().err
    assert main([*args, "report", "--until", "yesterday"]) == 2
    assert "--until 'yesterday': give an ISO date" in capsys.readouterr().err


def test_a_report_on_an_empty_database_says_there_is_no_data_yet(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]
    assert main([*args, "index", "--no-progress"]) == 0
    out = tmp_path / "empty"
    assert main([*args, "report", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    for said in ("No nudges were delivered", "No 1:1 prompts or 1:1s", "No content gaps", "No ratings"):
        assert said in page
    assert "Nobody pressed Applied it in this period yet." in page
    summary = {row["metric"]: row["value"] for row in read(out, "summary")}
    assert summary["Questions asked"] == "0" and summary["Answer rate"] == ""  # no rate made up from nothing
    assert len(read(out, "weekly_active_learners")) in (5, 6)  # every week of the 30 days, with 0 learners


def test_a_section_whose_module_fails_says_so_and_the_rest_still_renders() -> None:
    def broken() -> Table:
        raise RuntimeError("database went away")

    table = optional("purpose_pulse", broken)
    assert table.missing == "No data yet: could not be computed (RuntimeError); see the log."
    assert table.rows == [] and table.title == "Purpose pulse"


def test_demo_seed_is_deterministic_and_never_seeds_twice(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        settings = make_settings(config_path=write_config(folder))
        args = ["--config", str(settings.config_path), "--data-dir", str(folder / "data")]
        seed = ["demo", "seed", "--people", "12", "--weeks", "3", "--now", "2026-11-27T12:00"]
        assert main([*args, *seed]) == 0
        seeded = capsys.readouterr().out
        assert seeded.startswith("seeded: ") and " 12 people" in seeded
        out = folder / "reports"
        assert (
            main([*args, "report", "--since", "21d", "--until", "2026-11-27T12:00", "--out", str(out)]) == 0
        )
        outputs.append({path.name: path.read_text() for path in sorted(out.glob("*.csv"))})
        assert main([*args, *seed]) == 2  # a second seed would mix two runs' data
        assert "already has demo data" in capsys.readouterr().err
    assert outputs[0] == outputs[1]
    assert int(read(tmp_path / "one" / "reports", "questions")[-1]["asked"]) > 0


def test_text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text_in_the_csvs(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]
    assert main([*args, "index", "--no-progress"]) == 0
    engine = make_engine(settings.db_url)
    with session_scope(engine) as session:
        person = Person(display_name="Mallory")
        session.add(person)
        session.flush()
        ask(session, person, '=HYPERLINK("http://evil.example","click me")', None, dt.datetime.now(dt.UTC))
    engine.dispose()
    out = tmp_path / "formula"
    assert main([*args, "report", "--out", str(out)]) == 0
    cells = [cell for path in out.glob("*.csv") for row in read_rows(path) for cell in row]
    assert '\'=HYPERLINK("http://evil.example","click me")' in " ".join(cells)
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
