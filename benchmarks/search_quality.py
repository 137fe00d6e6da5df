"""Search quality: learnbot (lexical, and semantic when installed) against plain BM25 (bm25s), same run.

Data: ../shared/eval/stackfaq (thread level and answer_level/, 625 paraphrased questions each; set
LEARNBOT_EVAL_DIR to move it) and the sample library's own questions (samples/eval/, with
unanswerable.jsonl for abstention). The baseline is bm25s with Lucene defaults, lowercase, English
stopwords, no stemming, over title + body, as in the data set's README. Semantic item vectors are
cached in .learnbot/embeddings.sqlite3 (as `learnbot eval` does), so only the first run pays for embedding.
Run: `python -m benchmarks.search_quality` (or `make bench`).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from content_index.evaluation import Query, evaluate, load_jsonl_corpus, load_queries, threshold_sweep
from content_index.search import DEFAULT_THRESHOLD, Document, Searchable

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = Path(os.environ.get("LEARNBOT_EVAL_DIR", ROOT.parent / "shared" / "eval"))
CACHE_DIR = ROOT / ".learnbot"
TARGET_LEXICAL_RATIO = 1.10
TARGET_SEMANTIC_MRR = 0.85


@dataclass(frozen=True)
class Row:
    """One method's figures on one data set."""

    data: str
    method: str
    r1: float
    r5: float
    mrr: float
    p50_ms: float


def bm25s_ranker(documents: Sequence[Document]) -> Callable[[str], list[str]]:
    """Plain BM25 over title + body: bm25s, Lucene defaults, lowercase, English stopwords, no stemming."""
    import bm25s

    retriever = bm25s.BM25(method="lucene")
    texts = [f"{doc.title} {doc.body}" for doc in documents]
    retriever.index(
        bm25s.tokenize(texts, lower=True, stopwords="en", show_progress=False), show_progress=False
    )
    ids = [doc.id for doc in documents]
    k = min(10, len(ids))

    def rank(question: str) -> list[str]:
        tokens = bm25s.tokenize([question], lower=True, stopwords="en", return_ids=False, show_progress=False)
        if not tokens[0]:
            return []
        found, scores = retriever.retrieve(tokens, k=k, show_progress=False)
        return [ids[i] for i, score in zip(found[0], scores[0], strict=True) if score > 0]

    return rank


def score_ranker(data: str, method: str, rank: Callable[[str], list[str]], queries: Sequence[Query]) -> Row:
    """Recall@1, Recall@5, MRR@10 and median latency of any ranking function."""
    ranks: list[int | None] = []
    timings = []
    for query in queries:
        if not query.relevant:
            continue
        start = time.perf_counter()
        ranked = rank(query.text)[:10]
        timings.append((time.perf_counter() - start) * 1000.0)
        relevant = set(query.relevant)
        ranks.append(next((i for i, doc_id in enumerate(ranked, start=1) if doc_id in relevant), None))
    n = len(ranks) or 1
    return Row(
        data,
        method,
        sum(1 for r in ranks if r == 1) / n,
        sum(1 for r in ranks if r is not None and r <= 5) / n,
        sum(1.0 / r for r in ranks if r is not None) / n,
        sorted(timings)[len(timings) // 2] if timings else 0.0,
    )


def learnbot_row(data: str, method: str, index: Searchable, queries: Sequence[Query]) -> Row:
    report = evaluate(index, [q for q in queries if q.relevant])
    return Row(data, method, report.recall_at_1, report.recall_at_5, report.mrr_at_10, report.p50_ms)


def tiers(documents: Sequence[Document]) -> dict[str, Searchable]:
    """learnbot's lexical index, and the semantic (hybrid) one when its extra is installed."""
    from content_index.library import evaluation_tiers

    return evaluation_tiers(documents, data_dir=CACHE_DIR, tier="both")


def sample_library() -> tuple[list[Document], list[Query], list[Query]]:
    """The sample library as the bot indexes it (through storage), its questions and unanswerables."""
    from bot.app import open_bot, prepare
    from bot.config import Settings
    from content_index.library import document_for
    from storage.content import active_content

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), config_path=ROOT / "app.yaml")
        prepare(settings)
        bot = open_bot(settings)
        with bot.session() as session:
            documents = [
                document_for(item, bot.pillar_names.get(item.pillar or ""))
                for item in active_content(session=session)
            ]
        bot.engine.dispose()
    eval_dir = ROOT / "samples" / "eval"
    return documents, load_queries(eval_dir / "queries.jsonl"), load_queries(eval_dir / "unanswerable.jsonl")


