"""Content gaps as clusters: what people asked that the library could not answer well, grouped by meaning.

Gap questions (storage.gaps: unanswered, or "Not helpful" and never "Helpful") are clustered in the
order they were asked with leader clustering: a question joins the most similar cluster when its
similarity to one of that cluster's first `CORE` questions reaches the threshold, else it starts a
new cluster. Earlier assignments never change when later questions arrive, so a cluster's id, the id
of its first question, is stable. Similarity is the cosine of sentence embeddings
(content_index.encoder) when the semantic tier runs, else rapidfuzz's token-set ratio of the stemmed
informative words; each has its own threshold, tuned on tests/test_gaps.py's fixture (near-duplicates
and rewordings merge, different topics stay apart, on held-back questions too). Small talk and
bare numbers are never gaps, even if an old row holds one.

A cluster closes when a lesson added (or changed) after its newest question answers it: most of a
sample of its questions now get an answer at or above the answer threshold from that lesson, searched
as their askers would (their stored role's audience), and not one they marked "Not helpful". The
closure is stored (when, which lesson); a question asked after that starts a new cluster.
`gap_clusters` is what chat, App Home and the report read. The clustering is kept in the process
between calls and only extended by the questions asked since (rebuilt when an earlier question or a
closure changed); question vectors go into the index's embedding cache file (benchmarks/gaps.py).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist
from sqlalchemy import func
from sqlmodel import Session, select

from content_index.answering import ANSWER_THRESHOLD, NOT_SURE_FLOOR, clean_question, small_talk
from content_index.search import Filters, Searchable, analyze
from storage.content import get_content
from storage.gaps import GapQuestion, close_cluster, cluster_states, gap_questions
from storage.models import ContentItem

SEMANTIC_THRESHOLD = 0.5  # cosine of all-MiniLM-L6-v2 vectors: 0.45-0.55 all cluster the fixture right
LEXICAL_THRESHOLD = 0.65  # token_set_ratio / 100 of stemmed words: at 0.6 two "password" topics merge
CORE = 5  # a question is compared with a cluster's first few questions (no chaining through later ones)
EXAMPLES = 3
# A lesson is "near" when chat would still offer it in a Not sure choice (canteen menu → Budgeting is not).
NEAREST_FLOOR = NOT_SURE_FLOOR
CLOSE_SAMPLE = 5  # questions of a cluster re-asked when the library changes
Status = Literal["open", "closed"]


@dataclass(frozen=True)
class NearestLesson:
    """The lesson closest to a cluster's questions (not good enough to answer them: it is a gap)."""

    content_id: str
    title: str
    confidence: float


@dataclass(frozen=True)
class GapCluster:
    """A group of similar gap questions over a period.

    `id` is stable (its first question's id; shown as `ref`, e.g. "G12"). `questions`, `people`,
    `first_seen`, `last_seen`, `unanswered` and `not_helpful` count the questions in the period asked
    for; `opened_at` is when its first question ever was asked. `examples` are up to three distinct
    questions, the most asked first. A closed cluster says when and by which lesson.
    """

    id: int
    questions: int
    people: int
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    examples: tuple[str, ...]
    opened_at: dt.datetime
    status: Status = "open"
    unanswered: int = 0
    not_helpful: int = 0
    nearest: NearestLesson | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    closed_by_title: str | None = None
    sent_at: dt.datetime | None = None
    question_ids: tuple[int, ...] = ()

    @property
    def ref(self) -> str:
        return f"G{self.id}"

    @property
    def label(self) -> str:
        return self.examples[0] if self.examples else ""


@dataclass
class _Draft:
    """A cluster while it is built: every question in it, in the order asked."""

    members: list[GapQuestion] = field(default_factory=list)
    closed_at: dt.datetime | None = None


