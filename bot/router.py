"""Map neutral events to handlers, one database transaction per event, duplicates dropped."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.app import LearnBot
from bot.events import Action, Catalogue, HomeView, Incoming, Reply, Role
from handlers import admin, campaigns, nudges
from handlers.answer import answer_question
from handlers.browse import browse
from handlers.commands import show_gaps, show_help
from handlers.feedback import on_feedback
from handlers.home import home_view
from handlers.not_sure import on_not_sure
from handlers.passive import PassiveLimiter, suggest
from handlers.pathway_add import add_to_pathway, join_pathway
from handlers.rating import on_rate
from handlers.sme import ask_experts
from storage.events import first_delivery

log = logging.getLogger(__name__)

MessageHandler = Callable[..., list[Reply]]
COMMANDS: dict[str, MessageHandler] = {
    "help": show_help,
    "?": show_help,
    "gaps": show_gaps,
    "nudges off": nudges.nudges_off,
    "stop nudges": nudges.nudges_off,
    "nudges on": nudges.nudges_on,
}
ACTIONS: dict[str, Callable[..., list[Reply]]] = {
    "helpful": on_feedback,
    "not_helpful": on_feedback,
    "rate": on_rate,
    "add_to_pathway": add_to_pathway,
    "join_pathway": join_pathway,
    "ask_experts": ask_experts,
    "nudge_start": nudges.on_start,
    "nudge_done": nudges.on_done,
    "nudge_snooze": nudges.on_snooze,
    "nudge_not_now": nudges.on_not_now,
    "nudge_stop": nudges.on_stop,
    "follow_up_applied": nudges.on_applied,
    "follow_up_not_yet": nudges.on_not_yet,
    "takeaway_skip": nudges.on_takeaway_skip,
    "takeaway_share": nudges.on_share,
    "takeaway_private": nudges.on_share,
    "campaign_join": campaigns.on_join,
    "campaign_details": campaigns.on_details,
    "not_sure_pick": on_not_sure,
    "not_sure_none": on_not_sure,
}
UNKNOWN_ACTION = "Sorry, that button no longer works. Ask me again and I'll find you a lesson."


class Router:
    """The one entry point adapters call; returns the replies to render."""

    def __init__(self, bot: LearnBot) -> None:
        self.bot = bot
        self.passive = PassiveLimiter()

    def on_message(self, incoming: Incoming) -> list[Reply]:
        with self.bot.session() as session:
            if incoming.event_id and not first_delivery(session=session, event_id=incoming.event_id):
                log.info("dropping duplicate event %s", incoming.event_id)
                return []
            if not incoming.addressed:
                return suggest(incoming, session=session, bot=self.bot, limiter=self.passive)
            command = COMMANDS.get(incoming.text.strip().lower().lstrip("/"))
            handler = command or admin.match(incoming, self.bot)
            if handler is None:
                takeaway = nudges.awaiting_takeaway(incoming, session=session, bot=self.bot)
                if takeaway is not None:
                    return nudges.save_takeaway(incoming, takeaway, session=session)
            return (handler or answer_question)(incoming, session=session, bot=self.bot)

    def on_action(self, action: Action) -> list[Reply]:
        handler = ACTIONS.get(action.name)
        if handler is None:
            return [Reply(text=UNKNOWN_ACTION)]
        with self.bot.session() as session:
            return handler(action, session=session, bot=self.bot)

    def home(self, user_id: str, *, platform: str, role: Role = "learner") -> HomeView:
        """What this person's home shows: their pathways, recent answers, lessons to rate."""
        with self.bot.session() as session:
            return home_view(user_id, platform=platform, role=role, session=session, bot=self.bot)

    def browse(self, *, query: str = "", pillar: str | None = None, audience: str | None = None) -> Catalogue:
        """A page of lessons for the browse surface, by search words and/or pillar."""
        with self.bot.session() as session:
            return browse(query=query, pillar=pillar, audience=audience, session=session, bot=self.bot)
