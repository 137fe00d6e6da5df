"""Wiring: settings, app.yaml, storage and the search index, in one object handlers share.

`prepare()` is what `learnbot index` (and `make run`) do: migrate, read sources, sync
pathways. `open_bot()` is what chat and serve do: check the database and config, build the index.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import AppConfig, ConfigError, Settings, check_content_references, load_config
from content_index.answering import ANSWER_THRESHOLD
from content_index.feedback import FeedbackSignals
from content_index.indexer import IndexSummary, apply_scan, scan_all
from content_index.library import LibraryWatcher, SemanticUnavailable, build_index
from content_index.search import Searchable
from nudges.clock import Clock, SystemClock
from storage.content import active_content
from storage.db import make_engine, require_current, session_scope, upgrade
from storage.models import Feedback, Question
from storage.pathways import sync_from_config

log = logging.getLogger(__name__)


def sync_campaigns(*, session: Session, config: AppConfig) -> None:
    """Mirror app.yaml's campaigns into storage (imported late: nudges builds on this module)."""
    from nudges.campaigns import sync_from_config as sync

    sync(session=session, config=config)


@dataclass
class LearnBot:
    """What every handler needs: configuration, the database and the live search index."""

    config: AppConfig
    engine: Engine
    index: Searchable
    config_path: Path = Path("app.yaml")
    pillar_names: dict[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    watcher: LibraryWatcher | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    @property
    def threshold(self) -> float:
        configured = self.config.search.answer_threshold
        return ANSWER_THRESHOLD if configured is None else configured

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.config.admins

    def refresh_if_due(self, *, session: Session, force: bool = False) -> None:
        """Apply content changed in storage (and feedback from other replicas) to the live index."""
        if self.watcher is not None and (force or self.watcher.due()):
            self.watcher.refresh(self.index, session=session, pillar_names=self.pillar_names)

    def note_feedback(self, feedback: Feedback, *, session: Session) -> None:
        """A verdict just stored: rank with it from the next question on, without waiting for a refresh."""
        signals = self.index.signals
        if feedback.question_id is None or not isinstance(signals, FeedbackSignals):
            return
        session.flush()
        question = session.get(Question, feedback.question_id)
        if question is not None:
            signals.add_feedback(feedback, question.text)


def pillar_names(config: AppConfig) -> dict[str, str]:
    return {pillar.id: pillar.name for pillar in config.pillars}


def prepare(settings: Settings, *, progress: bool = False) -> IndexSummary:
    """Migrate, index every source and mirror pathways; refuses bad pathway references before writing."""
    config = load_config(settings.config_path)
    scan = scan_all(config, progress=progress)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        stored_active = {item.id for item in active_content(session=session)}
        # A step may name content from a file that is broken just now: it is still stored.
        check_content_references(config, {i.id for i in scan.items} | stored_active, settings.config_path)
        summary = apply_scan(session=session, config=config, scan=scan)
        session.flush()
        sync_from_config(session=session, config=config)
        sync_campaigns(session=session, config=config)
    engine.dispose()
    return summary


def open_bot(settings: Settings) -> LearnBot:
    """A ready bot over an up-to-date database; raises ConfigError or DatabaseError otherwise."""
    config = load_config(settings.config_path)
    engine = make_engine(settings.db_url)
    require_current(engine)
    names = pillar_names(config)
    with session_scope(engine) as session:
        check_content_references(
            config, {i.id for i in active_content(session=session)}, settings.config_path
        )
        try:
            index = build_index(
                session=session, pillar_names=names, settings=config.search, data_dir=settings.data_dir
            )
        except SemanticUnavailable as exc:
            raise ConfigError(settings.config_path, [str(exc)]) from None
        watcher = LibraryWatcher.start(session=session, every_seconds=config.search.refresh_seconds)
    log.info("search index ready: %d items", len(index))
    return LearnBot(
        config=config,
        engine=engine,
        index=index,
        config_path=settings.config_path,
        pillar_names=names,
        watcher=watcher,
    )
