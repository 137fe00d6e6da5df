"""What a learner shares with their manager, and their learning as the manager may see it: nothing unshared.

Completions (and with them pathway progress) are shared unless the learner turns them off;
ratings only when they turn them on; takeaways one by one (`StepProgress.share_with_manager`,
off until the learner ticks Share). Who may look is decided above (`bot.access`, and the 1:1
prompt, which goes only to the report's own manager); this module answers what there is to see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import case
from sqlmodel import Session, col, select

from storage.models import (
    ContentItem,
    Enrolment,
    Pathway,
    PathwayStep,
    Person,
    Rating,
    SharingPreference,
    StepProgress,
)


@dataclass(frozen=True)
class Sharing:
    """A learner's choices: completions on unless turned off, ratings off unless turned on."""

    completions: bool = True
    ratings: bool = False


@dataclass(frozen=True)
class SharedLesson:
    """A lesson the report finished (and perhaps applied), with what it ties back to."""

    progress_id: int
    content_id: str
    title: str
    pillar: str | None
    impact: tuple[str, ...]
    completed_at: dt.datetime | None
    applied_at: dt.datetime | None
    takeaway: str | None = None  # only when the report ticked Share for it


@dataclass(frozen=True)
class SharedPathway:
    """A pathway the report is on: steps done of the steps there are."""

    pathway_id: str
    title: str
    pillar_id: str
    imperative: str
    done: int
    total: int


@dataclass(frozen=True)
class SharedRating:
    """How the report rated a lesson (only when they share ratings)."""

    content_id: str
    title: str
    role_relevance: int
    strategic_clarity: int


@dataclass
class SharedLearning:
    """What one report lets their manager see, from `since` (None: all of it)."""

    report_id: int
    sharing: Sharing
    lessons: list[SharedLesson] = field(default_factory=list)  # completed in the window (when shared)
    takeaways: list[SharedLesson] = field(default_factory=list)  # shared takeaways from the window
    pathways: list[SharedPathway] = field(default_factory=list)  # progress (when completions are shared)
    ratings: list[SharedRating] = field(default_factory=list)  # rated in the window (when shared)

    @property
    def is_empty(self) -> bool:
        """Nothing new in the window (pathway progress alone is not news)."""
        return not (self.lessons or self.takeaways or self.ratings)


# ---- preferences ------------------------------------------------------------------------------------


def sharing_of(*, session: Session, user_id: int) -> Sharing:
    """The learner's stored choices, or the defaults."""
    row = session.get(SharingPreference, user_id)
    return Sharing() if row is None else Sharing(row.completions, row.ratings)


def sharing_for(*, session: Session, user_ids: Iterable[int]) -> dict[int, Sharing]:
    """Everyone's choices in one query; people with no row get the defaults."""
    ids = sorted(set(user_ids))
    found: dict[int, Sharing] = dict.fromkeys(ids, Sharing())
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for row in session.exec(select(SharingPreference).where(col(SharingPreference.user_id).in_(chunk))):
            found[row.user_id] = Sharing(row.completions, row.ratings)
    return found


def set_sharing(
    *,
    session: Session,
    user_id: int,
    now: dt.datetime,
    completions: bool | None = None,
    ratings: bool | None = None,
) -> Sharing:
    """Change one or both choices (None leaves one as it is); returns the choices now."""
    row = session.get(SharingPreference, user_id) or SharingPreference(user_id=user_id)
    if completions is not None:
        row.completions = completions
    if ratings is not None:
        row.ratings = ratings
    row.updated_at = now
    session.add(row)
    return Sharing(row.completions, row.ratings)


def takeaways_of(
    *, session: Session, user_id: int, limit: int = 20
) -> list[tuple[StepProgress, ContentItem]]:
    """A learner's own takeaways, newest first, with their lessons (for the learner's sharing view)."""
    query = (
        select(StepProgress, ContentItem)
        .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
        .join(ContentItem, col(ContentItem.id) == col(StepProgress.content_id))
        .where(Enrolment.user_id == user_id, col(StepProgress.takeaway).is_not(None))
        .order_by(col(StepProgress.applied_at).desc(), col(StepProgress.id).desc())
        .limit(limit)
    )
    return [(progress, item) for progress, item in session.exec(query)]


def set_takeaway_shared(
    *, session: Session, user_id: int, progress_id: int, shared: bool
) -> StepProgress | None:
    """Share or un-share one of the learner's own takeaways; None when it is not theirs (or gone)."""
    progress = session.get(StepProgress, progress_id)
    enrolment = session.get(Enrolment, progress.enrolment_id) if progress else None
    if progress is None or enrolment is None or enrolment.user_id != user_id:
        return None
    progress.share_with_manager = shared
    session.add(progress)
    return progress


