"""`learnbot index` on a Markdown folder: good, changed, removed and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from bot.app import prepare
from bot.cli import main
from bot.config import Settings
from storage.db import make_engine, session_scope
from storage.models import ContentItem

LESSON = """---
title: {title}
summary: {summary}
skills: [excel, reporting]
pillar: efficiency
impact: Enables automation for Q3 efficiency goals
audience: [everyone]
duration_minutes: 5
reviewed: 2026-05-01
---
# {title}
Steps go here.
"""


def lesson(folder: Path, name: str, title: str, summary: str = "Short and useful.") -> Path:
    path = folder / f"{name}.md"
    path.write_text(LESSON.format(title=title, summary=summary))
    return path


@pytest.fixture
def library(tmp_path: Path) -> tuple[Settings, Path]:
    folder = tmp_path / "lessons"
    folder.mkdir()
    config = tmp_path / "app.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "pillars": [{"id": "efficiency", "name": "Operational efficiency"}],
                "content_sources": [{"name": "lessons", "type": "markdown", "path": "lessons"}],
            }
        )
    )
    return Settings(data_dir=tmp_path / "data", config_path=config), folder


def stored(settings: Settings) -> dict[str, ContentItem]:
    with session_scope(make_engine(settings.db_url)) as session:
        return {item.id: item for item in session.exec(select(ContentItem))}


def test_new_changed_unchanged_and_removed_files(library: tuple[Settings, Path]) -> None:
    settings, folder = library
    lesson(folder, "pivot-tables", "Summarise data with a pivot table")
    lesson(folder, "xlookup", "Find values with XLOOKUP")
    lesson(folder, "charts", "Make a clear chart")
    assert prepare(settings).line() == "3 added, 0 updated, 0 unchanged, 0 deactivated, 0 errors"
    item = stored(settings)["pivot-tables"]
    assert (item.pillar, item.impact, item.duration_minutes) == (
        "efficiency",
        ["Enables automation for Q3 efficiency goals"],
        5,
    )

    assert prepare(settings).line() == "0 added, 0 updated, 3 unchanged, 0 deactivated, 0 errors"

    lesson(folder, "xlookup", "Find values with XLOOKUP", summary="Now with a worked example.")
    (folder / "charts.md").unlink()
    assert prepare(settings).line() == "0 added, 1 updated, 1 unchanged, 1 deactivated, 0 errors"
    items = stored(settings)
    assert items["xlookup"].summary == "Now with a worked example."
    assert items["charts"].active is False and items["charts"].deactivated_at is not None

    lesson(folder, "charts", "Make a clear chart")
    assert prepare(settings).line() == "1 added, 0 updated, 2 unchanged, 0 deactivated, 0 errors"
    assert stored(settings)["charts"].active


def test_broken_file_is_reported_with_line_and_keeps_what_was_stored(library: tuple[Settings, Path]) -> None:
    settings, folder = library
    lesson(folder, "pivot-tables", "Summarise data with a pivot table")
    good = lesson(folder, "xlookup", "Find values with XLOOKUP")
    prepare(settings)

    good.write_text(good.read_text().replace("duration_minutes: 5", "duration_minutes: five"))
    (folder / "no-title.md").write_text("---\nsummary: forgot the title\n---\nbody\n")
    (folder / "bad-yaml.md").write_text("---\ntitle: Broken\nskills: [excel\n---\nbody\n")
    lesson(folder, "charts", "Make a clear chart")

    summary = prepare(settings)
    problems = sorted(str(p) for p in summary.problems)
    # The YAML parser's own wording differs between libyaml and pure Python; the place does not.
    assert problems[0].startswith("lessons/bad-yaml.md:3: front matter is not valid YAML: ")
    assert problems[1:] == [
        "lessons/no-title.md:1: missing required 'title'",
        "lessons/xlookup.md:8: 'duration_minutes' must be a whole number of minutes, got 'five'",
    ]
    assert (summary.added, summary.deactivated, summary.errors) == (1, 0, 3)
    items = stored(settings)
    assert items["xlookup"].active and items["xlookup"].duration_minutes == 5
    assert items["charts"].active


def test_index_command_prints_one_summary_line_and_errors(
    library: tuple[Settings, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, folder = library
    lesson(folder, "pivot-tables", "Summarise data with a pivot table")
    (folder / "empty.md").write_text("no front matter here\n")
    args = ["--config", str(settings.config_path), "--data-dir", str(settings.data_dir), "index"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "indexed: 1 added, 0 updated, 0 unchanged, 0 deactivated, 1 errors"
    assert "error: lessons/empty.md:1: no front matter: the file must start with a '---' line" in err
    assert main([*args, "--strict"]) == 1


def test_unknown_pillar_in_a_lesson_is_a_warning_not_a_loss(library: tuple[Settings, Path]) -> None:
    settings, folder = library
    path = lesson(folder, "pivot-tables", "Summarise data with a pivot table")
    path.write_text(path.read_text().replace("pillar: efficiency", "pillar: growth"))
    summary = prepare(settings)
    assert summary.added == 1
    assert summary.warnings == [
        "lessons/pivot-tables.md: pillar 'growth' is not in app.yaml (known: efficiency)"
    ]


def test_a_nul_byte_or_an_overlong_url_skips_that_file_and_keeps_the_rest(
    library: tuple[Settings, Path], db_url: str
) -> None:
    """PostgreSQL refuses NUL in text and long URLs: each such file is reported, the others stored."""
    settings, folder = library
    settings = settings.model_copy(update={"database_url": db_url})
    lesson(folder, "pivot-tables", "Summarise data with a pivot table")
    nul = lesson(folder, "nul", "A lesson pasted from a PDF")
    nul.write_text(nul.read_text().replace("Steps go here.", "Steps\x00go here."))
    long_url = lesson(folder, "long-url", "A lesson with a very long link")
    long_url.write_text(
        long_url.read_text().replace("---\n#", f"url: https://e.example/{'a' * 2100}\n---\n#")
    )

    summary = prepare(settings)

    assert sorted(str(p) for p in summary.problems) == [
        "lessons/long-url.md: url is 2118 characters long; the most learnbot stores is 2000",
        "lessons/nul.md: body contains a NUL character (\\x00); remove it and index again",
    ]
    assert summary.added == 1
    assert set(stored(settings)) == {"pivot-tables"}
