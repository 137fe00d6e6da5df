"""Measure search on labelled questions: recall, MRR, latency, and how often it answers and is right.

Data files are JSONL: a corpus of `{"id", "title", "body"}` items (optional `summary`, `tags`, `audience`,
`pillar`) and queries `{"id", "text", "relevant": [ids]}`. A query with an empty `relevant` list is one the
bot should abstain on: it counts for the answer metrics only, never for recall or MRR.

Run: python -m content_index.evaluation CORPUS.jsonl QUERIES.jsonl [--k 10] [--threshold T] [--json] [--sweep]
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from content_index.answering import ANSWER_THRESHOLD, classify, clean_question, search_depth, small_talk
from content_index.confidence import expected_calibration_error
from content_index.search import Document, Searchable, search


class DataFileError(ValueError):
    """A line of an evaluation file that cannot be used; the message names the file and line."""

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Query:
    """A labelled question: `relevant` holds the ids of lessons that answer it (empty = should abstain)."""

    id: str
    text: str
    relevant: tuple[str, ...]


@dataclass(frozen=True)
class EvalReport:
    """Quality and speed of one run; rates are 0..1, times in milliseconds per query."""

    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    p50_ms: float
    p95_ms: float
    queries: int
    docs: int
    answer_rate: float
    answered_precision: float
    threshold: float
    not_sure_rate: float = 0.0  # share of questions answered "Not sure - is it one of these?"
    not_sure_precision: float = 0.0  # of those, share whose choices hold a right lesson
    abstain_rate: float = 0.0  # share answered "no lesson yet" (or taken for small talk)
    abstain_precision: float = 0.0  # of those, share where the top lesson was not right anyway
    ece: float = 0.0  # expected calibration error of the top lesson's confidence (10 bins)
    answered_right_rate: float = 0.0  # answerable questions answered outright with a right lesson
    found_rate: float = 0.0  # answerable questions answered right, or offered a choice holding it
    unanswerable_answer_rate: float = 0.0  # questions with no lesson that were answered anyway

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict with the documented keys, for JSON output and comparisons."""
        return asdict(self)

    @staticmethod
    def labels() -> dict[str, str]:
        """What each metric is called in a table for people."""
        return {
            "recall_at_1": "Recall@1",
            "recall_at_5": "Recall@5",
            "mrr_at_10": "MRR@10",
            "p50_ms": "p50 ms/query",
            "p95_ms": "p95 ms/query",
            "queries": "queries",
            "docs": "documents",
            "answer_rate": "answer rate",
            "answered_precision": "answered precision",
            "threshold": "confidence threshold",
            "not_sure_rate": "not-sure rate",
            "not_sure_precision": "not-sure precision",
            "abstain_rate": "abstain rate",
            "abstain_precision": "abstain precision",
            "ece": "calibration error (ECE)",
            "answered_right_rate": "answered right (answerable)",
            "found_rate": "answered or offered (answerable)",
            "unanswerable_answer_rate": "no-lesson questions answered",
        }

    def format_table(self) -> str:
        """Two aligned columns, one metric a line, for people reading a terminal."""
        labels = self.labels()
        width = max(len(label) for label in labels.values())
        lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
        for key, value in self.as_dict().items():
            shown = str(value) if isinstance(value, int) else f"{value:.3f}"
            lines.append(f"{labels[key]:<{width}}  {shown}")
        return "\n".join(lines)


def _read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; bad JSON raises DataFileError."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFileError(path, number, f"not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise DataFileError(path, number, "expected a JSON object")
            yield number, record


def _text(record: dict[str, Any], key: str, path: str | Path, line: int, *, required: bool = True) -> str:
    """A string field of a record; missing (when required) or non-text values name the line."""
    if key not in record:
        if required:
            raise DataFileError(path, line, f"missing key '{key}'")
        return ""
    value = record[key]
    if not isinstance(value, str):
        raise DataFileError(path, line, f"'{key}' must be a string, got {type(value).__name__}")
    return value


def _strings(record: dict[str, Any], key: str, path: str | Path, line: int) -> tuple[str, ...]:
    """A list-of-strings field (a single string is accepted as one item); absent means empty."""
    value = record.get(key, [])
    if isinstance(value, str):
        return (value,) if value else ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DataFileError(path, line, f"'{key}' must be a list of strings")
    return tuple(value)


def load_jsonl_corpus(path: str | Path) -> list[Document]:
    """Read documents from JSONL; `id`, `title`, `body` are required, the other Document fields optional."""
    documents = []
    for line, record in _read_jsonl(path):
        pillar = record.get("pillar")
        if pillar is not None and not isinstance(pillar, str):
            raise DataFileError(path, line, "'pillar' must be a string")
        documents.append(
            Document(
                id=_text(record, "id", path, line),
                title=_text(record, "title", path, line),
                body=_text(record, "body", path, line),
                summary=_text(record, "summary", path, line, required=False),
                tags=_strings(record, "tags", path, line),
                audience=_strings(record, "audience", path, line),
                pillar=pillar,
            )
        )
    return documents


def load_queries(path: str | Path) -> list[Query]:
    """Read labelled questions from JSONL; `id`, `text` and `relevant` (list of ids) are required."""
    queries = []
    for line, record in _read_jsonl(path):
        if "relevant" not in record:
            raise DataFileError(path, line, "missing key 'relevant'")
        queries.append(
            Query(
                id=_text(record, "id", path, line),
                text=_text(record, "text", path, line),
                relevant=_strings(record, "relevant", path, line),
            )
        )
    return queries