# ---- the shared learning itself ------------------------------------------------------------------


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def shared_learning(
    *,
    session: Session,
    report_ids: Iterable[int],
    since: dict[int, dt.datetime | None] | dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[int, SharedLearning]:
    """For each report, what they share from `since` (per report or for all) to `until`: lessons they
    completed or applied (if completions are shared), takeaways they shared, pathway progress (if
    completions are shared). A few queries for any number of reports."""
    ids = sorted(set(report_ids))
    choices = sharing_for(session=session, user_ids=ids)
    out = {i: SharedLearning(i, choices[i]) for i in ids}
    if not ids:
        return out
    start = since if isinstance(since, dict) else dict.fromkeys(ids, since)
    end = _utc(until)
    enrolments: dict[int, list[tuple[int, str]]] = {}  # user → (enrolment id, pathway id)
    pathways: dict[str, tuple[str, str, str]] = {}  # pathway id → (title, pillar id, imperative)
    for chunk in _chunks(ids):
        query = (
            select(
                Enrolment.id,
                Enrolment.user_id,
                Pathway.id,
                Pathway.title,
                Pathway.pillar_id,
                Pathway.imperative,
            )
            .join(Pathway, col(Pathway.id) == col(Enrolment.pathway_id))
            .where(col(Enrolment.user_id).in_(chunk), col(Enrolment.status).in_(["active", "completed"]))
            .order_by(col(Enrolment.id))
        )
        for enrolment_id, user_id, pathway_id, title, pillar_id, imperative in session.exec(query):
            enrolments.setdefault(user_id, []).append((enrolment_id, pathway_id))
            pathways[pathway_id] = (title, pillar_id, imperative)
    owner = {enrolment: user for user, pairs in enrolments.items() for enrolment, _ in pairs}
    done: dict[int, set[str]] = {}
    # a private takeaway's text never leaves the database: only shared ones are selected
    shared_text = case(
        (col(StepProgress.share_with_manager).is_(True), col(StepProgress.takeaway)), else_=None
    )
    for chunk in _chunks(sorted(owner)):
        query = (
            select(
                StepProgress.id,
                StepProgress.enrolment_id,
                StepProgress.content_id,
                StepProgress.completed_at,
                StepProgress.applied_at,
                shared_text,
                ContentItem.title,
                ContentItem.pillar,
                ContentItem.impact,
            )
            .join(ContentItem, col(ContentItem.id) == col(StepProgress.content_id))
            .where(col(StepProgress.enrolment_id).in_(chunk), col(StepProgress.completed_at).is_not(None))
            .order_by(col(StepProgress.completed_at), col(StepProgress.id))
        )
        for (
            progress_id,
            enrolment_id,
            content_id,
            completed,
            applied,
            takeaway,
            title,
            pillar,
            impact,
        ) in session.exec(query):
            user = owner[enrolment_id]
            done.setdefault(enrolment_id, set()).add(content_id)
            when, begin = _utc(applied or completed), _utc(start.get(user))
            if when is None or (begin is not None and when <= begin) or (end is not None and when > end):
                continue
            learning = out[user]
            lesson = SharedLesson(
                progress_id,
                content_id,
                title,
                pillar,
                tuple(impact or ()),
                completed,
                applied,
                takeaway or None,
            )
            if learning.sharing.completions:
                learning.lessons.append(lesson)
            if lesson.takeaway:
                learning.takeaways.append(lesson)
    _add_ratings(session, out, start, end)
    steps = _step_counts(session, set(pathways))
    for user, pairs in enrolments.items():
        if not out[user].sharing.completions:
            continue
        for enrolment_id, pathway_id in pairs:
            wanted = steps.get(pathway_id, set())
            title, pillar_id, imperative = pathways[pathway_id]
            finished = len(done.get(enrolment_id, set()) & wanted)
            out[user].pathways.append(
                SharedPathway(pathway_id, title, pillar_id, imperative, finished, len(wanted))
            )
    return out


def _add_ratings(
    session: Session,
    out: dict[int, SharedLearning],
    start: dict[int, dt.datetime | None],
    end: dt.datetime | None,
) -> None:
    """Ratings given in the window, for the reports who share their ratings."""
    raters = sorted(user for user, learning in out.items() if learning.sharing.ratings)
    for chunk in _chunks(raters):
        query = (
            select(
                Rating.user_id,
                Rating.updated_at,
                Rating.role_relevance,
                Rating.strategic_clarity,
                ContentItem.id,
                ContentItem.title,
            )
            .join(ContentItem, col(ContentItem.id) == col(Rating.content_id))
            .where(col(Rating.user_id).in_(chunk))
            .order_by(col(Rating.updated_at), col(Rating.id))
        )
        for user_id, updated, relevance, clarity, content_id, title in session.exec(query):
            when, begin = _utc(updated), _utc(start.get(user_id))
            if when is None or (begin is not None and when <= begin) or (end is not None and when > end):
                continue
            out[user_id].ratings.append(SharedRating(content_id, title, relevance, clarity))


def _step_counts(session: Session, pathway_ids: set[str]) -> dict[str, set[str]]:
    if not pathway_ids:
        return {}
    query = (
        select(PathwayStep.pathway_id, PathwayStep.content_id)
        .join(ContentItem, col(ContentItem.id) == col(PathwayStep.content_id))
        .where(col(PathwayStep.pathway_id).in_(sorted(pathway_ids)), col(ContentItem.active).is_(True))
    )
    out: dict[str, set[str]] = {}
    for pathway_id, content_id in session.exec(query):
        out.setdefault(pathway_id, set()).add(content_id)
    return out


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), 5000):
        yield ids[start : start + 5000]


def reports_of(*, session: Session, manager_id: int) -> list[Person]:
    """A manager's active direct reports, by name."""
    query = select(Person).where(Person.manager_id == manager_id, col(Person.active).is_(True))
    return sorted(session.exec(query), key=lambda p: ((p.display_name or p.email or "").lower(), p.id or 0))
