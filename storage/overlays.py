"""Admins' pillar and impact tag for a lesson, kept apart from its source and laid on top of it.

An overlay is applied to the stored lesson at once and again after every index run, so
`learnbot index` never undoes it (like pathway steps edited in chat).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, select

from storage.models import ContentItem, LessonOverlay, utcnow


def get_overlay(*, session: Session, content_id: str) -> LessonOverlay | None:
    return session.get(LessonOverlay, content_id)


def set_overlay(
    *,
    session: Session,
    content_id: str,
    edited_by: int | None,
    pillar: str | None = None,
    impact: Sequence[str] | None = None,
    now: dt.datetime | None = None,
) -> LessonOverlay:
    """Set the pillar and/or impact tag (None leaves that part as it was) and apply it to the lesson."""
    now = now or utcnow()
    overlay = get_overlay(session=session, content_id=content_id) or LessonOverlay(content_id=content_id)
    if pillar is not None:
        overlay.pillar = pillar
    if impact is not None:
        overlay.impact = list(impact)
    overlay.edited_by, overlay.edited_at = edited_by, now
    session.add(overlay)
    item = session.get(ContentItem, content_id)
    if item is not None:
        apply_overlay(session=session, item=item, overlay=overlay)  # real time moves `updated_at`
    return overlay


def apply_overlay(
    *, session: Session, item: ContentItem, overlay: LessonOverlay, now: dt.datetime | None = None
) -> bool:
    """Lay the overlay on the stored lesson; True when that changed it (its `updated_at` moves, so
    every live search index picks it up)."""
    changed = False
    if overlay.pillar is not None and item.pillar != overlay.pillar:
        item.pillar, changed = overlay.pillar, True
    if overlay.impact is not None and list(item.impact) != list(overlay.impact):
        item.impact, changed = list(overlay.impact), True
    if changed:
        item.updated_at = now or utcnow()
        session.add(item)
    return changed


def apply_all_overlays(*, session: Session) -> int:
    """After an index run: every overlay on top of its lesson again; returns how many lessons changed."""
    changed = 0
    for overlay in session.exec(select(LessonOverlay)):
        item = session.get(ContentItem, overlay.content_id)
        if item is not None and apply_overlay(session=session, item=item, overlay=overlay):
            changed += 1
    return changed
