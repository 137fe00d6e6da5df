"""The optional semantic tier: paraphrases with no shared words still find the lesson; nothing re-embedded.

Skipped, with the reason, where the `semantic` extra is not installed (CI installs only `dev`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from content_index.semantic import unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

from bot.adapters.console import ConsoleChat  # noqa: E402 - only importable with the extra
from bot.app import open_bot, prepare  # noqa: E402
from bot.cli import main  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.router import Router  # noqa: E402
from content_index.answering import decide  # noqa: E402
from content_index.search import Document, Filters, SearchIndex, search  # noqa: E402
from content_index.semantic import DenseView, EmbeddingCache, Encoder, HybridIndex  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.test_search import LESSONS  # noqa: E402

PARAPHRASE = "my posts should show words with a line drawn through them"
STRIKE = Document(
    id="strikethrough",
    title="Strikethrough in Markdown",
    body="Wrap the text in two tildes on each side.",
)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder()


def cached_vectors(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM embedding").fetchone()[0]


def test_a_paraphrase_without_shared_words_finds_the_lesson(encoder: Encoder) -> None:
    lessons = [*LESSONS, STRIKE]
    assert "strikethrough" not in [hit.id for hit in search(SearchIndex(lessons), PARAPHRASE)]
    hits = search(HybridIndex(lessons, encoder=encoder), PARAPHRASE)
    assert hits[0].id == "strikethrough"


def test_exact_names_still_win_and_nonsense_is_not_answered(encoder: Encoder) -> None:
    index = HybridIndex(LESSONS, encoder=encoder)
    assert search(index, "c++ tips")[0].id == "modern-cpp"
    assert search(index, "pivto table")[0].id == "pivot-tables"
    nonsense = search(index, "qwxz blorptastic zzyzx")
    assert not nonsense or nonsense[0].confidence < 0.45


def test_audience_filter_hides_lessons_for_other_roles(encoder: Encoder) -> None:
    index = HybridIndex(LESSONS, encoder=encoder)
    question = "how should I prepare a 1:1 with my direct report?"
    as_engineer = search(index, question, filters=Filters(audience="engineer"))
    assert "great-one-on-ones" not in [hit.id for hit in as_engineer]
    assert search(index, question, filters=Filters(audience="manager"))[0].id == "great-one-on-ones"


def test_lessons_are_embedded_once_and_again_only_when_they_change(encoder: Encoder, tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite3"
    HybridIndex(LESSONS, encoder=encoder, cache=EmbeddingCache(path))
    assert cached_vectors(path) == 2 * len(LESSONS)  # title, and title with summary and body

    index = HybridIndex(LESSONS, encoder=encoder, cache=EmbeddingCache(path))  # a restart
    assert cached_vectors(path) == 2 * len(LESSONS)

    changed = Document(id="gmail-filters", title="Tame your inbox with Gmail filters", body="New steps.")
    index.add(changed)
    assert cached_vectors(path) == 2 * len(LESSONS) + 1  # same title, new body
    index.remove("pivot-tables")
    assert len(index) == len(LESSONS) - 1
    assert "pivot-tables" not in [hit.id for hit in search(index, "pivot table")]


def test_chat_uses_the_semantic_tier_when_switched_on(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", config_path=write_config(tmp_path, search={"semantic": "on"})
    )
    prepare(settings)
    bot = open_bot(settings)
    assert isinstance(bot.index, HybridIndex)
    reply = ConsoleChat(Router(bot)).handle_line("an angry customer wrote to me")
    assert "Write to an upset customer" in reply.splitlines()[0]
    assert (settings.data_dir / "embeddings.sqlite3").exists()


def test_eval_reports_both_tiers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_settings: Callable[..., Settings]
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(json.dumps({"id": d.id, "title": d.title, "body": d.body}) + "\n" for d in [*LESSONS, STRIKE])
    )
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": PARAPHRASE, "relevant": ["strikethrough"]}) + "\n")
    args = ["--data-dir", str(tmp_path / "data"), "eval", "--corpus", str(corpus), "--queries", str(queries)]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    keys = {
        "recall_at_1",
        "recall_at_5",
        "mrr_at_10",
        "p50_ms",
        "p95_ms",
        "answer_rate",
        "answered_precision",
    }
    keys |= {"queries", "docs", "not_sure_rate", "ece"}
    assert keys <= set(report) and report["answers_with"] == "hybrid"
    assert set(report["tiers"]) == {"hybrid", "semantic", "lexical"}
    assert all(keys <= set(tier) for tier in report["tiers"].values())
    assert report["tiers"]["lexical"]["recall_at_5"] == 0.0
    assert report["tiers"]["semantic"]["recall_at_1"] == 1.0 and report["recall_at_1"] == 1.0
    assert main(args) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "hybrid (answers)" in header and "semantic" in header and "lexical" in header


SAMPLE_CONTENT = Path(__file__).parent.parent / "samples" / "content"


def _sample_lesson(name: str) -> Document:
    """A lesson of the sample library as search sees it (front matter's title and summary, its body)."""
    _, front, body = (SAMPLE_CONTENT / f"{name}.md").read_text().split("---\n", 2)
    fields = dict(line.split(": ", 1) for line in front.splitlines() if ": " in line)
    return Document(id=name, title=fields["title"], summary=fields["summary"], body=body)


def test_a_title_naming_the_topic_does_not_hide_the_lesson_that_answers(encoder: Encoder) -> None:
    # "Run a great 1:1 with your direct report" and "Excel pivot tables" are close to any question about
    # one's reports or summing data. The title only lifts a lesson part of the way, so the lesson whose
    # whole text answers the question is still among what the person is shown (it and the 1:1 lesson
    # are a near tie), and the SQL lesson comes first for a SQL question.
    lessons = [_sample_lesson(path.stem) for path in sorted(SAMPLE_CONTENT.glob("*.md"))]
    index = HybridIndex(lessons, encoder=encoder)
    question = "one of my reports is consistently not meeting expectations what do i do"
    decision = decide(index, question)
    assert decision.kind in ("answer", "not_sure")
    assert "handle-underperformance" in [hit.id for hit in decision.hits]
    assert search(DenseView(index), "sql group by sum example")[0].id == "sql-basics-for-analysts"


def test_a_title_lifts_a_lesson_only_part_of_the_way_towards_it() -> None:
    # A short title that names a topic ("Gmail") is close to every question about it: taking the larger
    # of the title's and the whole text's cosine let such "hub" lessons win them all.
    from content_index.semantic import TITLE_SHARE, lesson_cosine

    lifted = lesson_cosine(np.array([0.9, 0.2]), np.array([0.5, 0.4]))
    assert lifted[0] == pytest.approx(0.5 + TITLE_SHARE * 0.4) and lifted[0] < 0.9
    assert lifted[1] == pytest.approx(0.4)  # a title further away than the text never lowers it
