"""Map neutral events to handlers: one transaction per event, duplicates dropped, access asked first.

Every event starts the same way: who is this person (`bot.access`), and how to reach them
later (their conversation reference, refreshed at every contact). Admin commands run only
for admins and only in private; in a channel they get a private "ask me in a DM".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from sqlmodel import Session

from bot.access import ADMINS_ONLY, IN_PRIVATE, Caller, identify_caller
from bot.app import LearnBot
from bot.events import (
    Action,
    Announcement,
    Catalogue,
    ConversationRef,
    HomeView,
    Incoming,
    LessonDraft,
    Reply,
    Who,
)
from handlers import admin, campaigns, nudges, report
from handlers.answer import answer_question
from handlers.browse import browse
from handlers.commands import GAPS_ADMINS_ONLY, show_gaps, show_help
from handlers.curation import match as curation_command
from handlers.curation import save_lesson
from handlers.feedback import on_feedback
from handlers.gaps import gaps_command, on_gaps_page, on_gaps_send
from handlers.home import home_view
from handlers.my_data import DATA_ACTIONS, DATA_COMMANDS
from handlers.not_sure import on_not_sure
from handlers.one_on_ones import on_response, show_team
from handlers.passive import PassiveLimiter, suggest
from handlers.pathway_add import add_to_pathway, join_pathway
from handlers.pulse import on_pulse
from handlers.rating import on_rate, on_skip_comment, pending_comment, save_comment
from handlers.sharing import on_sharing, show_sharing
from handlers.sme import ask_experts
from handlers.why import match as why_command
from storage.events import first_delivery
from storage.people import remember_reference

log = logging.getLogger(__name__)

MessageHandler = Callable[..., list[Reply]]
COMMANDS: dict[str, MessageHandler] = {
    "help": show_help,
    "?": show_help,
    "nudges off": nudges.nudges_off,
    "stop nudges": nudges.nudges_off,
    "nudges on": nudges.nudges_on,
    "sharing": show_sharing,
    "team": show_team,
    **DATA_COMMANDS,
}
ADMIN_COMMANDS: dict[str, MessageHandler] = {"gaps": show_gaps}
ACTIONS: dict[str, Callable[..., list[Reply]]] = {
    "helpful": on_feedback,
    "not_helpful": on_feedback,
    "rate": on_rate,
    "rate_skip": on_skip_comment,
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
    "gaps_page": on_gaps_page,
    "gaps_send": on_gaps_send,
    "pulse_answer": on_pulse,
    "one_on_one_discussed": on_response,
    "one_on_one_not_this_time": on_response,
    "sharing_completions": on_sharing,
    "sharing_ratings": on_sharing,
    "sharing_takeaway": on_sharing,
    **DATA_ACTIONS,
}
UNKNOWN_ACTION = "Sorry, that button no longer works. Ask me again and I'll find you a lesson."
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")


def _printable(text: str | None) -> str | None:
    """Text without control characters (a NUL would not even fit in PostgreSQL text)."""
    return None if text is None else text.translate(_CONTROL)


class Router:
    """The one entry point adapters call; returns the replies (or views) to render."""

    def __init__(self, bot: LearnBot) -> None:
        self.bot = bot
        self.passive = PassiveLimiter()

    def _caller(self, session: Session, who: Who, reach: ConversationRef | None = None) -> Caller:
        """The person acting (created or linked at first contact), with how to reach them stored."""
        caller = identify_caller(session=session, config=self.bot.config, who=who, now=self.bot.clock.now())
        if reach is not None:
            remember_reference(
                session=session,
                person_id=caller.person_id,
                platform=reach.platform,
                platform_user_id=reach.user_id or who.user_id,
                channel_id=reach.channel_id,
                data=dict(reach.data),
                now=self.bot.clock.now(),
            )
        return caller

    def on_message(self, incoming: Incoming) -> list[Reply]:
        incoming = replace(incoming, text=_printable(incoming.text), user_name=_printable(incoming.user_name))
        with self.bot.session() as session:
            if incoming.event_id and not first_delivery(session=session, event_id=incoming.event_id):
                log.info("dropping duplicate event %s", incoming.event_id)
                return []
            caller = self._caller(session, incoming.who, incoming.reach)
            bot = self.bot
            if not incoming.addressed:
                return suggest(incoming, session=session, bot=bot, caller=caller, limiter=self.passive)
            said = incoming.text.strip().lower().lstrip("/")
            paged = show_gaps if gaps_command(said) is not None else None  # `gaps 2`
            privileged = ADMIN_COMMANDS.get(said) or paged or admin.match(incoming)
            privileged = privileged or (report.write_report if report.match(incoming) else None)
            if privileged is not None and (said in ADMIN_COMMANDS or paged) and not caller.is_admin:
                return [Reply(text=GAPS_ADMINS_ONLY)]
            privileged = privileged or why_command(incoming)  # `why`, `why LESSON: …` (admins only)
            if privileged is not None and caller.is_admin:
                if not incoming.is_direct:
                    return [Reply(text=IN_PRIVATE, ephemeral=True)]
                return privileged(incoming, session=session, bot=bot, caller=caller)
            curate = curation_command(incoming)  # `save lesson: …` (experts only; says so to others)
            if curate is not None:
                return curate(incoming, session=session, bot=bot, caller=caller)
            command = COMMANDS.get(said)
            if command is not None:
                return command(incoming, session=session, bot=bot, caller=caller)
            rated = pending_comment(incoming, session=session, bot=bot, caller=caller)
            if rated is not None:
                return save_comment(incoming, rated, session=session, bot=bot)
            takeaway = nudges.awaiting_takeaway(incoming, session=session, bot=bot, caller=caller)
            if takeaway is not None:
                return nudges.save_takeaway(incoming, takeaway, session=session)
            return answer_question(incoming, session=session, bot=bot, caller=caller)

    def on_action(self, action: Action) -> list[Reply]:
        handler = ACTIONS.get(action.name)
        if handler is None:
            return [Reply(text=UNKNOWN_ACTION)]
        with self.bot.session() as session:
            caller = self._caller(session, action.who, action.reach)
            return handler(action, session=session, bot=self.bot, caller=caller)

    def on_announce(self, who: Who, announcement: Announcement) -> list[Reply]:
        """A campaign from a platform's form: structured already, for admins only."""
        with self.bot.session() as session:
            caller = self._caller(session, who)
            if not caller.is_admin:
                return [Reply(text=ADMINS_ONLY)]
            return admin.announce_campaign(announcement, session=session, bot=self.bot, caller=caller)

    def on_curate(self, who: Who, draft: LessonDraft) -> list[Reply]:
        """A message saved as a micro-lesson from a platform's form: experts (SMEs, admins) only."""
        with self.bot.session() as session:
            caller = self._caller(session, who)
            return save_lesson(draft, session=session, bot=self.bot, caller=caller, platform=who.platform)

    def is_expert(self, who: Who) -> bool:
        """Whether this person may save messages as lessons (an SME or an admin)."""
        with self.bot.session() as session:
            return self._caller(session, who).is_sme

    def on_contact(self, who: Who, reach: ConversationRef) -> None:
        """Someone opened learnbot (a Home tab, an app install): remember how to reach them."""
        with self.bot.session() as session:
            self._caller(session, who, reach)

    def is_admin(self, who: Who) -> bool:
        """Whether this person may use admin surfaces (e.g. a campaign form)."""
        with self.bot.session() as session:
            return self._caller(session, who).is_admin

    def home(self, who: Who) -> HomeView:
        """What this person's home shows: their pathways, recent answers, lessons to rate."""
        with self.bot.session() as session:
            return home_view(session=session, bot=self.bot, caller=self._caller(session, who))

    def browse(self, who: Who, *, query: str = "", pillar: str | None = None) -> Catalogue:
        """A page of lessons for the browse surface, by search words and/or pillar, in their audience."""
        with self.bot.session() as session:
            audience = self._caller(session, who).audience
            return browse(query=query, pillar=pillar, audience=audience, session=session, bot=self.bot)
