"""The evaluation numbers people will quote: exact on a hand-checked corpus, clear on bad data files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from content_index.evaluation import (
    DataFileError,
    EvalReport,
    Query,
    evaluate,
    format_sweep,
    load_jsonl_corpus,
    load_queries,
    threshold_sweep,
)
from content_index.search import Document, Hit, SearchIndex, search

CORPUS = [
    {"id": "d1", "title": "Pivot tables in Google Sheets", "body": "Summarise rows by category."},
    {"id": "d2", "title": "Pivot charts in Google Sheets", "body": "Turn a pivot table into a chart."},
    {"id": "d3", "title": "Charts in Excel", "body": "Insert a chart from a range.", "tags": ["excel"]},
    {"id": "d4", "title": "Write meeting notes people read", "body": "", "summary": "Decisions first."},
]
QUERIES = [
    # d1 matches every word of the title, d2 all but "tables" in its title: relevant d2 is at rank 2.
    {"id": "q1", "text": "pivot tables in google sheets", "relevant": ["d2"]},
    # Only d3 has "excel" and "charts" in its title: rank 1.
    {"id": "q2", "text": "excel charts", "relevant": ["d3"]},
    # No document shares a word with it: no hits, a miss.
    {"id": "q3", "text": "sourdough starter", "relevant": ["d1"]},
    # Should abstain: stopwords only, so no hits.
    {"id": "q4", "text": "how do I please", "relevant": []},
    # Should abstain, but d4 covers "meeting notes" in its title: a confident wrong answer.
    {"id": "q5", "text": "meeting notes template", "relevant": []},
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    return write_jsonl(tmp_path / "corpus.jsonl", CORPUS), write_jsonl(tmp_path / "queries.jsonl", QUERIES)


def test_loaders_read_documents_and_queries(data: tuple[Path, Path]) -> None:
    corpus_path, queries_path = data
    documents = load_jsonl_corpus(corpus_path)
    queries = load_queries(queries_path)
    assert [d.id for d in documents] == ["d1", "d2", "d3", "d4"]
    assert documents[2].tags == ("excel",)
    assert documents[3].summary == "Decisions first."
    assert queries[0] == Query("q1", "pivot tables in google sheets", ("d2",))
    assert queries[3].relevant == ()


def test_fixture_ranks_are_as_the_comments_say(data: tuple[Path, Path]) -> None:
    index = SearchIndex(load_jsonl_corpus(data[0]))
    assert [h.id for h in search(index, "pivot tables in google sheets")][:2] == ["d1", "d2"]
    assert search(index, "excel charts")[0].id == "d3"
    assert search(index, "sourdough starter") == []
    assert search(index, "how do I please") == []
    assert search(index, "meeting notes template")[0].id == "d4"


def test_evaluate_gives_exact_recall_mrr_and_answer_metrics(data: tuple[Path, Path]) -> None:
    index = SearchIndex(load_jsonl_corpus(data[0]))
    report = evaluate(index, load_queries(data[1]), threshold=0.45)
    # Answerable q1..q3 have first relevant ranks 2, 1, none:
    # R@1 = 1/3, R@5 = 2/3, MRR@10 = (1/2 + 1/1 + 0) / 3 = 0.5.
    assert report.recall_at_1 == pytest.approx(1 / 3)
    assert report.recall_at_5 == pytest.approx(2 / 3)
    assert report.mrr_at_10 == pytest.approx(0.5)
    # Confident top hits: q1 (d1, wrong), q2 (d3, right), q5 (d4, should have abstained): 3 of 5 answered,
    # 1 of those 3 right.
    assert report.answer_rate == pytest.approx(3 / 5)
    assert report.answered_precision == pytest.approx(1 / 3)
    assert (report.queries, report.docs, report.threshold) == (5, 4, 0.45)
    assert 0.0 <= report.p50_ms <= report.p95_ms


class ScriptedIndex(SearchIndex):
    """Returns fixed rankings, to check metric arithmetic at ranks beyond 5 and 10."""

    def __init__(self, rankings: dict[str, list[str]]) -> None:
        super().__init__()
        self.rankings = rankings

    def __len__(self) -> int:
        return 20

    def search(self, query: str, *, filters: object = None, k: int = 10) -> list[Hit]:
        return [Hit(doc_id, 1.0, 0.9) for doc_id in self.rankings[query][:k]]


def test_mrr_counts_ranks_up_to_10_only() -> None:
    ranking = [f"x{i}" for i in range(1, 21)]
    index = ScriptedIndex({"a": ranking, "b": ranking})
    queries = [Query("qa", "a", ("x7",)), Query("qb", "b", ("x11",))]
    report = evaluate(index, queries, k=20)
    # x7 at rank 7: not in the top 5, adds 1/7; x11 at rank 11: beyond MRR@10, adds 0.
    assert report.recall_at_5 == 0.0
    assert report.mrr_at_10 == pytest.approx((1 / 7 + 0) / 2)
    assert report.answer_rate == 1.0
    assert report.answered_precision == 0.0


def test_report_dict_has_exactly_the_documented_keys_and_a_table(data: tuple[Path, Path]) -> None:
    report = evaluate(SearchIndex(load_jsonl_corpus(data[0])), load_queries(data[1]))
    assert list(report.as_dict()) == [
        "recall_at_1",
        "recall_at_5",
        "mrr_at_10",
        "p50_ms",
        "p95_ms",
        "queries",
        "docs",
        "answer_rate",
        "answered_precision",
        "threshold",
        "not_sure_rate",
        "not_sure_precision",
        "abstain_rate",
        "abstain_precision",
        "ece",
        "answered_right_rate",
        "found_rate",
        "unanswerable_answer_rate",
    ]
    table = report.format_table()
    assert "Recall@1" in table and "MRR@10" in table and "answered precision" in table


def test_empty_query_list_gives_zeros() -> None:
    report = evaluate(SearchIndex(), [])
    assert report == EvalReport(0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0, report.threshold)


def test_bad_json_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"id": "a", "title": "A", "body": ""}\n{"id": "b", "title": \n', encoding="utf-8")
    with pytest.raises(DataFileError) as error:
        load_jsonl_corpus(path)
    assert f"{path}:2:" in str(error.value)
    assert error.value.line == 2


def test_missing_key_is_named_with_its_line(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [CORPUS[0], CORPUS[1], {"id": "d9", "body": "no title"}])
    with pytest.raises(DataFileError, match=r"corpus\.jsonl:3: missing key 'title'"):
        load_jsonl_corpus(corpus)
    queries = write_jsonl(tmp_path / "queries.jsonl", [{"id": "q1", "text": "hello"}])
    with pytest.raises(DataFileError, match=r"queries\.jsonl:1: missing key 'relevant'"):
        load_queries(queries)


def test_wrong_types_are_named(tmp_path: Path) -> None:
    queries = write_jsonl(tmp_path / "queries.jsonl", [{"id": "q1", "text": "x", "relevant": "d1"}, [1, 2]])
    with pytest.raises(DataFileError, match=r"queries\.jsonl:2: expected a JSON object"):
        load_queries(queries)


def test_threshold_sweep_checks_abstention_and_restores_the_index(data: tuple[Path, Path]) -> None:
    index = SearchIndex(load_jsonl_corpus(data[0]))
    queries = load_queries(data[1])
    before = search(index, "excel charts")
    rows = threshold_sweep(index, queries, [0.0, 0.45, 1.01])
    # With a threshold of 0 every answerable query is answered, even with its lesson removed, except
    # q3 "sourdough starter", which never has a hit... but 0 >= 0 still counts it as answered.
    assert rows[0].answer_rate == 1.0
    # At 0.45: q1 (d1, wrong) and q2 (d3, right) are answered; with d3 removed "excel charts" only
    # reaches d2 through "charts" in its body, so confidence drops below the threshold.
    assert rows[1].answer_rate == pytest.approx(2 / 3)
    assert rows[1].answered_precision == pytest.approx(1 / 2)
    assert rows[2].answer_rate == 0.0
    assert len(index) == 4 and search(index, "excel charts") == before
    assert "left_out_answered" in format_sweep(rows)


def test_command_line_prints_a_table_sweep_and_names_bad_files(
    data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--corpus", str(data[0]), "--queries", str(data[1]), "--sweep"]) == 0
    out = capsys.readouterr().out
    assert "Recall@1" in out and "left_out_answered" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    assert main(["eval", "--corpus", str(bad), "--queries", str(data[1])]) == 2
    assert f"{bad}:1:" in capsys.readouterr().err


def test_documents_round_trip_into_search(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "c.jsonl",
        [{"id": "m", "title": "Coaching", "body": "", "audience": ["manager"], "pillar": "Leadership"}],
    )
    (doc,) = load_jsonl_corpus(path)
    assert doc == Document(id="m", title="Coaching", audience=("manager",), pillar="Leadership")
