"""Feedback and use as ranking signals: "Not helpful" demotes a lesson for similar questions, "Helpful",
good ratings and completions promote it. Always bounded, and old votes fade, so no lesson is buried.

A vote counts for a new question in proportion to how alike the two questions are (Jaccard overlap of
their search terms, counted from `SIMILAR` upwards), so a lesson voted down for "give feedback to a peer"
keeps its place for "situation behaviour impact". Votes fade with a half-life of `HALF_LIFE_DAYS`. The
multiplier per lesson is 1 + MAX_DEMOTION * tanh(net / VOTE_SCALE) for a net "Not helpful" (one vote
about -30%, three about -65%, never below 0.3, so the lesson stays in the list and recovers as votes
fade or others find it helpful), and 1 + MAX_PROMOTION * tanh(...) for a net "Helpful" (at most +30%).
Completions add a small question-independent promotion (at most +5%), and so does peer validation of a
lesson curated from chat: distinct colleagues, not the curator, who found it helpful (at most +10%, full
from `VALIDATIONS_FOR_FULL_EFFECT` colleagues on). Ratings (one per person and lesson, not tied to a
question) move a lesson by its average relevance to people's roles: 3 of 5 changes nothing, 5 promotes
and 1 demotes by up to `RATING_EFFECT`, in full from `RATINGS_FOR_FULL_EFFECT` ratings on.

`FeedbackSignals` is pure (no database); `load_signals` builds it from storage and `record` keeps it
current in memory when someone clicks.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from content_index.search import analyze
from storage.curation import validations
from storage.models import Feedback, Question, StepProgress
from storage.ratings import relevance_by_lesson

SIMILAR = 0.4  # questions sharing less than this share of their terms do not affect each other
MAX_DEMOTION = 0.7
MAX_PROMOTION = 0.3
VOTE_SCALE = 2.0
HALF_LIFE_DAYS = 90.0
COMPLETION_EFFECT = 0.05
COMPLETIONS_FOR_FULL_EFFECT = 20
VALIDATION_EFFECT = 0.1
VALIDATIONS_FOR_FULL_EFFECT = 5
RATING_EFFECT = 0.1
RATINGS_FOR_FULL_EFFECT = 5
VERDICT_VALUES = {"helpful": 1.0, "not_helpful": -1.0}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(when: dt.datetime | None) -> dt.datetime:
    """SQLite hands back naive UTC datetimes; make every time comparable."""
    if when is None:
        return _utcnow()
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Vote:
    """One verdict on a lesson for one question: +1 helpful, -1 not helpful, ratings in between."""

    terms: frozenset[str]
    value: float
    at: dt.datetime


def vote_value(verdict: str, relevance: int | None = None) -> float | None:
    """+1 / -1 for Helpful / Not helpful; a 1-5 relevance rating maps to -1..+1; None if not a vote."""
    if verdict in VERDICT_VALUES:
        return VERDICT_VALUES[verdict]
    if verdict == "rating" and relevance is not None:
        return (relevance - 3) / 2.0
    return None


class FeedbackSignals:
    """Votes per lesson and completion counts, turned into bounded score multipliers for a question."""

    def __init__(self) -> None:
        self._votes: dict[str, dict[object, Vote]] = {}
        self._completions: dict[str, int] = {}
        self._validations: dict[str, int] = {}  # curated lessons: distinct colleagues who found them helpful
        self._ratings: dict[str, tuple[float, int]] = {}  # average role relevance (1-5) and how many rated
        self._lock = threading.Lock()
        self.last_feedback_id = 0  # the highest stored Feedback id applied so far

    def __len__(self) -> int:
        return sum(len(votes) for votes in self._votes.values())

    def load_from(self, *, session: Session) -> None:
        """Apply Feedback rows stored since the last load (by any replica) and recount completions."""
        rows = session.exec(
            select(Feedback, Question.text)
            .join(Question, col(Question.id) == col(Feedback.question_id))
            .where(col(Feedback.id) > self.last_feedback_id)
            .order_by(col(Feedback.id))
        )
        for feedback, text in rows:
            self.add_feedback(feedback, text)
        completions = session.exec(
            select(StepProgress.content_id, func.count())
            .where(col(StepProgress.completed_at).is_not(None))
            .group_by(col(StepProgress.content_id))
        )
        counts = {content_id: int(count) for content_id, count in completions}
        validated = validations(session=session)
        rated = relevance_by_lesson(session=session)
        with self._lock:
            self._completions = counts
            self._validations = validated
            self._ratings = rated

    def record(
        self,
        question: str,
        content_id: str,
        verdict: str,
        *,
        relevance: int | None = None,
        at: dt.datetime | None = None,
        key: object = None,
    ) -> None:
        """Remember a verdict on `content_id` for `question`; the same `key` (a Feedback row id)
        again replaces the earlier verdict, as a second click does in storage."""
        value = vote_value(verdict, relevance)
        terms = frozenset(analyze(question))
        with self._lock:
            votes = self._votes.setdefault(content_id, {})
            if key is None:
                key = object()
            votes.pop(key, None)
            if value and terms:
                votes[key] = Vote(terms, value, _aware(at))

    def add_feedback(self, feedback: Feedback, question: str) -> None:
        """A stored Feedback row and the text of the question it answers."""
        self.record(
            question,
            feedback.content_id,
            feedback.verdict,
            relevance=feedback.relevance,
            at=feedback.created_at,
            key=feedback.id,
        )
        self.last_feedback_id = max(self.last_feedback_id, feedback.id or 0)

    def record_completion(self, content_id: str, count: int = 1) -> None:
        """Someone finished this lesson: a small promotion for every question."""
        with self._lock:
            self._completions[content_id] = self._completions.get(content_id, 0) + count

    def set_validations(self, content_id: str, colleagues: int) -> None:
        """How many colleagues (not the curator) found this curated lesson helpful."""
        with self._lock:
            self._validations[content_id] = colleagues

    def set_rating(self, content_id: str, average: float, count: int) -> None:
        """A lesson's average relevance to people's roles (1-5) over `count` ratings."""
        with self._lock:
            self._ratings[content_id] = (average, count)

    def multipliers(self, query: str, doc_ids: Sequence[str]) -> dict[str, float]:
        """Score multipliers for the lessons among `doc_ids` that have votes or completions."""
        terms = frozenset(analyze(query))
        now = _utcnow()
        result: dict[str, float] = {}
        with self._lock:
            for doc_id in doc_ids:
                votes, done = self._votes.get(doc_id), self._completions.get(doc_id, 0)
                peers = self._validations.get(doc_id, 0)
                average, rated = self._ratings.get(doc_id, (3.0, 0))
                if not votes and not done and not peers and not rated:
                    continue
                net = sum(
                    _similarity(terms, v.terms) * v.value * _decay(now, v.at) for v in (votes or {}).values()
                )
                factor = 1.0 + (MAX_DEMOTION if net < 0 else MAX_PROMOTION) * math.tanh(net / VOTE_SCALE)
                if done:
                    share = math.log1p(done) / math.log1p(COMPLETIONS_FOR_FULL_EFFECT)
                    factor *= 1.0 + COMPLETION_EFFECT * min(1.0, share)
                if peers:
                    factor *= 1.0 + VALIDATION_EFFECT * min(1.0, peers / VALIDATIONS_FOR_FULL_EFFECT)
                if rated:
                    leaning = (average - 3.0) / 2.0  # -1 (not relevant to anyone's role) .. +1
                    factor *= 1.0 + RATING_EFFECT * leaning * min(1.0, rated / RATINGS_FOR_FULL_EFFECT)
                if factor != 1.0:
                    result[doc_id] = factor
        return result


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two questions' terms, 0 below `SIMILAR`."""
    if not a or not b:
        return 0.0
    overlap = len(a & b) / len(a | b)
    return overlap if overlap >= SIMILAR else 0.0


def _decay(now: dt.datetime, at: dt.datetime) -> float:
    """Weight of a vote cast at `at`: halves every HALF_LIFE_DAYS."""
    days = max(0.0, (now - at).total_seconds() / 86400.0)
    return 0.5 ** (days / HALF_LIFE_DAYS)


def load_signals(*, session: Session) -> FeedbackSignals:
    """Every stored verdict with its question's text, and completion counts per lesson."""
    signals = FeedbackSignals()
    signals.load_from(session=session)
    return signals