# Chatter the small-talk replies do not know, and the words that go with it: a message made only of
# these (and small talk, and numbers) asks for nothing, so it is never a gap ("hmm", "all good", "np").
CHATTER = frozenset(
    {
        "hm", "hmm", "hmmm", "huh", "uh", "um", "umm", "er", "ah", "aha", "oh", "ohh", "oops", "sorry",
        "meh", "idk", "nvm", "never", "mind", "wait", "test", "testing", "brb", "np", "gotcha", "lmao",
        "rofl", "lol", "kk", "okey", "oki", "all", "good", "that", "this", "it", "so", "very", "much",
        "just", "helped", "works", "working", "fine", "again", "got",
    }
)  # fmt: skip
_WORDS = re.compile(r"[a-z']+|\d+")


def is_gap_text(text: str) -> bool:
    """Whether a message can be a content gap: not small talk or chatter, not only numbers or punctuation."""
    cleaned = clean_question(text)
    if not any(ch.isalpha() for ch in cleaned) or small_talk(cleaned) is not None:
        return False
    words = _WORDS.findall(cleaned.lower().replace("\u2019", "'"))
    return not all(w in CHATTER or w.isdigit() or small_talk(w) is not None for w in words)


def _lexical_key(text: str) -> str:
    return " ".join(sorted(set(analyze(clean_question(text))))) or clean_question(text).lower()


_VECTORS: dict[str, np.ndarray] = {}  # question vectors this process computed, by cleaned text
_VECTORS_LOCK = threading.Lock()
_VECTORS_LIMIT = 50_000
VECTOR_KIND = "gap-question"  # the kind in the embedding cache's keys


def _semantic(index: Searchable | None) -> bool:
    """Whether to compare questions by embeddings: the encoder runs here and the bot's search is hybrid."""
    from content_index.encoder import unavailable_reason

    if unavailable_reason() is not None:
        return False
    from content_index.semantic import HybridIndex

    return index is None or isinstance(index, HybridIndex)  # search.semantic: off clusters lexically


def _vectors(texts: Sequence[str], index: Searchable | None) -> np.ndarray:
    """Unit vectors for the questions: from this process, the index's embedding cache file, or encoded."""
    from content_index.encoder import shared_encoder
    from content_index.semantic import EmbeddingCache, HybridIndex, text_key

    cleaned = [clean_question(t) for t in texts]
    with _VECTORS_LOCK:
        missing = sorted({t for t in cleaned if t not in _VECTORS})
    if missing:
        cache = index.cache if isinstance(index, HybridIndex) else EmbeddingCache(None)
        keys = {t: text_key(VECTOR_KIND, t) for t in missing}
        stored = cache.get_many(list(keys.values()))
        found = {t: np.frombuffer(stored[k], dtype=np.float32) for t, k in keys.items() if k in stored}
        todo = [t for t in missing if t not in found]
        if todo:
            encoded = shared_encoder().encode(todo, max_tokens=64)
            found.update(zip(todo, encoded, strict=True))
            cache.put_many(
                {
                    keys[t]: np.asarray(v, dtype=np.float32).tobytes()
                    for t, v in zip(todo, encoded, strict=True)
                }
            )
        with _VECTORS_LOCK:
            if len(_VECTORS) + len(found) > _VECTORS_LIMIT:
                _VECTORS.clear()
            _VECTORS.update(found)
    with _VECTORS_LOCK:
        rows = [_VECTORS.get(t) for t in cleaned]
    if any(row is None for row in rows):  # cleared by another thread meanwhile: encode these here
        rows = list(shared_encoder().encode(cleaned, max_tokens=64))
    return np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)


