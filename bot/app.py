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
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import AppConfig, ConfigError, Settings, check_content_references, load_config, missing_steps
from content_index.answering import ANSWER_THRESHOLD
from content_index.feedback import FeedbackSignals
from content_index.indexer import IndexSummary, apply_scan, scan_all
from content_index.library import LibraryWatcher, SemanticUnavailable, build_index
from content_index.search import Searchable
from nudges.campaigns import sync_from_config as sync_campaigns
from nudges.clock import Clock, SystemClock
from nudges.pathways import sync_from_config
from storage.content import active_content, all_content
from storage.db import make_engine, require_current, session_scope, upgrade
from storage.models import Feedback, Question
from storage.ratings import averages_for
from storage.source_state import all_states

log = logging.getLogger(__name__)


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
    # Platform → outbox sender in this process (set by the scheduler's wiring or the console chat).
    senders: dict[str, Any] = field(default_factory=dict)
    data_dir: Path = Path(".learnbot")  # where files a person asked for (their data export) are written

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    @property
    def threshold(self) -> float:
        configured = self.config.search.answer_threshold
        return ANSWER_THRESHOLD if configured is None else configured

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

    def note_rating(self, content_id: str, *, session: Session) -> None:
        """A rating just stored: rank with the lesson's new average from the next question on."""
        signals = self.index.signals
        if not isinstance(signals, FeedbackSignals):
            return
        session.flush()
        summary = averages_for(session=session, content_ids=[content_id]).get(content_id)
        if summary is not None and summary.role_relevance is not None:
            signals.set_rating(content_id, summary.role_relevance, summary.count)


def pillar_names(config: AppConfig) -> dict[str, str]:
    return {pillar.id: pillar.name for pillar in config.pillars}


def prepare(settings: Settings, *, progress: bool = False) -> IndexSummary:
    """Migrate, index every source and mirror pathways; refuses bad pathway references before writing."""
    config = load_config(settings.config_path)
    engine = make_engine(settings.db_url)
    upgrade(engine)
    with session_scope(engine) as session:  # remote sources read only what changed since these
        states = {s.name: (s.delta_link, dict(s.data)) for s in all_states(session=session).values()}
    scan = scan_all(config, progress=progress, settings=settings, states=states)
    with session_scope(engine) as session:
        # A typo in a step stops here; a lesson indexed before (even one whose file is gone) does not.
        ever = set(all_content(session=session))
        check_content_references(config, {i.id for i in scan.items} | ever, settings.config_path)
        summary = apply_scan(session=session, config=config, scan=scan)
        session.flush()
        summary.warnings += missing_steps(config, {item.id for item in active_content(session=session)})
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
        for warning in missing_steps(config, {i.id for i in active_content(session=session)}):
            log.warning("%s: %s", settings.config_path, warning)  # never a reason to stay down
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
        data_dir=settings.data_dir,
    )
