"""Helpers for the nudge tests: stored people, times, a console sender."""

from __future__ import annotations

import datetime as dt

from bot.adapters.console import ConsoleSender
from bot.app import LearnBot
from storage.models import User
from storage.users import ensure_user


def person(
    bot: LearnBot,
    user_id: str,
    *,
    timezone: str | None = None,
    role: str | None = None,
    team: str | None = None,
    platform: str = "console",
) -> User:
    """A stored user with a time zone, role and team, as a directory import would set them."""
    with bot.session() as session:
        user = ensure_user(session=session, platform=platform, platform_user_id=user_id)
        user.timezone, user.role, user.team = timezone, role, team
        session.add(user)
    return user


def console(bot: LearnBot) -> ConsoleSender:
    return ConsoleSender(bot.clock)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
