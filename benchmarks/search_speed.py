"""Search speed and size on generated libraries of 1k, 10k and 100k lessons (lexical tier).

Lessons have realistic lengths (title 4-10 words, summary 15-35, body 150-400, 2-4 tags) drawn from
a Zipf-distributed vocabulary of 30,000 made-up words plus English function words, so postings and
stemming behave like real text. Questions are 2-5 words from one lesson, half phrased "how do I ...",
one in five with a typo, half asked with an audience filter. Each size runs in a fresh process, so its
peak memory is its own ('peak MB' includes the generated lessons; 'index MB' is what the index added).
Targets (issue 3, this 2-core machine): p95 <= 20 ms at 10k and <= 100 ms at 100k, build <= 60 s at 100k.

`--tier hybrid` measures what the bot answers with when the semantic tier is installed: every question is
encoded by the real model (all-MiniLM-L6-v2 int8, onnxruntime) and scored against every lesson's two
vectors, fused with the lexical ranking, with confidence. The lessons' vectors are seeded random unit
vectors instead of real embeddings (embedding 100k generated lessons would take about an hour and the
cost of a search does not depend on the vectors' values); 'peak MB' then includes the loaded model.
Targets (issue 10): p95 <= 15 ms at 1k and <= 25 ms at 100k including encoding; peak <= 300 MB at 10k.
Run: `python -m benchmarks.search_speed [--sizes 1000,10000,100000] [--tier lexical|hybrid]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path

import numpy as np

from content_index.search import STOPWORDS, Document, Filters, Searchable, SearchIndex, search

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000, 100_000)
TARGET_P95_MS = {10_000: 20.0, 100_000: 100.0}
TARGET_BUILD_S = {100_000: 60.0}
HYBRID_P95_MS = {1_000: 15.0, 100_000: 25.0}
HYBRID_PEAK_MB = {10_000: 300.0}
QUERIES = 400
SYLLABLES = tuple(c + v for c in "kmnrstvdfgljpwyz" for v in "aeiou")
FUNCTION_WORDS = sorted(w for w in STOPWORDS if w.isalpha() and len(w) <= 5)[:60]
ROLES = ("everyone", "everyone", "everyone", "manager", "engineer", "sales")


class TextMaker:
    """Deterministic Zipf text: content words by rank weight, with function words in between."""

    def __init__(self, seed: int = 7, vocabulary: int = 30_000) -> None:
        self.rng = random.Random(seed)
        words: set[str] = set()
        while len(words) < vocabulary:
            words.add("".join(self.rng.choices(SYLLABLES, k=self.rng.randint(2, 4))))
        self.words = sorted(words)
        self.rng.shuffle(self.words)
        self.cumulative = list(accumulate(1.0 / (rank + 1) ** 1.07 for rank in range(vocabulary)))

    def content(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def sentence(self, count: int) -> str:
        """About `count` words, roughly two content words to one function word."""
        out = []
        for word in self.content(count):
            out.append(word)
            if self.rng.random() < 0.5:
                out.append(self.rng.choice(FUNCTION_WORDS))
        return " ".join(out[:count])

    def lesson(self, n: int) -> Document:
        rng = self.rng
        return Document(
            id=f"lesson-{n:06d}",
            title=self.sentence(rng.randint(4, 10)).capitalize(),
            summary=self.sentence(rng.randint(15, 35)),
            body=self.sentence(rng.randint(150, 400)),
            tags=tuple(self.content(rng.randint(2, 4))),
            audience=(rng.choice(ROLES),),
        )

    def question(self, doc: Document) -> str:
        rng = self.rng
        pool = [w for w in f"{doc.title} {doc.summary}".lower().split() if w not in STOPWORDS]
        picked = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
        if picked and rng.random() < 0.2:  # a typo: two letters swapped
            word = picked[0]
            i = rng.randrange(len(word) - 1) if len(word) > 1 else 0
            picked[0] = word[:i] + word[i + 1 : i + 2] + word[i : i + 1] + word[i + 2 :]
        text = " ".join(picked)
        return f"how do I {text}?" if rng.random() < 0.5 else text


def _rss_mb() -> float:
    """Resident memory of this process now, from /proc (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def _reset_peak() -> None:
    """Start the peak-memory count afresh: a child of a big process (make bench with the semantic model
    loaded) otherwise inherits its parent's high-water mark across fork and exec."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    """Peak resident memory since `_reset_peak` (VmHWM), else since the process started."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * percent / 100.0))]


class RandomPassages:
    """The real encoder for questions; seeded random unit vectors for lessons (see module doc)."""

    def __init__(self) -> None:
        from content_index.encoder import shared_encoder

        self.real = shared_encoder()
        self.name = "random-passages"
        self.dimensions = self.real.dimensions
        self.rng = np.random.default_rng(11)

    def encode(self, texts: Sequence[str], **_: object) -> np.ndarray:
        vectors = self.rng.standard_normal((len(texts), self.dimensions)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_query(self, text: str) -> np.ndarray:
        return self.real.encode_query(text)


def measure(size: int, tier: str = "lexical") -> dict[str, float]:
    """Build an index of `size` generated lessons and time questions against it."""
    _reset_peak()
    if tier == "hybrid":
        encoder = RandomPassages()  # the model loads before the count starts: it is in 'peak MB'
        encoder.encode_query("warm up")
    maker = TextMaker()
    docs = [maker.lesson(n) for n in range(size)]
    questions = [maker.question(maker.rng.choice(docs)) for _ in range(QUERIES)]
    extra = [maker.lesson(size + n) for n in range(100)]
    before = _rss_mb()
    start = time.perf_counter()
    if tier == "hybrid":
        from content_index.semantic import EmbeddingCache, HybridIndex

        index: Searchable = HybridIndex(docs, encoder=encoder, cache=EmbeddingCache(None))  # type: ignore[arg-type]
    else:
        index = SearchIndex(docs)
    build = time.perf_counter() - start
    built = _rss_mb()
    timings = []
    for n, question in enumerate(questions):
        filters = Filters(audience="engineer") if n % 2 else None
        start = time.perf_counter()
        search(index, question, filters=filters, k=3)
        timings.append((time.perf_counter() - start) * 1000.0)
    start = time.perf_counter()
    for doc in extra:
        index.add(doc)
    search(index, questions[0])  # caches dropped by the adds are rebuilt lazily: count that too
    add_ms = (time.perf_counter() - start) * 1000.0 / len(extra)
    return {
        "items": size,
        "build_s": build,
        "index_mb": built - before,
        "peak_mb": _peak_mb(),
        "p50_ms": _percentile(timings, 50),
        "p95_ms": _percentile(timings, 95),
        "add_ms": add_ms,
    }


def encoding_on_real_questions() -> tuple[float, float]:
    """Milliseconds to encode each everyday question once (after one warm-up), p50 and p95."""
    from content_index.encoder import shared_encoder
    from content_index.evaluation import load_queries

    encoder = shared_encoder()
    questions = [q.text for q in load_queries(ROOT / "samples" / "eval" / "everyday.jsonl")]
    encoder.encode_query(questions[0])
    timings = []
    for question in questions:
        start = time.perf_counter()
        encoder.encode_query(question)
        timings.append((time.perf_counter() - start) * 1000.0)
    return _percentile(timings, 50), _percentile(timings, 95)


def run_size(size: int, tier: str = "lexical") -> dict[str, float]:
    """One size in a fresh process, so peak memory is its own (the
    peak includes the generated lessons themselves; 'index MB' is what building the index added)."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.search_speed", "--one", str(size), "--tier", tier],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated library sizes")
    parser.add_argument("--tier", choices=("lexical", "hybrid"), default="lexical")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.tier)))
        return
    rows = [run_size(int(size), args.tier) for size in args.sizes.split(",")]
    print(f"{args.tier} tier\n")
    print("| items | build s | index MB | peak MB | p50 ms | p95 ms | add one item ms | x items | x p95 |")
    print("|---|---|---|---|---|---|---|---|---|")
    first = rows[0]
    for row in rows:
        figures = [
            f"{int(row['items']):,}",
            f"{row['build_s']:.2f}",
            f"{row['index_mb']:.0f}",
            f"{row['peak_mb']:.0f}",
            f"{row['p50_ms']:.2f}",
            f"{row['p95_ms']:.2f}",
            f"{row['add_ms']:.2f}",
            f"{row['items'] / first['items']:.0f}",
            f"{row['p95_ms'] / first['p95_ms']:.1f}",
        ]
        print("| " + " | ".join(figures) + " |")
    if args.tier == "hybrid":
        p50, p95 = encoding_on_real_questions()
        print(
            f"\nEncoding alone, the 70 everyday questions (samples/eval/everyday.jsonl): p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms"
        )
    print("\nTargets:")
    if args.tier == "hybrid":
        for row in rows:
            size = int(row["items"])
            if size in HYBRID_P95_MS:
                met = "met" if row["p95_ms"] <= HYBRID_P95_MS[size] else "NOT met"
                target = HYBRID_P95_MS[size]
                print(
                    f"- hybrid p95 at {size:,}, encoding included: {row['p95_ms']:.1f} ms "
                    f"(target <= {target:.0f}): {met}"
                )
            if size in HYBRID_PEAK_MB:
                met = "met" if row["peak_mb"] <= HYBRID_PEAK_MB[size] else "NOT met"
                target = HYBRID_PEAK_MB[size]
                print(
                    f"- peak memory with the model at {size:,}: {row['peak_mb']:.0f} MB "
                    f"(target <= {target:.0f}): {met}"
                )
        return
    for row in rows:
        size = int(row["items"])
        if size in TARGET_P95_MS:
            met = "met" if row["p95_ms"] <= TARGET_P95_MS[size] else "NOT met"
            print(
                f"- p95 at {size:,}: {row['p95_ms']:.1f} ms (target <= {TARGET_P95_MS[size]:.0f} ms): {met}"
            )
        if size in TARGET_BUILD_S:
            met = "met" if row["build_s"] <= TARGET_BUILD_S[size] else "NOT met"
            print(
                f"- build at {size:,}: {row['build_s']:.1f} s (target <= {TARGET_BUILD_S[size]:.0f} s): {met}"
            )


if __name__ == "__main__":
    main()