@dataclass
class _Clustering:
    """Leader clustering after the first `len(questions)` gap questions (see the module doc). Kept
    between calls, so listing gaps again costs only the questions asked since."""

    semantic: bool
    questions: list[GapQuestion] = field(default_factory=list)
    closed: dict[int, dt.datetime] = field(default_factory=dict)
    drafts: dict[int, _Draft] = field(default_factory=dict)
    owners: list[int] = field(default_factory=list)  # the cluster of each core question
    closed_at: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per core question (inf: open)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float32))
    keys: list[str] = field(default_factory=list)  # lexical keys of the core questions
    exact: dict[str, int] = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        return SEMANTIC_THRESHOLD if self.semantic else LEXICAL_THRESHOLD

    def extend(self, new: Sequence[GapQuestion], index: Searchable | None) -> None:
        """Assign each new question, in order, to the most similar open cluster or a cluster of its own."""
        vectors = _vectors([q.text for q in new], index) if self.semantic and new else None
        for n, question in enumerate(new):
            self.questions.append(question)
            key = clean_question(question.text).lower()
            target = self.exact.get(key)
            if target is not None and _accepts(self.drafts[target], question):
                self.drafts[target].members.append(question)
                continue
            chosen = self._nearest(question, None if vectors is None else vectors[n])
            if chosen is None:
                chosen = question.id
                self.drafts[chosen] = _Draft(closed_at=self.closed.get(chosen))
            draft = self.drafts[chosen]
            draft.members.append(question)
            self.exact.setdefault(key, chosen)
            if len(draft.members) <= CORE:
                self._add_core(chosen, question, None if vectors is None else vectors[n])

    def _nearest(self, question: GapQuestion, vector: np.ndarray | None) -> int | None:
        if not self.owners:
            return None
        if vector is not None:
            scores = self.vectors[: len(self.owners)] @ vector
        else:
            key = _lexical_key(question.text)
            scores = cdist([key], self.keys, scorer=fuzz.token_set_ratio)[0] / 100
        scores = np.where(self.closed_at > question.asked_at.timestamp(), scores, -np.inf)
        best = int(np.argmax(scores))  # ties: the earliest cluster
        return self.owners[best] if scores[best] >= self.threshold else None

    def _add_core(self, cluster_id: int, question: GapQuestion, vector: np.ndarray | None) -> None:
        draft = self.drafts[cluster_id]
        until = draft.closed_at.timestamp() if draft.closed_at else np.inf
        self.owners.append(cluster_id)
        self.closed_at = np.append(self.closed_at, until)
        if vector is not None:
            if len(self.owners) > len(self.vectors):
                grown = np.zeros((max(64, 2 * len(self.vectors)), vector.shape[0]), dtype=np.float32)
                grown[: len(self.vectors)] = self.vectors
                self.vectors = grown
            self.vectors[len(self.owners) - 1] = vector
        else:
            self.keys.append(_lexical_key(question.text))

    def close(self, cluster_id: int, at: dt.datetime) -> None:
        """A cluster closed: it takes no question asked from `at` on."""
        self.drafts[cluster_id].closed_at = at
        self.closed[cluster_id] = at
        self.closed_at[np.array(self.owners) == cluster_id] = at.timestamp()


def _accepts(draft: _Draft, question: GapQuestion) -> bool:
    """A closed cluster keeps only the questions asked before it closed."""
    return draft.closed_at is None or question.asked_at < draft.closed_at


_CLUSTERINGS: dict[bool, _Clustering] = {}  # by tier: the last clustering this process built
_CLUSTERING_LOCK = threading.RLock()


def _clustering(
    questions: Sequence[GapQuestion], closed: dict[int, dt.datetime], index: Searchable | None
) -> _Clustering:
    """The clustering of these questions: the last one extended when they only add to its questions
    and no closure changed, else built afresh. Call with `_CLUSTERING_LOCK` held."""
    semantic = _semantic(index)
    state = _CLUSTERINGS.get(semantic)
    done = len(state.questions) if state else 0
    if state is None or state.closed != closed or list(questions[:done]) != state.questions:
        state = _Clustering(semantic=semantic, closed=dict(closed))
        done = 0
    state.extend(questions[done:], index)
    _CLUSTERINGS[semantic] = state
    return state


