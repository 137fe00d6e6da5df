"""The semantic tier: sentence embeddings (content_index.encoder) fused with the lexical ranking.

A lesson is scored by the cosine of the question with "title. summary body", lifted part of the way
(`TITLE_SHARE`) towards its title's cosine when that is larger: not the larger of the two, since a short
title that names a topic is close to every question about it, and such a "hub" lesson won them all.
Vectors are kept in a small SQLite file under the data directory (and in memory for the process), keyed
by a hash of the model and the embedded text: only new or changed lessons are ever embedded again, and
the first embedding of a large library shows a progress bar.

Fusion does not depend on one encoder's score range. For each question the cosines of all visible
lessons are turned into z-scores (how many standard deviations a lesson stands above the library's
mean for this question), and the lexical evidence enters as the lexical score relative to its own top,
times how much of the question the lesson covers, with a weight per question:

    fused = z + LEXICAL_WEIGHT * (1 + best coverage) / (1 + DENSE_GAP_DAMPING * dense gap)
                  * coverage * relative lexical score

so lexical evidence counts more when some lesson holds the whole question (names, codes, exact
wording) and less when the dense tier has a clear winner (its z-score gap to the next lesson). Both
parameters were chosen on the development data only, as the setting that is never below the better
tier on any development set (benchmarks/fit_confidence.py prints the grid).
Confidence is content_index.confidence's calibrated probability that the top lesson is right.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from content_index.confidence import dense_confidence, hybrid_confidence
from content_index.encoder import Encoder, model_name, release_freed_memory, shared_encoder
from content_index.encoder import unavailable_reason as encoder_unavailable
from content_index.lexical import LexicalIndex
from content_index.search import Document, Filters, Hit, RankSignals, Synonyms

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 1.0  # in standard deviations of the question's cosine distribution (dev data only)
DENSE_GAP_DAMPING = 0.5  # a clear dense winner (its z-score gap to the next lesson) damps the lexical part
# How far a lesson's title lifts its cosine above its whole text's, chosen on the development data:
# StackFAQ (titles are the questions) wants the title, the sample library (short topic titles) the whole
# text. Hybrid MRR@10, StackFAQ thread / answer / sample library, by share: 1.0 (the larger cosine)
# 0.9713 / 0.9627 / 0.9566; 0.8: 0.9708 / 0.9630 / 0.9619; 0.7: 0.9728 / 0.9631 / 0.9637;
# 0.6: 0.9703 / 0.9641 / 0.9645; 0 (whole text only): 0.9563 / 0.9591 / 0.9755.
TITLE_SHARE = 0.7
FEEDBACK_WEIGHT = 2.0  # feedback multipliers (x0.3..x1.3) enter as 2 * log(multiplier) z units
POOL = 50
CHUNK = 2_000  # lessons read from the vector cache at a time
LARGE = 20_000  # above this many lessons the dense tier searches in two stages (see _dense_two_stage)
SHORTLIST = 500
REDUCED = 128  # dimensions of the first stage's shortlist (of the encoder's 384)
SAMPLE = 4_000
PROGRESS_MIN = 200  # show a progress bar when at least this many texts need embedding
_ENCODING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="learnbot-encode")
_MEMORY: dict[str, bytes] = {}  # vectors already read or made by this process, by text key
_MEMORY_LIMIT = (
    5_000  # enough for a few small libraries in one process (tests), not a second copy of a big one
)


def unavailable_reason() -> str | None:
    """Why the semantic tier cannot run here, or None when it can."""
    return encoder_unavailable()


class EmbeddingCache:
    """Vectors by text hash in a SQLite file, so a restart never re-embeds an unchanged lesson."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                connection.execute("CREATE TABLE IF NOT EXISTS embedding (key TEXT PRIMARY KEY, vector BLOB)")

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        return sqlite3.connect(self.path, timeout=30)

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored vectors (raw float32 bytes) for those keys that have one. Vectors this process
        already holds (another index, an earlier start in the same process) are copied into the file."""
        if self.path is None:
            return {k: _MEMORY[k] for k in keys if k in _MEMORY}
        found: dict[str, bytes] = {}
        with self._lock, self._connect() as connection:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, vector FROM embedding WHERE key IN ({marks})"
                found.update(connection.execute(query, chunk).fetchall())
        known = {k: _MEMORY[k] for k in keys if k not in found and k in _MEMORY}
        if known:
            self.put_many(known)
            found.update(known)
        return found

    def put_many(self, vectors: dict[str, bytes]) -> None:
        if len(_MEMORY) + len(vectors) <= _MEMORY_LIMIT:
            _MEMORY.update(vectors)
        if self.path is None:
            return
        with self._lock, self._connect() as connection:
            connection.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?)", vectors.items())


def text_key(kind: str, text: str, model: str | None = None) -> str:
    """Content hash of what gets embedded, with the model and the kind of text in it."""
    return hashlib.sha256(f"{model or model_name()}\0{kind}\0{text}".encode()).hexdigest()


def lesson_cosine(title: np.ndarray, full: np.ndarray) -> np.ndarray:
    """A lesson's cosine with the question: its whole text's, lifted part of the way (`TITLE_SHARE`)
    towards its title's when the title is closer. Not the larger of the two: a short "hub" title
    ("Gmail") is close to every question naming its topic and would win them all."""
    return full + TITLE_SHARE * np.maximum(title - full, 0.0)


def _texts(doc: Document) -> tuple[str, str]:
    """What is embedded per lesson: its title, and its title with summary and body."""
    return doc.title, f"{doc.title}. {doc.summary} {doc.body}".strip()


@dataclass(frozen=True)
class Candidate:
    """One lesson's evidence for a question, from both tiers (see the module doc)."""

    id: str
    cosine: float
    z: float  # cosine in standard deviations above the library's mean for this question
    lexical: float  # lexical score / top lexical score (0 when the lexical tier did not find it)
    coverage: float  # lexical coverage of the question (0..1)
    fused: float