def evaluate(
    index: Searchable, queries: Sequence[Query], *, k: int = 10, threshold: float = ANSWER_THRESHOLD
) -> EvalReport:
    """Run every query as chat does (cleaned, small talk set aside, timed search including encoding),
    score rankings, and score the answer / not-sure / abstain decision (content_index.answering)."""
    ranks: list[int | None] = []  # rank of the first relevant hit, for answerable queries
    timings: list[float] = []
    bands: dict[str, list[bool]] = {"answer": [], "not_sure": [], "abstain": []}
    confidences: list[float] = []
    tops_right: list[bool] = []
    answered_right = found = unanswerable = unanswerable_answered = 0
    for query in queries:
        question = clean_question(query.text)
        start = time.perf_counter()
        talk = small_talk(question) if question else ""
        hits = search(index, question, k=max(k, search_depth())) if talk is None else []
        timings.append((time.perf_counter() - start) * 1000.0)
        relevant = set(query.relevant)
        if relevant:
            ranks.append(next((i for i, hit in enumerate(hits[:k], start=1) if hit.id in relevant), None))
        decision = classify(question, hits, threshold=threshold)
        top_right = bool(hits) and hits[0].id in relevant
        confidences.append(hits[0].confidence if hits else 0.0)
        tops_right.append(top_right)
        if decision.kind == "answer":
            bands["answer"].append(top_right)
        elif decision.kind == "not_sure":
            bands["not_sure"].append(any(hit.id in relevant for hit in decision.hits))
        else:
            bands["abstain"].append(not top_right)
        if relevant:
            answered_right += decision.kind == "answer" and top_right
            found += (decision.kind == "answer" and top_right) or (
                decision.kind == "not_sure" and any(hit.id in relevant for hit in decision.hits)
            )
        else:
            unanswerable += 1
            unanswerable_answered += decision.kind == "answer"
    n = len(queries)
    answerable = len(ranks)
    return EvalReport(
        recall_at_1=_share(ranks, lambda rank: rank <= 1),
        recall_at_5=_share(ranks, lambda rank: rank <= 5),
        mrr_at_10=sum(1.0 / r for r in ranks if r is not None and r <= 10) / len(ranks) if ranks else 0.0,
        p50_ms=_percentile(timings, 50),
        p95_ms=_percentile(timings, 95),
        queries=n,
        docs=len(index),
        answer_rate=len(bands["answer"]) / n if n else 0.0,
        answered_precision=_mean(bands["answer"]),
        threshold=threshold,
        not_sure_rate=len(bands["not_sure"]) / n if n else 0.0,
        not_sure_precision=_mean(bands["not_sure"]),
        abstain_rate=len(bands["abstain"]) / n if n else 0.0,
        abstain_precision=_mean(bands["abstain"]),
        ece=expected_calibration_error(confidences, tops_right),
        answered_right_rate=answered_right / answerable if answerable else 0.0,
        found_rate=found / answerable if answerable else 0.0,
        unanswerable_answer_rate=unanswerable_answered / unanswerable if unanswerable else 0.0,
    )


def _mean(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass(frozen=True)
class ThresholdRow:
    """Answer behaviour at one confidence threshold (see `threshold_sweep`)."""

    threshold: float
    answer_rate: float  # answerable queries whose top hit is confident enough
    answered_precision: float  # of those, share whose top hit is relevant
    left_out_answer_rate: float  # same queries with their relevant lessons removed: should be ~0
    net: float  # right answers - wrong answers - left-out answers, per answerable query


def threshold_sweep(
    index: Searchable, queries: Sequence[Query], thresholds: Sequence[float], *, k: int = 10
) -> list[ThresholdRow]:
    """Answer rate and precision per threshold, plus a 'lesson missing' check: each answerable query
    runs again with its relevant lessons removed (then put back), where the right move is to abstain."""
    answerable = [q for q in queries if q.relevant]
    present: list[tuple[float, bool]] = []
    missing: list[float] = []
    for query in answerable:
        hits = search(index, query.text, k=k)
        present.append((hits[0].confidence, hits[0].id in query.relevant) if hits else (0.0, False))
        missing.append(_top_confidence_without(index, query, k))
    rows = []
    for threshold in thresholds:
        answered = [right for confidence, right in present if confidence >= threshold]
        right = sum(answered)
        left_out = sum(confidence >= threshold for confidence in missing)
        n = len(answerable) or 1
        rows.append(
            ThresholdRow(
                threshold=threshold,
                answer_rate=len(answered) / n,
                answered_precision=right / len(answered) if answered else 0.0,
                left_out_answer_rate=left_out / n,
                net=(right - (len(answered) - right) - left_out) / n,
            )
        )
    return rows


def _top_confidence_without(index: Searchable, query: Query, k: int) -> float:
    """Top-hit confidence for `query` while its relevant lessons are out of the index; restores them."""
    removed = [doc for doc in (index.get(doc_id) for doc_id in query.relevant) if doc is not None]
    try:
        for doc in removed:
            index.remove(doc.id)
        hits = search(index, query.text, k=k)
        return hits[0].confidence if hits else 0.0
    finally:
        for doc in removed:
            index.add(doc)


def format_sweep(rows: Sequence[ThresholdRow]) -> str:
    """The sweep as a table, one threshold a line."""
    lines = ["threshold  answer_rate  precision  left_out_answered  net"]
    for row in rows:
        lines.append(
            f"{row.threshold:9.2f}  {row.answer_rate:11.3f}  {row.answered_precision:9.3f}  "
            f"{row.left_out_answer_rate:17.3f}  {row.net:6.3f}"
        )
    return "\n".join(lines)


def _share(ranks: list[int | None], hit: Any) -> float:
    """Share of ranks (None = not found) that satisfy `hit`."""
    return sum(1 for r in ranks if r is not None and hit(r)) / len(ranks) if ranks else 0.0


def _percentile(values: list[float], percent: float) -> float:
    """Linear-interpolated percentile (numpy's default method); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * percent / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
