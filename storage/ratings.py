"""Ratings: one per person per lesson (rating again updates it), and their averages by lesson and pillar.

The two scales are relevance to the rater's role and strategic clarity (how clearly the lesson
shows which company goal it serves), 1-5 each; a comment is optional.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import ContentItem, Rating, RatingAsk, utcnow

SCALE = range(1, 6)
COMMENT_LIMIT = 500


class RatingError(ValueError):
    """A score outside 1-5 or a comment too long: nothing is stored."""


@dataclass(frozen=True)
class RatingSummary:
    """Averages of the ratings of one lesson or pillar (None when nobody rated it)."""

    key: str | None  # the content id or the pillar id (None: lessons without a pillar)
    title: str  # the lesson's title, or the pillar id again
    count: int
    role_relevance: float | None
    strategic_clarity: float | None
    comments: int


def _check(role_relevance: int, strategic_clarity: int, comment: str | None) -> None:
    for name, score in (("role relevance", role_relevance), ("strategic clarity", strategic_clarity)):
        if not isinstance(score, int) or isinstance(score, bool) or score not in SCALE:
            raise RatingError(f"{name} must be a whole number from 1 to 5, not {score!r}")
    if comment is not None and len(comment) > COMMENT_LIMIT:
        raise RatingError(f"the comment is {len(comment)} characters long; at most {COMMENT_LIMIT} are kept")


def get_rating(*, session: Session, user_id: int, content_id: str) -> Rating | None:
    return session.exec(
        select(Rating).where(Rating.user_id == user_id, Rating.content_id == content_id)
    ).first()


def upsert_rating(
    *,
    session: Session,
    user_id: int,
    content_id: str,
    role_relevance: int,
    strategic_clarity: int,
    comment: str | None = None,
    keep_comment: bool = True,
    now: dt.datetime | None = None,
) -> Rating:
    """Store this person's rating of the lesson, replacing their earlier one (a double click races safely).

    With `keep_comment` an earlier comment stays when no new one is given.
    """
    _check(role_relevance, strategic_clarity, comment)
    now = now or utcnow()
    rating = get_rating(session=session, user_id=user_id, content_id=content_id)
    if rating is None:
        fresh = Rating(
            user_id=user_id,
            content_id=content_id,
            role_relevance=role_relevance,
            strategic_clarity=strategic_clarity,
            comment=comment,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(fresh)
            return fresh
        except IntegrityError:  # the same person's other click inserted first: update that row
            rating = get_rating(session=session, user_id=user_id, content_id=content_id)
            assert rating is not None
    rating.role_relevance, rating.strategic_clarity, rating.updated_at = (
        role_relevance,
        strategic_clarity,
        now,
    )
    if comment is not None or not keep_comment:
        rating.comment = comment
    session.add(rating)
    return rating


def set_comment(*, session: Session, rating: Rating, comment: str | None, now: dt.datetime) -> Rating:
    """The optional comment after the two scores (None: skipped); stops waiting for one.

    Raises RatingError for a comment over `COMMENT_LIMIT` characters (and keeps waiting)."""
    if comment is not None:
        comment = " ".join(comment.split()) or None
        _check(rating.role_relevance, rating.strategic_clarity, comment)
    rating.comment = comment if comment is not None else rating.comment
    rating.comment_asked_at, rating.updated_at = None, now
    session.add(rating)
    return rating


def ask_comment(*, session: Session, rating: Rating, now: dt.datetime) -> None:
    """Remember that learnbot is waiting for this rating's typed comment."""
    rating.comment_asked_at = now
    session.add(rating)


def awaiting_comment(*, session: Session, user_id: int, since: dt.datetime) -> Rating | None:
    """The person's rating whose comment was asked for after `since`, the latest first."""
    query = (
        select(Rating)
        .where(Rating.user_id == user_id, col(Rating.comment_asked_at) >= since)
        .order_by(col(Rating.comment_asked_at).desc())
    )
    return session.exec(query).first()


