"""`learnbot demo seed`: a sample database with weeks of realistic activity for the report to show.

Deterministic: the same `--people`, `--weeks`, `--seed` and `--now` write the same rows. It indexes
the sample library and pathways first (like `learnbot index`), then writes people (with managers),
questions from the sample evaluation sets (answered, and gaps), answers shown, Helpful / Not
helpful, pathway enrolments and progress (started, done, applied, with takeaways), the step nudges
that led to them, snoozes and opt-outs, and, where their tables exist, ratings, 1:1 meetings with
their prompts and answers, and purpose pulse answers. It refuses a database that already has
demo people, so it never mixes two runs or touches real learners' data.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from bot.app import prepare
from bot.config import Settings
from storage.db import make_engine, session_scope
from storage.enrolments import enrol
from storage.models import (
    ContentItem,
    Enrolment,
    Feedback,
    Identity,
    Meeting,
    NudgePreference,
    OutboxMessage,
    PathwayStep,
    Person,
    StepProgress,
)
from storage.questions import record_question

PLATFORM = "demo"
SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "eval"
FIRST = ("Alex", "Sam", "Maria", "Priya", "Tom", "Chen", "Fatima", "Jonas", "Aisha", "Liam", "Sofia", "Ravi")
LAST = ("Okafor", "Lindqvist", "Garcia", "Nakamura", "Byrne", "Novak", "Haddad", "Costa", "Iyer", "Berg")
ROLES = ("support", "support", "engineering", "sales", "operations")
TAKEAWAYS = (
    "Used it in today's stand-up.",
    "Tried it with a customer and it worked.",
    "Saved me an hour on the weekly report.",
    "Shared the tip with my team.",
)


class DemoError(Exception):
    """The database cannot take demo data (it already has some); the message says what to do."""


@dataclass
class SeedSummary:
    """What the seed wrote, by kind of row."""

    counts: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in sorted(self.counts.items()))


def _questions(name: str, lessons: set[str]) -> list[tuple[str, str | None]]:
    """(text, the lesson that answers it or None) from a sample evaluation set."""
    out = []
    for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            relevant = [r for r in entry.get("relevant", []) if r in lessons]
            out.append((entry["text"], relevant[0] if relevant else None))
    return out


def _at(rng: random.Random, day: dt.datetime) -> dt.datetime:
    """A moment in working hours (09:00-17:00 UTC) on that day."""
    return day.replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(
        minutes=rng.randrange(8 * 60)
    )


def seed_demo(
    settings: Settings, *, people: int = 40, weeks: int = 8, seed: int = 13, now: dt.datetime | None = None
) -> SeedSummary:
    """Index the sample library, then fill the database with `weeks` of activity by `people` learners."""
    if not 2 <= people <= 5000 or not 1 <= weeks <= 104:
        raise ValueError(f"--people must be 2-5000 and --weeks 1-104 (got {people} and {weeks})")
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    prepare(settings)
    engine = make_engine(settings.db_url)
    summary = SeedSummary()
    try:
        with session_scope(engine) as session:
            if session.exec(select(Identity).where(Identity.platform == PLATFORM)).first() is not None:
                raise DemoError(
                    "this database already has demo data; seed a fresh one (e.g. --data-dir .demo) instead"
                )
            _Seeder(session, random.Random(seed), now, weeks, summary).run(people)
    finally:
        engine.dispose()
    return summary


class _Seeder:
    def __init__(
        self, session: Session, rng: random.Random, now: dt.datetime, weeks: int, summary: SeedSummary
    ) -> None:
        self.session, self.rng, self.now, self.summary = session, rng, now, summary
        self.start = now - dt.timedelta(weeks=weeks)
        self.days = weeks * 7
        lessons = {item.id: item for item in session.exec(select(ContentItem).where(ContentItem.active))}
        self.lessons = lessons
        self.answerable = _questions("queries.jsonl", set(lessons)) + _questions(
            "everyday.jsonl", set(lessons)
        )
        self.answerable = [(text, lesson) for text, lesson in self.answerable if lesson]
        self.gaps = _questions("unanswerable.jsonl", set()) + _questions("offtopic.jsonl", set())
        steps: dict[str, list[str]] = {}
        for step in session.exec(select(PathwayStep).order_by(PathwayStep.pathway_id, PathwayStep.position)):
            steps.setdefault(step.pathway_id, []).append(step.content_id)
        self.steps = steps

    def day(self, earliest: dt.datetime | None = None) -> dt.datetime:
        """A random weekday moment in the seeded weeks (after `earliest` when given), before now."""
        low = max(earliest or self.start, self.start)
        span = max(int((self.now - low).total_seconds() // 86400), 1)
        for _ in range(20):
            day = low + dt.timedelta(days=self.rng.randrange(span))
            moment = _at(self.rng, day)
            if day.weekday() < 5 and low <= moment < self.now:
                return moment
        return low + (self.now - low) / 2

    def add(self, row: object, kind: str) -> None:
        self.session.add(row)
        self.summary.counts[kind] += 1

    def run(self, people: int) -> None:
        persons = self.people(people)
        managers = persons[: max(1, people // 8)]
        for person in persons:
            engagement = self.rng.random()  # some people use learnbot a lot, some hardly
            self.ask(person, engagement)
            if engagement > 0.25:
                self.pathways(person, engagement)
        self.preferences(persons)
        self.ratings(persons)
        self.meetings(managers, persons)
        self.pulse(persons)

    def people(self, n: int) -> list[Person]:
        persons = []
        for i in range(n):
            name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + i // len(FIRST)) % len(LAST)]}"
            person = Person(
                display_name=name,
                email=f"demo{i + 1}@example.com",
                timezone="Europe/London",
                role="manager" if i < max(1, n // 8) else ROLES[i % len(ROLES)],
                team=f"team-{i % max(1, n // 8) + 1}",
                created_at=self.start,
            )
            self.add(person, "people")
            persons.append(person)
        self.session.flush()
        managers = persons[: max(1, n // 8)]
        for i, person in enumerate(persons):
            assert person.id is not None
            if i >= len(managers):
                person.manager_id = managers[i % len(managers)].id
            self.session.add(
                Identity(person_id=person.id, platform=PLATFORM, platform_user_id=f"demo-{i + 1}")
            )
        return persons

    def ask(self, person: Person, engagement: float) -> None:
        for _ in range(int(engagement * 10)):
            asked_at = self.day()
            gap = self.rng.random() < 0.18
            text, lesson = self.rng.choice(self.gaps if gap else self.answerable)
            confidence = round(self.rng.uniform(0.2, 0.6) if gap else self.rng.uniform(0.72, 0.98), 3)
            question = record_question(
                session=self.session,
                user_id=person.id,
                platform=PLATFORM,
                channel_id="D-demo",
                thread_id=None,
                text=text,
                shown=[(lesson, confidence)] if lesson else [],
                answered=not gap,
                confidence=confidence,
                now=asked_at,
            )
            self.summary.counts["questions"] += 1
            if lesson and self.rng.random() < 0.6:
                verdict = "helpful" if self.rng.random() < 0.78 else "not_helpful"
                at = asked_at + dt.timedelta(minutes=self.rng.randrange(1, 30))
                if at < self.now:
                    self.add(
                        Feedback(
                            user_id=person.id,
                            content_id=lesson,
                            question_id=question.id,
                            verdict=verdict,
                            created_at=at,
                        ),
                        "verdicts",
                    )

    def pathways(self, person: Person, engagement: float) -> None:
        assert person.id is not None
        chosen = self.rng.sample(sorted(self.steps), k=1 + int(engagement > 0.7))
        for pathway_id in chosen:
            joined = self.day()
            how = self.rng.choice(("self", "campaign", "audience"))
            enrolment, _ = enrol(
                session=self.session, user_id=person.id, pathway_id=pathway_id, joined_by=how, now=joined
            )
            self.summary.counts["enrolments"] += 1
            moment = joined
            done = 0
            for content_id in self.steps[pathway_id]:
                nudged = moment + dt.timedelta(days=self.rng.randrange(1, 6), hours=self.rng.randrange(0, 6))
                if nudged >= self.now:
                    break
                self.nudge(person, enrolment, content_id, nudged)
                if self.rng.random() > 0.55 + engagement * 0.4:
                    break  # this learner stopped here
                started = nudged + dt.timedelta(minutes=self.rng.randrange(5, 240))
                completed = started + dt.timedelta(hours=self.rng.randrange(1, 72))
                progress = StepProgress(
                    enrolment_id=enrolment.id or 0, content_id=content_id, started_at=started
                )
                if completed < self.now and self.rng.random() < 0.85:
                    progress.completed_at = completed
                    done += 1
                    applied = completed + dt.timedelta(days=self.rng.choice((0, 1, 2, 3, 4, 6, 9, 13, 20)))
                    applied += dt.timedelta(hours=self.rng.randrange(1, 8))
                    if applied < self.now and self.rng.random() < 0.55:
                        progress.applied_at = applied
                        progress.takeaway = self.rng.choice(TAKEAWAYS)
                        progress.share_with_manager = self.rng.random() < 0.5
                        self.summary.counts["applied"] += 1
                self.add(progress, "steps")
                moment = completed
            if done == len(self.steps[pathway_id]):
                enrolment.status = "completed"
            self.session.add(enrolment)

    def nudge(self, person: Person, enrolment: Enrolment, content_id: str, at: dt.datetime) -> None:
        self.add(
            OutboxMessage(
                idempotency_key=f"demo:step:{enrolment.id}:{content_id}",
                platform=PLATFORM,
                user_id=person.id,
                kind="step",
                payload={},
                status="sent",
                due_at=at,
                sent_at=at,
                created_at=at,
            ),
            "nudges",
        )

    def preferences(self, persons: list[Person]) -> None:
        for person in persons:
            assert person.id is not None
            roll = self.rng.random()
            if roll < 0.06:
                at = self.day(self.now - dt.timedelta(days=21))
                self.add(NudgePreference(user_id=person.id, opted_out=True, updated_at=at), "stopped")
            elif roll < 0.2:
                at = self.day(self.now - dt.timedelta(days=21))
                until = at + dt.timedelta(days=1)
                self.add(NudgePreference(user_id=person.id, snoozed_until=until, updated_at=at), "snoozed")

    def ratings(self, persons: list[Person]) -> None:
        try:
            from storage.ratings import upsert_rating
        except ImportError:
            return
        self.session.flush()
        shown = list(
            self.session.exec(
                select(Feedback.user_id, Feedback.content_id, Feedback.created_at).where(
                    Feedback.verdict == "helpful"
                )
            )
        )
        for user_id, content_id, at in shown:
            if user_id is None or self.rng.random() > 0.4:
                continue
            relevance = self.rng.choice((3, 4, 4, 5, 5))
            clarity = self.rng.choice((2, 3, 3, 4, 5)) if content_id not in _CLEAR else 5
            comment = "Would love a worked example." if self.rng.random() < 0.15 else None
            upsert_rating(
                session=self.session,
                user_id=user_id,
                content_id=content_id,
                role_relevance=relevance,
                strategic_clarity=clarity,
                comment=comment,
                now=at + dt.timedelta(minutes=2),
            )
            self.summary.counts["ratings"] += 1

    def meetings(self, managers: list[Person], persons: list[Person]) -> None:
        reports = [p for p in persons if p.manager_id is not None]
        for person in reports:
            manager_id = person.manager_id
            assert manager_id is not None and person.id is not None
            first = self.start + dt.timedelta(days=self.rng.randrange(0, 14))
            start = _at(self.rng, first)
            while start < self.now + dt.timedelta(days=7):
                meeting_id = f"demo:{manager_id}:{person.id}:{start:%Y-%m-%d}"
                meeting = Meeting(
                    id=meeting_id,
                    manager_id=manager_id,
                    report_id=person.id,
                    start_at=start,
                    end_at=start + dt.timedelta(minutes=30),
                    source="roster",
                    seen_at=self.start,
                )
                prompt_at = start - dt.timedelta(hours=2)
                if prompt_at < self.now:
                    self.add(
                        OutboxMessage(
                            idempotency_key=f"demo:one_on_one:{meeting_id}",
                            platform=PLATFORM,
                            user_id=manager_id,
                            kind="one_on_one",
                            payload={},
                            status="sent",
                            due_at=prompt_at,
                            sent_at=prompt_at,
                            created_at=prompt_at,
                        ),
                        "one_on_one_prompts",
                    )
                    answered = start + dt.timedelta(minutes=40)
                    if answered < self.now and self.rng.random() < 0.7:
                        meeting.response = "discussed" if self.rng.random() < 0.65 else "not_this_time"
                        meeting.responded_at = answered
                self.add(meeting, "meetings")
                start += dt.timedelta(days=14)

    def pulse(self, persons: list[Person]) -> None:
        try:
            from storage.pulse import save_answer
        except ImportError:
            return
        period = f"{self.now.year}-Q{(self.now.month - 1) // 3 + 1}"
        for person in persons:
            if person.id is None or self.rng.random() < 0.3:
                continue
            score = self.rng.choice((2, 3, 3, 4, 4, 5))
            at = self.day(self.now - dt.timedelta(days=20))
            save_answer(session=self.session, user_id=person.id, period=period, score=score, at=at)
            self.summary.counts["pulse_answers"] += 1


# Lessons whose "why" is written out clearly in the sample library: rated clear by everyone.
_CLEAR = frozenset({"give-peer-feedback", "excel-pivot-tables"})
