"""Teams: the same learnbot on the Microsoft 365 Agents SDK (`/api/messages`). It only translates.

    activities  Teams activities in → `Who`, `Incoming`, `Action`, `ConversationRef`; mentions parsed
    text        neutral text out → Teams markdown, escaped; people as `<at>` mentions with entities
    cards       replies as Adaptive Cards with Universal Actions (`Action.Execute`), updated in place
    people      member lookup through the connector → the email Teams vouches for (cached)
    connector   the SDK: token checks, the CloudAdapter, turns against the connector, errors
    delivery    replies as messages or cards, in the chat or the channel's reply chain
    runtime     the asyncio loop the SDK runs on, and bounded work after the acknowledgement
    lesson_form the 'Save as micro-lesson' dialog: a form prefilled from a message → `LessonDraft`
    curation    that message action for experts: fetchTask → the form, submitAction → the router
    adapter     the SDK agent (`on_turn`) over the router, and `handle` for one HTTP request
    sender      outbox delivery (`send(outbound) -> activity id`), Retry-After honoured
    server      `/api/messages` as WSGI: method, body cap (413), then the adapter (401, 400)
    package     the app package: manifest with the app id filled in, icons, zipped

Messages are acknowledged at once (202) and answered from a bounded queue; card clicks are
answered within the request so the card changes in place. Every request's token is validated
unless TEAMS_ALLOW_ANONYMOUS lets a request without one in (local testing only).
"""

from __future__ import annotations

from bot.adapters.teams.activities import PLATFORM
from bot.adapters.teams.adapter import TeamsAdapter
from bot.adapters.teams.sender import TeamsSender

__all__ = ["PLATFORM", "TeamsAdapter", "TeamsSender"]