def ratings_for(
    *,
    session: Session,
    content_id: str | None = None,
    user_id: int | None = None,
    since: dt.datetime | None = None,
) -> list[Rating]:
    """Ratings of one lesson and/or by one person (changed since `since`), oldest first."""
    query = select(Rating).order_by(col(Rating.updated_at), col(Rating.id))
    if content_id is not None:
        query = query.where(Rating.content_id == content_id)
    if user_id is not None:
        query = query.where(Rating.user_id == user_id)
    if since is not None:
        query = query.where(col(Rating.updated_at) >= since)
    return list(session.exec(query))


def _averages(session: Session, group: object, since: dt.datetime | None) -> list[tuple]:  # type: ignore[type-arg]
    query = (
        select(
            group,
            func.count(col(Rating.id)),
            func.avg(col(Rating.role_relevance)),
            func.avg(col(Rating.strategic_clarity)),
            func.count(col(Rating.comment)),
        )
        .join(ContentItem, col(ContentItem.id) == col(Rating.content_id))
        .group_by(group)  # type: ignore[arg-type]
    )
    if since is not None:
        query = query.where(col(Rating.updated_at) >= since)
    return list(session.exec(query).all())  # type: ignore[call-overload]


def summary_by_lesson(*, session: Session, since: dt.datetime | None = None) -> list[RatingSummary]:
    """Per rated lesson: how many ratings, average role relevance and strategic clarity; most rated first."""
    found = _averages(session, col(Rating.content_id), since)
    ids = [row[0] for row in found]
    titles = dict(
        session.exec(select(ContentItem.id, ContentItem.title).where(col(ContentItem.id).in_(ids))).all()
    )
    rows = [
        RatingSummary(key, titles.get(key, key), int(n), float(rel), float(clar), int(comments))
        for key, n, rel, clar, comments in found
    ]
    return sorted(rows, key=lambda r: (-r.count, r.title))


def summary_by_pillar(*, session: Session, since: dt.datetime | None = None) -> list[RatingSummary]:
    """The same averages per pillar of the rated lessons (key None: lessons with no pillar), by pillar id."""
    rows = [
        RatingSummary(key, key or "", int(n), float(rel), float(clar), int(comments))
        for key, n, rel, clar, comments in _averages(session, col(ContentItem.pillar), since)
    ]
    return sorted(rows, key=lambda r: (r.key is None, r.key or ""))


def averages_for(*, session: Session, content_ids: list[str]) -> dict[str, RatingSummary]:
    """All-time averages for these lessons, by content id (lessons nobody rated are left out)."""
    if not content_ids:
        return {}
    query = (
        select(
            Rating.content_id,
            func.count(col(Rating.id)),
            func.avg(col(Rating.role_relevance)),
            func.avg(col(Rating.strategic_clarity)),
            func.count(col(Rating.comment)),
        )
        .where(col(Rating.content_id).in_(content_ids))
        .group_by(col(Rating.content_id))
    )
    return {
        key: RatingSummary(key, key, int(n), float(rel), float(clar), int(comments))
        for key, n, rel, clar, comments in session.exec(query).all()
    }


def ask_once(*, session: Session, user_id: int, content_id: str, now: dt.datetime) -> bool:
    """True the first time learnbot may ask this person to rate this lesson unprompted (then never
    again); False when they were asked before or have rated it already."""
    if get_rating(session=session, user_id=user_id, content_id=content_id) is not None:
        return False
    if session.get(RatingAsk, (user_id, content_id)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(RatingAsk(user_id=user_id, content_id=content_id, asked_at=now))
    except IntegrityError:  # a second Done raced us
        return False
    return True


def relevance_by_lesson(*, session: Session) -> dict[str, tuple[float, int]]:
    """Every rated lesson's average relevance to people's roles and how many rated it (for ranking)."""
    rows = session.exec(
        select(Rating.content_id, func.avg(col(Rating.role_relevance)), func.count(col(Rating.id))).group_by(
            col(Rating.content_id)
        )
    )
    return {content_id: (float(average), int(count)) for content_id, average, count in rows}