def gap_clusters(
    *,
    session: Session,
    since: dt.datetime,
    now: dt.datetime,
    index: Searchable | None = None,
    threshold: float | None = None,
) -> list[GapCluster]:
    """The gap clusters with a question asked in [since, now) or closed in that period.

    Open clusters first (most questions, then most people, then latest), then closed ones. With the
    live search `index` (pass `bot.index`), clusters the library now answers are closed first
    (answer `threshold`, default the bot's 0.7) and the nearest lesson comes from search; without
    it, from the lessons stored as shown for the cluster's questions.
    """
    since, now = _utc(since), _utc(now)
    questions = [q for q in gap_questions(session=session, until=now) if is_gap_text(q.text)]
    states = cluster_states(session=session)
    closed = {i: _utc(s.closed_at) for i, s in states.items() if s.closed_at is not None}
    closed = {i: at for i, at in closed.items() if at <= now}
    with _CLUSTERING_LOCK:
        state = _clustering(questions, closed, index)
        drafts = state.drafts
        if index is not None:
            newly = close_answered(
                drafts,
                index,
                session=session,
                now=now,
                threshold=ANSWER_THRESHOLD if threshold is None else threshold,
            )
            for cluster_id, at in newly.items():
                state.close(cluster_id, at)
            if newly:
                states = cluster_states(session=session)
        out = []
        for cluster_id, draft in drafts.items():
            cluster = _summarise(cluster_id, draft, states.get(cluster_id), since, now, index, session)
            if cluster is not None:
                out.append(cluster)
    return sorted(out, key=_order)


def open_clusters(
    *,
    session: Session,
    since: dt.datetime,
    now: dt.datetime,
    index: Searchable | None = None,
    threshold: float | None = None,
) -> list[GapCluster]:
    """Only the open clusters (what `gaps` and App Home list), in the same order."""
    return [
        c
        for c in gap_clusters(session=session, since=since, now=now, index=index, threshold=threshold)
        if c.status == "open"
    ]


def _order(cluster: GapCluster) -> tuple[int, int, int, float, int]:
    last = cluster.last_seen.timestamp() if cluster.last_seen else 0.0
    return (cluster.status != "open", -cluster.questions, -cluster.people, -last, cluster.id)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _summarise(
    cluster_id: int,
    draft: _Draft,
    state: object,
    since: dt.datetime,
    now: dt.datetime,
    index: Searchable | None,
    session: Session,
) -> GapCluster | None:
    inside = [q for q in draft.members if since <= q.asked_at < now]
    closed_at = draft.closed_at
    closed_in_period = closed_at is not None and since <= closed_at <= now
    if not inside and not closed_in_period:
        return None
    counts = Counter(clean_question(q.text) for q in reversed(inside or draft.members))
    examples = tuple(text for text, _ in counts.most_common(EXAMPLES))  # ties: the most recent first
    closed_by = getattr(state, "closed_by", None) if closed_at is not None else None
    closed_item = get_content(session=session, content_id=closed_by) if closed_by else None
    return GapCluster(
        id=cluster_id,
        questions=len(inside),
        people=len({q.user_id for q in inside if q.user_id is not None}),
        first_seen=inside[0].asked_at if inside else None,
        last_seen=inside[-1].asked_at if inside else None,
        examples=examples,
        opened_at=draft.members[0].asked_at,
        status="closed" if closed_at is not None else "open",
        unanswered=sum(q.reason == "unanswered" for q in inside),
        not_helpful=sum(q.reason == "not_helpful" for q in inside),
        nearest=_nearest(draft, examples, index, session),
        closed_at=closed_at,
        closed_by=closed_by,
        closed_by_title=closed_item.title if closed_item else None,
        sent_at=_maybe_utc(getattr(state, "sent_at", None)),
        question_ids=tuple(q.id for q in inside),
    )


def _maybe_utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _utc(value)


def _nearest(
    draft: _Draft, examples: tuple[str, ...], index: Searchable | None, session: Session
) -> NearestLesson | None:
    """The best lesson for the cluster's most asked question (search), or the one most often shown for it."""
    if index is not None and examples:
        hits = [hit for hit in index.search(examples[0], k=1) if hit.confidence >= NEAREST_FLOOR]
        item = get_content(session=session, content_id=hits[0].id) if hits else None
        return NearestLesson(item.id, item.title, hits[0].confidence) if item else None
    shown = Counter(q.shown[0] for q in draft.members if q.shown)
    for content_id, _ in shown.most_common():
        item = get_content(session=session, content_id=content_id)
        if item is not None and item.active:
            return NearestLesson(item.id, item.title, 0.0)
    return None


