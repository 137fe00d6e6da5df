"""Passive help: in opted-in channels, one quiet suggestion for a question search is sure of."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Incoming, Reply
from content_index.answering import reads_as_question
from content_index.search import Filters, search
from handlers.answer import answer_card

SUGGESTION = "This lesson might help with that (only a suggestion; ignore me if not):"


def looks_like_question(text: str) -> bool:
    """A short message ending in '?' or opening with a question word, not a one-word remark."""
    words = text.strip().split()
    if not 3 <= len(words) <= 60:
        return False
    return reads_as_question(text)


class PassiveLimiter:
    """At most one suggestion per channel and per person per window; kept in memory, per process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._channels: dict[str, float] = {}
        self._users: dict[str, float] = {}

    def take(self, channel: str, user: str, *, channel_minutes: int, user_minutes: int) -> bool:
        """True (and the slot is used) when neither the channel nor the person had a suggestion lately."""
        now = self._clock()
        with self._lock:
            if now - self._channels.get(channel, -1e12) < channel_minutes * 60:
                return False
            if now - self._users.get(user, -1e12) < user_minutes * 60:
                return False
            self._channels[channel] = self._users[user] = now
            return True


def suggest(
    incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller, limiter: PassiveLimiter
) -> list[Reply]:
    """One suggestion, or nothing: wrong channel, not a question, not sure enough, or suggested lately."""
    policy = bot.config.passive_help
    text = incoming.text.strip()
    if incoming.channel_id not in policy.channels or not looks_like_question(text):
        return []
    hits = search(
        bot.index, text, filters=Filters(audience=caller.audience), k=1 + bot.config.search.alternatives
    )
    if not hits or hits[0].confidence < max(policy.min_confidence, bot.threshold):
        return []
    per_channel, per_user = policy.per_channel_minutes, policy.per_user_minutes
    if not limiter.take(
        incoming.channel_id, incoming.user_id, channel_minutes=per_channel, user_minutes=per_user
    ):
        return []
    reply = answer_card(incoming, text, hits, user_id=caller.person_id, session=session, bot=bot)
    return [replace(reply, text=SUGGESTION, ephemeral=policy.reply_as == "ephemeral")]
