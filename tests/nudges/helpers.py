"""Helpers for the nudge tests: stored people, times, a console sender."""

from __future__ import annotations

import datetime as dt

from bot.adapters.console import ConsoleSender
from bot.app import LearnBot
from storage.models import Person
from storage.people import identify, remember_reference


def person(
    bot: LearnBot,
    user_id: str,
    *,
    timezone: str | None = None,
    role: str | None = None,
    team: str | None = None,
    platform: str = "console",
    at: dt.datetime | None = None,
) -> Person:
    """A person with a time zone, role and team (as a directory import sets them) who has talked to learnbot
    on `platform` (so their identity and conversation reference there are stored)."""
    now = at or bot.clock.now()
    with bot.session() as session:
        found = identify(session=session, platform=platform, platform_user_id=user_id, now=now)
        found.timezone, found.role, found.team = timezone, role, team
        session.add(found)
        session.flush()
        assert found.id is not None
        remember_reference(
            session=session,
            person_id=found.id,
            platform=platform,
            platform_user_id=user_id,
            channel_id=f"dm-{user_id}",
            now=now,
        )
    return found


def console(bot: LearnBot) -> ConsoleSender:
    return ConsoleSender(bot.clock)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
