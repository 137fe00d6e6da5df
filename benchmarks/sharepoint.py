"""SharePoint indexing through the real msgraph-sdk client against the local fake Graph: full vs delta.

Three `learnbot index` runs over one library of Markdown documents and site pages: the first
(a full enumeration), a second after a few changes (the stored delta link and eTags), and, as
the baseline in the same run, the same second run with the stored state dropped (what every run
would cost without delta links). Prints time, Graph requests and the ratio to the baseline.
Run: `python -m benchmarks.sharepoint [--documents 300] [--pages 50] [--changes 10]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import delete

from bot.app import prepare
from bot.config import Settings
from storage.db import make_engine, session_scope
from storage.models import SourceState
from tests.graph.fake_sharepoint import FakeSharePoint, running

LESSON = (
    "---\ntitle: Lesson {n}\npillar: people\nskills: [feedback]\n---\nStep one for lesson {n}. Step two.\n"
)


def workspace(folder: Path, fake: FakeSharePoint) -> Settings:
    config = folder / "app.yaml"
    source = {
        "name": "sharepoint",
        "type": "sharepoint",
        "site_id": fake.site_id,
        "drive_id": fake.drive_id,
        "folder": "Lessons",
    }
    config.write_text(
        yaml.safe_dump({"pillars": [{"id": "people", "name": "People"}], "content_sources": [source]})
    )
    return Settings(
        data_dir=folder / "data",
        config_path=config,
        graph_api_url=fake.base_url,
        graph_allow_anonymous=True,
    )


def timed(fake: FakeSharePoint, settings: Settings) -> dict[str, Any]:
    fake.requests.clear()
    start = time.perf_counter()
    summary = prepare(settings)
    seconds = time.perf_counter() - start
    assert summary.errors == 0, summary.problems
    return {"seconds": seconds, "requests": len(fake.requests), "summary": summary.line()}


def change(fake: FakeSharePoint, folder_id: str, documents: list[str], count: int) -> None:
    """About half changed, a quarter added, a quarter removed (documents), and one page changed."""
    for n, item_id in enumerate(documents[: max(1, count // 2)]):
        fake.change_file(item_id, text=LESSON.format(n=f"{n} (revised)"))
    for n in range(max(1, count // 4)):
        fake.add_file(f"new-{n}.md", folder=folder_id, text=LESSON.format(n=f"new {n}"))
    for item_id in documents[-max(1, count // 4) :]:
        fake.delete_file(item_id)
    fake.change_page(next(iter(fake.pages)), title="Changed page")


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's own deprecation notices
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder_name, running() as fake:
        fake.page_size = 200  # what Graph sends per delta page
        folder_id = fake.add_folder("Lessons")
        documents = [
            fake.add_file(f"lesson-{n}.md", folder=folder_id, text=LESSON.format(n=n))
            for n in range(args.documents)
        ]
        for n in range(args.pages):
            fake.add_page(f"Page-{n}.aspx", f"Page {n}", description="A site page.", html=f"<p>Page {n}.</p>")
        settings = workspace(Path(folder_name), fake)
        rows["first run (full enumeration)"] = timed(fake, settings)
        change(fake, folder_id, documents, args.changes)
        snapshot = Path(folder_name) / "data" / "learnbot.db"
        copy = Path(folder_name) / "baseline.db"
        copy.write_bytes(snapshot.read_bytes())
        rows["next run, delta link and eTags"] = timed(fake, settings)
        baseline = settings.model_copy(update={"database_url": f"sqlite:///{copy}"})
        with session_scope(make_engine(baseline.db_url)) as session:
            session.exec(delete(SourceState))  # type: ignore[call-overload]
        rows["next run, state dropped (baseline)"] = timed(fake, baseline)
    base = rows["next run, state dropped (baseline)"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps({"rows": rows, "peak_mb": peak}, indent=2))
        return rows
    print(
        f"{args.documents} documents, {args.pages} site pages, {args.changes} changes; peak RSS {peak:.0f} MB"
    )
    print("| run | seconds | Graph requests | time / baseline | requests / baseline | indexed |")
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['seconds']:.2f} | {row['requests']} | {row['seconds'] / base['seconds']:.2f}x "
            f"| {row['requests'] / base['requests']:.2f}x | {row['summary']} |"
        )
    return rows


if __name__ == "__main__":
    main()
