"""Lessons experts saved from chat (source "curated"): who curated them, and colleagues' validation.

A curated lesson is a `ContentItem` like any other, so search, cards and reports treat it the
same; `Curation` says who saved it and from which message. Peer validation is the number of
distinct people, other than the curator, who found it helpful.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import ContentItem, Curation, Feedback, Person, utcnow

CURATED_SOURCE = "curated"
TITLE_LIMIT = 200
SUMMARY_LIMIT = 3000


class CurationError(ValueError):
    """A draft that cannot be saved as it is (empty title, too long, …): nothing is stored."""


def lesson_id(title: str, *, taken: Sequence[str] = ()) -> str:
    """A readable, stable id from the title ("curated-how-to-…"), made unique against `taken`."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-") or "lesson"
    base = f"curated-{slug}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def save_curated(
    *,
    session: Session,
    curated_by: int,
    title: str,
    summary: str,
    pillar: str | None,
    impact: Sequence[str],
    skills: Sequence[str],
    audience: Sequence[str],
    url: str | None,
    platform: str,
    channel_id: str | None = None,
    message_id: str | None = None,
    now: dt.datetime | None = None,
) -> ContentItem:
    """Store a curated lesson (active at once) and who curated it; raises CurationError for bad fields."""
    title, summary = " ".join(title.split()), summary.strip()
    if not title:
        raise CurationError("the title is empty: give the lesson a short title")
    if len(title) > TITLE_LIMIT:
        raise CurationError(f"the title is {len(title)} characters long; keep it to {TITLE_LIMIT}")
    if not summary:
        raise CurationError("the summary is empty: say what someone learns from it")
    if len(summary) > SUMMARY_LIMIT:
        raise CurationError(f"the summary is {len(summary)} characters long; keep it to {SUMMARY_LIMIT}")
    if url is not None and len(url) > 2000:
        raise CurationError("the link to the message is too long to store")
    now = now or utcnow()
    taken = list(session.exec(select(ContentItem.id).where(col(ContentItem.id).startswith("curated-"))))
    content_id = lesson_id(title, taken=taken)
    digest = hashlib.sha256(f"{title}\n{summary}\n{url}".encode()).hexdigest()
    item = ContentItem(
        id=content_id,
        source=CURATED_SOURCE,
        title=title,
        summary=summary,
        body=summary,
        skills=[s for s in skills if s],
        pillar=pillar,
        impact=[i for i in impact if i],
        audience=[a for a in audience if a],
        url=url,
        reviewed=now.date(),
        content_hash=digest,
        location=f"{platform}:{channel_id or ''}:{message_id or ''}",
        created_at=now,
        updated_at=utcnow(),  # real time, so every replica's library watcher sees it
    )
    session.add(item)
    session.flush()
    session.add(
        Curation(
            content_id=content_id,
            curated_by=curated_by,
            platform=platform,
            channel_id=channel_id,
            message_id=message_id,
            created_at=now,
        )
    )
    return item


def curator_name(*, session: Session, content_id: str) -> str | None:
    """The display name of whoever curated this lesson (None: not curated, or a person without a name)."""
    row = session.exec(
        select(Person.display_name)
        .join(Curation, col(Curation.curated_by) == col(Person.id))
        .where(Curation.content_id == content_id)
    ).first()
    return row or None


def validations(*, session: Session, content_ids: Sequence[str] | None = None) -> dict[str, int]:
    """Per curated lesson: distinct people, not the curator, who pressed Helpful on it."""
    query = (
        select(Feedback.content_id, func.count(func.distinct(Feedback.user_id)))
        .join(Curation, col(Curation.content_id) == col(Feedback.content_id))
        .where(
            Feedback.verdict == "helpful",
            col(Feedback.user_id).is_not(None),
            col(Feedback.user_id) != col(Curation.curated_by),
        )
        .group_by(col(Feedback.content_id))
    )
    if content_ids is not None:
        query = query.where(col(Feedback.content_id).in_(list(content_ids)))
    return {content_id: int(n) for content_id, n in session.exec(query).all()}