@dataclass(frozen=True)
class Ranking:
    """Both tiers' view of one question, fused: what confidence and evaluation need."""

    candidates: list[Candidate]  # best first
    lexical_top: str | None
    dense_top: str | None
    lexical_hits: list[Hit]

    def without(self, ids: Iterable[str]) -> Ranking:
        """The same ranking as if those lessons were not in the library (for fitting and sweeps)."""
        gone = set(ids)
        candidates = [c for c in self.candidates if c.id not in gone]
        lexical = [h for h in self.lexical_hits if h.id not in gone]
        dense_top = max(candidates, key=lambda c: (c.cosine, c.id)).id if candidates else None
        return Ranking(candidates, lexical[0].id if lexical else None, dense_top, lexical)


class HybridIndex:
    """The lexical SearchIndex plus lesson embeddings; same interface, fused ranking."""

    def __init__(
        self,
        documents: Iterable[Document] = (),
        *,
        encoder: Encoder | None = None,
        cache: EmbeddingCache | None = None,
        synonyms: Synonyms | None = None,
        signals: RankSignals | None = None,
        lexical_weight: float = LEXICAL_WEIGHT,
    ) -> None:
        self._encoder = encoder  # None: the shared one, loaded only when something must be encoded
        self.cache = cache or EmbeddingCache(None)
        self.lexical = LexicalIndex(synonyms=synonyms, signals=signals)
        self.lexical_weight = lexical_weight
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        dims = encoder.dimensions if encoder is not None else Encoder.dimensions
        self._titles = np.zeros((0, dims), dtype=np.float32)
        self._fulls = np.zeros((0, dims), dtype=np.float32)
        self._masks: dict[Filters, np.ndarray] = {}  # visible rows per filter, until the library changes
        self._sample: tuple[np.ndarray, np.ndarray] | None = None  # title, full vectors: _dense_two_stage
        self._reduced: tuple[np.ndarray, np.ndarray] | None = None  # the same
        self._lock = threading.RLock()
        self.add_many(documents)

    @property
    def encoder(self) -> Encoder:
        """The sentence encoder; a process whose lesson vectors are all cached and that answers no
        question (a nudges or dispatch worker) never loads it."""
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    @property
    def signals(self) -> RankSignals | None:
        return self.lexical.signals

    @signals.setter
    def signals(self, value: RankSignals | None) -> None:
        self.lexical.signals = value

    def __len__(self) -> int:
        return len(self.lexical)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.lexical

    def get(self, doc_id: str) -> Document | None:
        return self.lexical.get(doc_id)

    def add(self, doc: Document) -> None:
        """Add or replace one lesson (embedding it unless its text is already cached)."""
        self.add_many([doc])

    def add_many(self, documents: Iterable[Document]) -> None:
        """Add or replace lessons, embedding the uncached ones in batches."""
        docs = list(documents)
        if not docs:
            return
        titles, fulls = self._vectors(docs)
        with self._lock:
            self._masks.clear()
            self._sample = self._reduced = None
            self.lexical.add_many(docs)
            fresh: list[int] = []
            for i, doc in enumerate(docs):
                row = self._rows.get(doc.id)
                if row is not None:
                    self._titles[row], self._fulls[row] = titles[i], fulls[i]
                    continue
                self._rows[doc.id] = len(self._ids)
                self._ids.append(doc.id)
                fresh.append(i)
            if fresh and len(fresh) == len(self._ids) == len(docs):  # the first build: no copy
                self._titles, self._fulls = titles, fulls
            elif fresh:
                self._titles = np.concatenate([self._titles, titles[fresh]])
                self._fulls = np.concatenate([self._fulls, fulls[fresh]])

    def remove(self, doc_id: str) -> None:
        with self._lock:
            self._masks.clear()
            self._sample = self._reduced = None
            self.lexical.remove(doc_id)
            row = self._rows.pop(doc_id, None)
            if row is None:
                return
            last = len(self._ids) - 1
            if row != last:  # move the last row into the hole
                moved = self._ids[last]
                self._ids[row], self._rows[moved] = moved, row
                self._titles[row], self._fulls[row] = self._titles[last], self._fulls[last]
            self._ids.pop()
            self._titles, self._fulls = self._titles[:last], self._fulls[:last]

    def _vectors(self, docs: Sequence[Document]) -> tuple[np.ndarray, np.ndarray]:
        """Title and full-text vectors, one row per lesson, from the cache or freshly embedded (then
        cached). Read in chunks straight into the matrices, so a big library never sits in memory twice."""
        model = self._encoder.name if self._encoder is not None else model_name()
        dims = self._titles.shape[1]
        titles = np.zeros((len(docs), dims), dtype=np.float32)
        fulls = np.zeros((len(docs), dims), dtype=np.float32)
        missing: list[tuple[str, str, np.ndarray, int]] = []  # key, text, matrix, row
        for start in range(0, len(docs), CHUNK):
            chunk = docs[start : start + CHUNK]
            texts = [_texts(doc) for doc in chunk]
            keys = [(text_key("title", t, model), text_key("full", f, model)) for t, f in texts]
            found = self.cache.get_many([key for pair in keys for key in pair])
            for i, ((title_key, full_key), (title, full)) in enumerate(zip(keys, texts, strict=True)):
                for key, text, matrix in ((title_key, title, titles), (full_key, full, fulls)):
                    if key in found:
                        matrix[start + i] = np.frombuffer(found[key], dtype=np.float32)
                    else:
                        missing.append((key, text, matrix, start + i))
        if missing:
            log.info("embedding %d texts for the semantic tier (cached afterwards)", len(missing))
            self._embed_missing(missing)
            release_freed_memory()  # the texts and activations of a large first embedding
        return titles, fulls

    def _embed_missing(self, missing: list[tuple[str, str, np.ndarray, int]]) -> None:
        """Embed each distinct missing text once, chunk by chunk, straight into its rows, and cache it:
        a big first embedding never holds a second copy of the library's vectors."""
        places: dict[str, list[tuple[np.ndarray, int]]] = {}
        texts: dict[str, str] = {}
        for key, text, matrix, row in missing:
            places.setdefault(key, []).append((matrix, row))
            texts.setdefault(key, text)
        keys = list(texts)
        bar = None
        if len(keys) >= PROGRESS_MIN:
            from tqdm import tqdm

            bar = tqdm(total=len(keys), desc="embedding lessons (once)", unit="text", file=sys.stderr)
        try:
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                vectors = self.encoder.encode([texts[key] for key in chunk], progress=bar and bar.update)
                for key, vector in zip(chunk, vectors, strict=True):
                    for matrix, row in places[key]:
                        matrix[row] = vector
                made = zip(chunk, vectors, strict=True)
                self.cache.put_many({key: vector.tobytes() for key, vector in made})
        finally:
            if bar is not None:
                bar.close()

    def search(self, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
        """Top-k lessons by fused score, each with its calibrated confidence (see module doc)."""
        if k <= 0:
            return []
        ranking = self.rank(query, filters=filters, k=k)
        if not ranking.candidates:
            return []
        shown = ranking.candidates[:k]
        confidences = hybrid_confidence(ranking, limit=len(shown))  # only what is shown: a cost a question
        return [Hit(c.id, c.fused, p) for c, p in zip(shown, confidences, strict=True)]

    def rank(self, query: str, *, filters: Filters | None = None, k: int = 10) -> Ranking:
        """Both tiers' evidence for the best lessons, fused and ordered (no confidence yet)."""
        empty = Ranking([], None, None, [])
        if not query.strip():
            return empty
        text, encoder = self._with_synonyms(query), self.encoder
        pool = max(POOL, k)
        with self._lock:
            if not self._ids:
                return empty
            rows = self._visible_rows(filters)
            if rows is not None and rows.size == 0:
                return empty
            # The question is encoded and scored against the lesson vectors on a second thread while
            # the lexical tier searches (onnxruntime and numpy release the GIL): on 2 cores the shorter
            # of the two is hidden. The lock is held until both are done, so no lesson changes meanwhile.
            dense = _ENCODING.submit(self._dense, encoder, text, rows, pool)
            lexical = self.lexical.coverage_search(query, filters=filters, k=pool)
            vector, (cosine, mean, spread) = dense.result()
            for hit in lexical:
                if hit.id not in cosine:
                    row = self._rows[hit.id]
                    cosine[hit.id] = float(
                        lesson_cosine(self._titles[row] @ vector, self._fulls[row] @ vector)
                    )
        return self._fuse(query, cosine, mean, spread, lexical)

    def _dense(
        self, encoder: Encoder, text: str, rows: np.ndarray | None, pool: int
    ) -> tuple[np.ndarray, tuple[dict[str, float], float, float]]:
        """The question's vector, and the semantic tier's best lessons with the library's cosine mean
        and spread (run by `rank` on the encoding thread, under the caller's lock)."""
        vector = encoder.encode_query(text)
        if len(self._ids) <= LARGE:
            return vector, self._dense_exact(vector, rows, pool)
        return vector, self._dense_two_stage(vector, rows, pool)

    def _dense_exact(
        self, vector: np.ndarray, rows: np.ndarray | None, pool: int
    ) -> tuple[dict[str, float], float, float]:
        """Cosines of the best `pool` lessons, and the mean and spread over every visible lesson."""
        dense = lesson_cosine(self._titles @ vector, self._fulls @ vector)
        values = dense if rows is None else dense[rows]
        mean, spread = float(values.mean()), float(values.std())
        take = min(pool, len(values))
        best = np.argpartition(-values, take - 1)[:take]
        best = best if rows is None else rows[best]
        return {self._ids[r]: float(dense[r]) for r in best}, mean, max(spread, 1e-6)

    def _dense_two_stage(
        self, vector: np.ndarray, rows: np.ndarray | None, pool: int
    ) -> tuple[dict[str, float], float, float]:
        """Above `LARGE` lessons, reading every vector per question costs more than the rest of the
        search: the lessons' full-text vectors projected on their `REDUCED` main directions (a third of
        the bytes) pick `SHORTLIST` lessons, whose exact cosines are then taken, and the mean and spread
        come from a fixed sample of the whole library (whatever the filters). Both are kept until the
        library changes."""
        if self._reduced is None:
            self._reduced = _reduce(self._fulls)
        basis, projected = self._reduced
        approximate = projected @ (vector @ basis)
        values = approximate if rows is None else approximate[rows]
        take = min(SHORTLIST, len(values))
        best = np.argpartition(-values, take - 1)[:take]
        best = best if rows is None else rows[best]
        dense = lesson_cosine(self._titles[best] @ vector, self._fulls[best] @ vector)
        if self._sample is None:
            step = max(1, len(self._ids) // SAMPLE)
            titles, fulls = self._titles[::step], self._fulls[::step]
            self._sample = (np.ascontiguousarray(titles), np.ascontiguousarray(fulls))
        titles, fulls = self._sample
        sampled = lesson_cosine(titles @ vector, fulls @ vector)
        top = np.argsort(-dense)[:pool]
        cosine = {self._ids[best[i]]: float(dense[i]) for i in top}
        return cosine, float(sampled.mean()), max(float(sampled.std()), 1e-6)

    def _with_synonyms(self, query: str) -> str:
        """The question as the encoder reads it: abbreviations spelled out ("whats the out of office
        policy") and the synonym list's other wording of any other company word beside it ("how do i
        do a sitrep (status update)"), misspelt ones included ("my callendar (diary)")."""
        synonyms = self.lexical.synonyms
        if not synonyms:
            return query
        surface = self.lexical.spelled_words(query)
        replaced, extra = synonyms.expanded(surface, known=self.lexical.knows)
        text = " ".join(replaced) if replaced != surface else query
        return f"{text} ({'; '.join(extra)})" if extra else text

    def _visible_rows(self, filters: Filters | None) -> np.ndarray | None:
        """Rows these filters let through (None: all), cached per filter until the library changes."""
        visible = self.lexical.visible_ids(filters)
        if visible is None or filters is None:
            return None
        rows = self._masks.get(filters)
        if rows is None:
            rows = np.array(sorted(self._rows[i] for i in visible if i in self._rows), dtype=np.int64)
            if len(self._masks) >= 256:
                self._masks.clear()
            self._masks[filters] = rows
        return rows

    def _fuse(
        self,
        query: str,
        cosine: dict[str, float],
        mean: float,
        spread: float,
        lexical: list[Hit],
    ) -> Ranking:
        dense_top = max(cosine, key=lambda d: (cosine[d], d)) if cosine else None
        top_lexical = lexical[0].score if lexical else 1.0
        by_id = {hit.id: hit for hit in lexical}
        signals = self.signals.multipliers(query, list(cosine)) if self.signals is not None else {}
        z = {doc_id: (cos - mean) / spread for doc_id, cos in cosine.items()}
        ordered = sorted(z.values(), reverse=True)
        dense_gap = ordered[0] - ordered[1] if len(ordered) > 1 else 1.0
        full_cover = max((hit.confidence for hit in lexical), default=0.0)
        gate = self.lexical_weight * (1.0 + full_cover) / (1.0 + DENSE_GAP_DAMPING * dense_gap)
        candidates = []
        for doc_id, cos in cosine.items():
            hit = by_id.get(doc_id)
            relative = hit.score / top_lexical if hit else 0.0
            coverage = hit.confidence if hit else 0.0
            fused = z[doc_id] + gate * coverage * relative
            multiplier = signals.get(doc_id, 1.0)  # feedback: bounded (x0.3..x1.3), here in z units
            if multiplier > 0:
                fused += FEEDBACK_WEIGHT * float(np.log(multiplier))
            candidates.append(Candidate(doc_id, cos, z[doc_id], relative, coverage, float(fused)))
        candidates.sort(key=lambda c: (-c.fused, c.id))
        return Ranking(candidates, lexical[0].id if lexical else None, dense_top, lexical)


def _reduce(fulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The `REDUCED` main directions of a library's vectors (from an even sample of them) and every
    vector projected on them: dot products in that space rank lessons almost as the full ones do
    (on real questions every exact top-10 lesson was in a shortlist of 25 of 988)."""
    step = max(1, len(fulls) // SAMPLE)
    _, _, directions = np.linalg.svd(fulls[::step], full_matrices=False)
    basis = np.ascontiguousarray(directions[:REDUCED].T, dtype=np.float32)
    projected = np.empty((len(fulls), basis.shape[1]), dtype=np.float32)
    step = CHUNK * 10  # a bounded temporary, whatever the library's size
    for start in range(0, len(fulls), step):
        projected[start : start + step] = fulls[start : start + step] @ basis
    return basis, projected


class DenseView:
    """The semantic tier alone (cosine order, its own calibrated confidence), sharing a HybridIndex's
    vectors: what `learnbot eval` reports as "semantic" beside "lexical" and the hybrid."""

    def __init__(self, hybrid: HybridIndex) -> None:
        self.hybrid = hybrid
        self.signals: RankSignals | None = None

    def __len__(self) -> int:
        return len(self.hybrid)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.hybrid

    def get(self, doc_id: str) -> Document | None:
        return self.hybrid.get(doc_id)

    def add(self, doc: Document) -> None:
        self.hybrid.add(doc)

    def add_many(self, documents: Iterable[Document]) -> None:
        self.hybrid.add_many(documents)

    def remove(self, doc_id: str) -> None:
        self.hybrid.remove(doc_id)

    def search(self, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
        if k <= 0:
            return []
        ranking = by_cosine(self.hybrid.rank(query, filters=filters, k=k))
        shown = ranking.candidates[:k]
        confidences = dense_confidence(ranking, limit=len(shown))
        return [Hit(c.id, c.cosine, p) for c, p in zip(shown, confidences, strict=True)]


def by_cosine(ranking: Ranking) -> Ranking:
    """The same evidence ordered by cosine alone."""
    ordered = sorted(ranking.candidates, key=lambda c: (-c.cosine, c.id))
    return Ranking(ordered, ranking.lexical_top, ranking.dense_top, ranking.lexical_hits)
