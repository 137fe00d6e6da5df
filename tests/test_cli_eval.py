"""`learnbot eval` on a tiny labelled set whose ranks are known, and on the indexed sample library."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import prepare
from bot.cli import main
from bot.config import Settings

CORPUS = [
    {
        "id": "pivots",
        "title": "Summarise sales with Excel pivot tables",
        "body": "Insert a PivotTable, drag region to rows.",
    },
    {
        "id": "calendar",
        "title": "Share your Outlook calendar",
        "body": "Open Outlook, choose Share calendar, pick people.",
    },
    {
        "id": "expenses",
        "title": "Submit an expense claim",
        "body": "Photograph receipts and submit them in the portal.",
    },
]
QUERIES = [
    {"id": "q1", "text": "excel pivot tables", "relevant": ["pivots"]},  # rank 1
    {"id": "q2", "text": "share my outlook calendar", "relevant": ["calendar"]},  # rank 1
    {
        "id": "q3",
        "text": "pivot tables calendar",
        "relevant": ["calendar"],
    },  # rank 2: pivots matches two words
    {"id": "q4", "text": "zebra giraffe", "relevant": ["expenses"]},  # not found
    {"id": "q5", "text": "guest wifi password", "relevant": []},  # should abstain; not in recall or MRR
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_eval_json_reports_recall_mrr_latency_and_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    args = ["eval", "--corpus", str(corpus), "--queries", str(queries), "--json", "--tier", "lexical"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["answers_with"] == "lexical" and list(report["tiers"]) == ["lexical"]
    assert report["recall_at_1"] == pytest.approx(2 / 4)
    assert report["recall_at_5"] == pytest.approx(3 / 4)
    assert report["mrr_at_10"] == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert (report["queries"], report["docs"]) == (5, 3)
    assert 0 <= report["p50_ms"] <= report["p95_ms"]


def test_eval_table_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    main(["eval", "--corpus", str(corpus), "--queries", str(queries)])
    table = capsys.readouterr().out
    assert "Recall@1" in table and "MRR@10" in table and "p95 ms/query" in table


def test_a_bad_line_names_the_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps(QUERIES[0]) + "\n{not json\n")
    assert main(["eval", "--corpus", str(corpus), "--queries", str(queries)]) == 2
    assert f"{queries}:2:" in capsys.readouterr().err


def test_eval_without_corpus_scores_the_indexed_library(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    prepare(settings)
    queries = Path(__file__).parent.parent / "samples" / "eval" / "queries.jsonl"
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir)]
    assert main([*args, "eval", "--queries", str(queries), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["docs"] >= 40
    assert report["recall_at_5"] > 0.8
