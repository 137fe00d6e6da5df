"""A learner's nudge preferences: stopped altogether ('Stop nudges') or paused until a time ('Snooze')."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from storage.models import NudgePreference


def preference(*, session: Session, user_id: int) -> NudgePreference:
    """The stored preference, or a fresh default one (added to the session)."""
    found = session.get(NudgePreference, user_id)
    if found is None:
        found = NudgePreference(user_id=user_id)
        session.add(found)
    return found


def set_opted_out(*, session: Session, user_id: int, opted_out: bool, now: dt.datetime) -> None:
    pref = preference(session=session, user_id=user_id)
    pref.opted_out, pref.updated_at = opted_out, now
    session.add(pref)


def snooze(*, session: Session, user_id: int, until: dt.datetime, now: dt.datetime) -> None:
    pref = preference(session=session, user_id=user_id)
    pref.snoozed_until, pref.updated_at = until, now
    session.add(pref)


def all_preferences(*, session: Session) -> dict[int, NudgePreference]:
    """Everyone's stored preference by person id (the planner reads them once per pass)."""
    return {pref.user_id: pref for pref in session.exec(select(NudgePreference))}
