"""`learnbot index`: read every configured source, then bring storage in line, incrementally.

Unchanged items (same content hash) are skipped, changed ones updated, ones a source no
longer has are marked inactive (never deleted). A broken file is reported and skipped,
and whatever was stored for it stays as it was.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot.config import (
    AppConfig,
    ContentSource,
    CsvSource,
    LmsPackagesSource,
    MarkdownSource,
    Settings,
    SharePointSource,
)
from content_index.sources.base import ScanResult, SourceItem, SourceProblem
from content_index.sources.csv_catalogue import read_csv_catalogue
from content_index.sources.lms_packages import read_lms_packages
from content_index.sources.markdown import read_markdown_folder
from storage.content import all_content, deactivate, upsert_item
from storage.curation import CURATED_SOURCE
from storage.overlays import apply_all_overlays
from storage.source_state import save_state

PROGRESS_MIN_FILES = 200
# What storage holds per field (storage.models.ContentItem): longer values are refused per item.
LIMITS = {"id": 200, "title": 500, "url": 2000, "pillar": 100, "source": 100, "kind": 20, "location": 1000}


@dataclass
class IndexSummary:
    """What one indexing run did, for the one-line summary and for tests."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    problems: list[SourceProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return len(self.problems)

    def line(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deactivated} deactivated, {self.errors} errors"
        )


def _progress_bar(enabled: bool) -> Callable[[Iterable[Any]], Iterable[Any]] | None:
    """A tqdm bar on stderr for big folders, only where a person is watching."""
    if not enabled or not sys.stderr.isatty():
        return None

    def wrap(items: Iterable[Any]) -> Iterable[Any]:
        items = list(items)
        if len(items) < PROGRESS_MIN_FILES:
            return items
        from tqdm import tqdm

        return tqdm(items, desc="indexing", unit="file", file=sys.stderr, leave=False)

    return wrap


@dataclass
class IndexScan(ScanResult):
    """Every source's scan, plus what incremental (remote) sources said: removals and state to store.

    An incremental source yields only what changed, so its other stored items stay as they are
    unless it names them in `removed`; `states` (delta link, data) are stored with the content.
    """

    removed: set[str] = field(default_factory=set)
    incremental: set[str] = field(default_factory=set)
    states: dict[str, tuple[str | None, dict[str, Any]]] = field(default_factory=dict)


def scan_source(source: ContentSource, config: AppConfig, *, progress: bool = False) -> ScanResult:
    """Read one configured source without touching storage."""
    if isinstance(source, SharePointSource):
        raise TypeError("a SharePoint source is read by scan_all with settings and its stored state")
    path = config.resolve(source.path)
    if isinstance(source, MarkdownSource):
        return read_markdown_folder(path, source=source.name, progress=_progress_bar(progress))
    if isinstance(source, CsvSource):
        return read_csv_catalogue(
            path, source=source.name, columns=source.columns, list_separator=source.list_separator
        )
    if isinstance(source, LmsPackagesSource):
        return read_lms_packages(path, source=source.name, base_url=source.base_url)
    raise TypeError(f"unknown source type {type(source).__name__}")


def scan_remote(
    source: SharePointSource,
    settings: Settings | None,
    states: Mapping[str, tuple[str | None, dict[str, Any]]],
    result: IndexScan,
) -> ScanResult:
    """Read what changed in a SharePoint source since its stored state; without settings, skip it.

    A complete read (the first, or after the state was lost) is applied like a folder's: stored
    lessons it did not see are retired. Otherwise only the ones it names as removed are.
    """
    if settings is None:
        result.incremental.add(source.name)
        return ScanResult()
    from content_index.sources.sharepoint import read_sharepoint

    link, data = states.get(source.name, (None, {}))
    scanned = read_sharepoint(source, settings, delta_link=link, state=data)
    if not scanned.complete:
        result.incremental.add(source.name)
    result.removed |= scanned.removed
    result.states[source.name] = (scanned.delta_link, scanned.state)
    return scanned


def scan_all(
    config: AppConfig,
    *,
    progress: bool = False,
    settings: Settings | None = None,
    states: Mapping[str, tuple[str | None, dict[str, Any]]] | None = None,
) -> IndexScan:
    """Every source's items, with an id claimed twice reported at its second place.

    SharePoint sources are read only with `settings` (Graph), from their stored `states`.
    """
    result = IndexScan()
    first_seen: dict[str, str] = {}
    for source in config.content_sources:
        if isinstance(source, SharePointSource):
            scanned = scan_remote(source, settings, states or {}, result)
        else:
            scanned = scan_source(source, config, progress=progress)
        result.problems.extend(scanned.problems)
        if scanned.problems and not scanned.items:
            result.failed_sources.add(source.name)
        for item in scanned.items:
            unfit = item_problem(item)
            if unfit:
                result.problems.append(SourceProblem(item.location, unfit))
                continue
            if item.id in first_seen:
                result.problems.append(
                    SourceProblem(
                        item.location, f"duplicate content id {item.id!r} (also in {first_seen[item.id]})"
                    )
                )
                continue
            first_seen[item.id] = item.location
            result.items.append(item)
    return result


def item_problem(item: SourceItem) -> str | None:
    """Why storage cannot hold this item as it is (a NUL character, a field too long), or None."""
    for name, value in vars(item).items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            return f"{name} contains a NUL character (\\x00); remove it and index again"
        limit = LIMITS.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            return f"{name} is {len(value)} characters long; the most learnbot stores is {limit}"
    return None


def _protected(location: str, problems: list[SourceProblem]) -> bool:
    """True when a stored item lives in a file that failed to read this time: keep it as it is."""
    return any(
        location == p.path or location.startswith((p.path.rstrip("/") + "/", p.path + ":")) for p in problems
    )


def apply_scan(*, session: Session, config: AppConfig, scan: ScanResult) -> IndexSummary:
    """Bring stored content in line with a scan; returns what changed."""
    summary = IndexSummary(problems=list(scan.problems))
    stored = all_content(session=session)
    pillar_ids = {p.id for p in config.pillars}
    for item in scan.items:
        change = upsert_item(session=session, item=item, existing=stored.get(item.id))
        setattr(summary, change, getattr(summary, change) + 1)
        if item.pillar and item.pillar not in pillar_ids:
            summary.warnings.append(
                f"{item.location}: pillar {item.pillar!r} is not in app.yaml "
                f"(known: {', '.join(sorted(pillar_ids))})"
            )
    seen = {item.id for item in scan.items}
    incremental = scan.incremental if isinstance(scan, IndexScan) else set()
    removed = scan.removed if isinstance(scan, IndexScan) else set()
    for row in stored.values():
        if not row.active or row.id in seen or row.source in scan.failed_sources:
            continue
        if row.source == CURATED_SOURCE:  # saved from chat by an expert: no source file to follow
            continue
        if row.source in incremental and row.id not in removed:
            continue  # an incremental source names what it removed; the rest did not change
        if not _protected(row.location, scan.problems):
            deactivate(session=session, item=row)
            summary.deactivated += 1
    for name, (delta_link, data) in (scan.states if isinstance(scan, IndexScan) else {}).items():
        save_state(session=session, name=name, delta_link=delta_link, data=data)
    apply_all_overlays(session=session)  # admins' pillar / impact edits outlive the source
    return summary
