"""The in-memory search index of the active content library: built from storage, kept current.

`build_index` reads every active item once at start. `LibraryWatcher` then notices, with one cheap query
every `search.refresh_seconds`, items whose `updated_at` moved (added, changed, deactivated by
`learnbot index`, from any process) and feedback stored since, and applies only those to the live index.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.config import SearchSettings
from content_index.feedback import FeedbackSignals, load_signals
from content_index.lexical import LexicalIndex
from content_index.search import Document, Searchable, Synonyms, make_synonyms
from content_index.synonyms import BUILT_IN_SYNONYMS
from storage.content import active_content
from storage.models import ContentItem

log = logging.getLogger(__name__)
EMBEDDINGS_FILE = "embeddings.sqlite3"
COMMIT_MARGIN = dt.timedelta(minutes=2)  # re-applying an unchanged item is harmless


class SemanticUnavailable(RuntimeError):
    """`search.semantic: on` but the semantic extra is not installed."""


def document_for(item: ContentItem, pillar_name: str | None = None) -> Document:
    """What search sees of a stored item: its text, its tags (skills, impact, pillar) and audience."""
    tags = [*item.skills, *item.impact]
    if pillar_name:
        tags.append(pillar_name)
    return Document(
        id=item.id,
        title=item.title,
        summary=item.summary,
        body=item.body,
        tags=tuple(tags),
        audience=tuple(item.audience),
        pillar=item.pillar,
    )


def synonyms_for(settings: SearchSettings) -> Synonyms:
    """The built-in workplace list (unless switched off) plus the groups in app.yaml."""
    groups = [*(BUILT_IN_SYNONYMS if settings.builtin_synonyms else ()), *settings.synonyms]
    return make_synonyms(groups)


def use_semantic(settings: SearchSettings) -> bool:
    """Whether to run the semantic tier: `on` requires the extra, `auto` uses it when installed."""
    if settings.semantic == "off":
        return False
    from content_index.semantic import unavailable_reason

    reason = unavailable_reason()
    if reason and settings.semantic == "on":
        raise SemanticUnavailable(f"search.semantic is 'on' but {reason}")
    return reason is None


def new_index(
    documents: Iterable[Document], settings: SearchSettings | None = None, *, data_dir: Path | None = None
) -> Searchable:
    """A lexical index, or the hybrid one (embeddings cached under `data_dir`) when semantic is on."""
    settings = settings or SearchSettings()
    synonyms = synonyms_for(settings)
    if not use_semantic(settings):
        return LexicalIndex(documents, synonyms=synonyms)
    from content_index.semantic import EmbeddingCache, HybridIndex

    cache = EmbeddingCache(data_dir / EMBEDDINGS_FILE if data_dir else None)
    return HybridIndex(documents, cache=cache, synonyms=synonyms)


def library_documents(*, session: Session, pillar_names: dict[str, str] | None = None) -> list[Document]:
    """What search sees of every active item: the one list both the live index and `eval` use."""
    names = pillar_names or {}
    return [document_for(item, names.get(item.pillar or "")) for item in active_content(session=session)]


def build_index(
    *,
    session: Session,
    pillar_names: dict[str, str] | None = None,
    settings: SearchSettings | None = None,
    data_dir: Path | None = None,
) -> Searchable:
    """A fresh index over every active item, with the stored feedback as ranking signals."""
    index = new_index(
        library_documents(session=session, pillar_names=pillar_names), settings, data_dir=data_dir
    )
    index.signals = load_signals(session=session)
    return index


def refresh_index(
    index: Searchable, changed: Iterable[ContentItem], pillar_names: dict[str, str] | None = None
) -> None:
    """Apply changed items to a live index without rebuilding it (new text embedded in one batch)."""
    names = pillar_names or {}
    active = []
    for item in changed:
        if item.active:
            active.append(document_for(item, names.get(item.pillar or "")))
        else:
            index.remove(item.id)
    index.add_many(active)


def _latest_change(session: Session) -> dt.datetime | None:
    return session.exec(select(func.max(ContentItem.updated_at))).one()


@dataclass
class LibraryWatcher:
    """Remembers how far storage had got when the index was last brought up to date."""

    every_seconds: float
    content_mark: dt.datetime | None = None
    checked_at: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, *, session: Session, every_seconds: float) -> LibraryWatcher:
        """A watcher for an index just built from this session's view of storage."""
        return cls(every_seconds=every_seconds, content_mark=_latest_change(session))

    def due(self) -> bool:
        """Time for another look (before every question when `every_seconds` is 0)."""
        return time.monotonic() - self.checked_at >= self.every_seconds

    def refresh(self, index: Searchable, *, session: Session, pillar_names: dict[str, str]) -> int:
        """Apply items changed since the last look, and new feedback; returns how many items changed."""
        self.checked_at = time.monotonic()
        changed: list[ContentItem] = []
        latest = _latest_change(session)
        if latest is not None and (self.content_mark is None or latest > self.content_mark):
            query = select(ContentItem).order_by(col(ContentItem.updated_at))
            if self.content_mark is not None:  # a margin for a transaction that committed late
                query = query.where(col(ContentItem.updated_at) > self.content_mark - COMMIT_MARGIN)
            changed = list(session.exec(query))
            refresh_index(index, changed, pillar_names)
            self.content_mark = latest
            log.info("search index refreshed: %d changed items", len(changed))
        if isinstance(index.signals, FeedbackSignals):
            index.signals.load_from(session=session)
        return len(changed)


def evaluation_tiers(
    documents: Iterable[Document],
    settings: SearchSettings | None = None,
    *,
    data_dir: Path | None = None,
    tier: str = "both",
) -> dict[str, Searchable]:
    """Indexes to score side by side: 'lexical', and when the semantic packages are installed
    'semantic' (the dense ranking alone) and 'hybrid' (what the bot answers with). The first entry is
    what the bot would answer with for these settings.

    `tier` 'semantic' insists on the packages (SemanticUnavailable otherwise); 'both' skips them quietly."""
    from content_index.lexical import LexicalIndex

    settings = settings or SearchSettings()
    docs = list(documents)
    tiers: dict[str, Searchable] = {}
    if tier in ("semantic", "both"):
        wanted = "on" if tier == "semantic" else settings.semantic
        semantic_settings = settings.model_copy(update={"semantic": wanted})
        if use_semantic(semantic_settings):
            from content_index.semantic import DenseView, HybridIndex

            hybrid = new_index(docs, semantic_settings, data_dir=data_dir)
            assert isinstance(hybrid, HybridIndex)
            tiers["hybrid"] = hybrid
            tiers["semantic"] = DenseView(hybrid)
    if tier in ("lexical", "both"):
        lexical = LexicalIndex(docs, synonyms=synonyms_for(settings))
        tiers = {"lexical": lexical, **tiers} if not tiers else {**tiers, "lexical": lexical}
    return tiers