# ---- closing clusters a new lesson answers -------------------------------------------------------

_CHECKED: dict[int, tuple[object, tuple[int, ...]]] = {}  # cluster → (library stamp, sample) last asked
_CHECKED_LOCK = threading.Lock()


def _library_stamp(session: Session, index: Searchable) -> object:
    latest = session.exec(select(func.max(ContentItem.updated_at))).one()
    return (id(index), len(index), latest)


def close_answered(
    drafts: dict[int, _Draft], index: Searchable, *, session: Session, now: dt.datetime, threshold: float
) -> dict[int, dt.datetime]:
    """Close the open clusters the library now answers; returns cluster id → closed at, for those.

    Each open cluster is asked again only when the library or its sample of questions changed since
    it was last asked in this process, so listing gaps stays cheap.
    """
    stamp = _library_stamp(session, index)
    closed: dict[int, dt.datetime] = {}
    for cluster_id, draft in drafts.items():
        if draft.closed_at is not None:
            continue
        sample = _sample(draft)
        key = tuple(q.id for q in sample)
        with _CHECKED_LOCK:
            if _CHECKED.get(cluster_id) == (stamp, key):
                continue
        lesson = _answering_lesson(
            sample, index, threshold, session=session, after=draft.members[-1].asked_at
        )
        with _CHECKED_LOCK:
            _CHECKED[cluster_id] = (stamp, key)
        if lesson is None:
            continue
        lesson_id, at = lesson  # closed when that lesson was indexed (after every question of it)
        if at > now:  # a period that ends before the lesson came: still open then (ask again later)
            with _CHECKED_LOCK:
                _CHECKED.pop(cluster_id, None)
            continue
        row = close_cluster(session=session, cluster_id=cluster_id, lesson_id=lesson_id, at=at)
        closed[cluster_id] = _utc(row.closed_at) if row.closed_at else at
    return closed


def _sample(draft: _Draft) -> list[GapQuestion]:
    """Up to CLOSE_SAMPLE distinct questions of a cluster, the most recent first."""
    seen: set[str] = set()
    sample = []
    for question in reversed(draft.members):
        text = clean_question(question.text).lower()
        if text not in seen:
            seen.add(text)
            sample.append(question)
        if len(sample) == CLOSE_SAMPLE:
            break
    return sample


def _answering_lesson(
    sample: Sequence[GapQuestion],
    index: Searchable,
    threshold: float,
    *,
    session: Session,
    after: dt.datetime,
) -> tuple[str, dt.datetime] | None:
    """The lesson added or changed after `after` (the cluster's newest question) that now answers most
    of these questions at or above `threshold`, and when it was indexed, if one does. A lesson that was
    already there when they were asked does not close them: it did not answer them then (another
    audience, a reworded question)."""
    answers: Counter[str] = Counter()
    fresh: dict[str, dt.datetime | None] = {}
    for question in sample:
        audience = Filters(audience=question.role or "everyone")  # what the asker sees, as a learner
        found = index.search(clean_question(question.text), filters=audience, k=3)
        hits = [h for h in found if h.id not in question.rejected]
        if not hits or hits[0].confidence < threshold:
            continue
        lesson = hits[0].id
        if lesson not in fresh:
            item = get_content(session=session, content_id=lesson)
            indexed = _utc(item.updated_at) if item is not None and item.active else None
            fresh[lesson] = indexed if indexed is not None and indexed > after else None
        if fresh[lesson] is not None:
            answers[lesson] += 1
    if not answers:
        return None
    lesson, count = answers.most_common(1)[0]
    indexed = fresh[lesson]
    return (lesson, indexed) if indexed is not None and count * 2 > len(sample) else None