def ranking_table(rows: list[Row]) -> list[str]:
    lines = [
        "| data | method | R@1 | R@5 | MRR@10 | R@1 vs bm25s | MRR@10 vs bm25s | p50 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = {row.data: row for row in rows if row.method == "bm25s (baseline)"}
    for row in rows:
        ref = base[row.data]
        lines.append(
            f"| {row.data} | {row.method} | {row.r1:.3f} | {row.r5:.3f} | {row.mrr:.3f} | "
            f"{row.r1 - ref.r1:+.3f} | {row.mrr / ref.mrr:.2f}x | {row.p50_ms:.2f} |"
        )
    return lines


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def target_lines(rows: list[Row]) -> list[str]:
    """Each issue-3 target, met or not, with the figures behind it."""
    by = {(row.data, row.method): row for row in rows}
    lines = []
    for data in ("stackfaq thread", "stackfaq answer"):
        base, lexical = by[(data, "bm25s (baseline)")], by[(data, "learnbot lexical")]
        ratio = lexical.mrr / base.mrr
        lines.append(
            f"- {data}: lexical MRR@10 {lexical.mrr:.3f} = {ratio:.3f} x bm25s {base.mrr:.3f} "
            f"(target >= {TARGET_LEXICAL_RATIO:.2f}x): {_verdict(ratio >= TARGET_LEXICAL_RATIO)}"
        )
        lines.append(
            f"- {data}: lexical R@1 {lexical.r1:.3f} vs bm25s {base.r1:.3f} (target: above): "
            f"{_verdict(lexical.r1 > base.r1)}"
        )
    semantic = by.get(("stackfaq thread", "learnbot semantic"))
    if semantic is None:
        lines.append(
            "- stackfaq thread: semantic MRR@10 target not measured (extra 'semantic' not installed)"
        )
    else:
        met = "met" if semantic.mrr >= TARGET_SEMANTIC_MRR else "NOT met"
        lines.append(
            f"- stackfaq thread: semantic MRR@10 {semantic.mrr:.3f} (target >= {TARGET_SEMANTIC_MRR}): {met}"
        )
    return lines


def main() -> None:
    rows: list[Row] = []
    abstain_sets: list[tuple[str, dict[str, Searchable], list[Query], list[Query]]] = []
    sets = [
        ("stackfaq thread", EVAL_DIR / "stackfaq"),
        ("stackfaq answer", EVAL_DIR / "stackfaq" / "answer_level"),
    ]
    for name, folder in sets:
        if not (folder / "corpus.jsonl").exists():
            print(f"(skipping {name}: no data at {folder}; set LEARNBOT_EVAL_DIR)")
            continue
        documents, queries = (
            load_jsonl_corpus(folder / "corpus.jsonl"),
            load_queries(folder / "queries.jsonl"),
        )
        rows.append(score_ranker(name, "bm25s (baseline)", bm25s_ranker(documents), queries))
        indexes = tiers(documents)
        for tier, index in indexes.items():
            rows.append(learnbot_row(name, f"learnbot {tier}", index, queries))
        if name == "stackfaq thread":
            abstain_sets.append((name, indexes, queries, []))
    documents, questions, unanswerable = sample_library()
    rows.append(score_ranker("sample library", "bm25s (baseline)", bm25s_ranker(documents), questions))
    sample_tiers = tiers(documents)
    for tier, index in sample_tiers.items():
        rows.append(learnbot_row("sample library", f"learnbot {tier}", index, questions))
    abstain_sets.append(("sample library", sample_tiers, questions, unanswerable))
    print("### Ranking (Recall@1, Recall@5, MRR@10; ratios against bm25s in the same run)\n")
    print("\n".join(ranking_table(rows)))
    if any(row.data.startswith("stackfaq") for row in rows):
        print("\nTargets:")
        print("\n".join(target_lines(rows)))
    print(f"\n### Answer or abstain (threshold {DEFAULT_THRESHOLD})\n")
    print(
        "Answered: share of answerable questions answered; precision: of those, share whose answer is"
        " right;\nright lesson removed: the same questions with their lessons taken out, still answered"
        " (should be low);\nunanswerable: questions with no lesson in the library, answered anyway.\n"
    )
    print(
        "| data | method | answered | precision | right lesson removed: answered | unanswerable: answered |"
    )
    print("|---|---|---|---|---|---|")
    for data, indexes, queries, nothing in abstain_sets:
        for tier, index in indexes.items():
            [row] = threshold_sweep(index, queries, [DEFAULT_THRESHOLD])
            wrongly = (
                f"{evaluate(index, nothing).answer_rate:.3f} ({len(nothing)} questions)" if nothing else "-"
            )
            print(
                f"| {data} | learnbot {tier} | {row.answer_rate:.3f} | {row.answered_precision:.3f} | "
                f"{row.left_out_answer_rate:.3f} | {wrongly} |"
            )


if __name__ == "__main__":
    main()
