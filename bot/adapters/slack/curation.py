"""Bolt listeners for 'Save as micro-lesson': the message shortcut and its form, for experts only.

The shortcut opens the prefilled form (`lesson_form`) for SMEs and admins (the router says who
is one); anyone else gets a DM saying why not. A submission gets its link back to the original
message from Slack (chat.getPermalink) and reaches the router as a `LessonDraft`; the outcome
goes to the expert's DM. Errors in the form are shown next to their fields.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import delivery, forms, lesson_form
from bot.adapters.slack.delivery import Place
from bot.adapters.slack.manifest import SAVE_LESSON_SHORTCUT
from bot.adapters.slack.people import People
from bot.adapters.slack.work import BUSY, Work

if TYPE_CHECKING:
    from bot.router import Router

log = logging.getLogger(__name__)

EXPERTS_ONLY = (
    "Saving messages as micro-lessons is for subject-matter experts and L&D admins. "
    "If you know something worth keeping, ask one of them to save it, or ask me a question."
)


class LessonShortcut:
    """The message shortcut and its form, as router calls."""

    def __init__(self, router: Router, people: People, work: Work) -> None:
        self.router = router
        self.people = people
        self.work = work

    def register(self, app: App) -> None:
        app.shortcut(SAVE_LESSON_SHORTCUT)(self.on_save_lesson_shortcut)
        app.view(lesson_form.CALLBACK)(self.on_save_lesson_submit)

    def on_save_lesson_shortcut(
        self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """'Save as micro-lesson' on a message: the prefilled form for experts; others are told why not."""
        user, trigger = body["user"]["id"], body["trigger_id"]
        message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id", "")

        def job() -> None:
            who = self.people.who(client, user, context.team_id)
            if not self.router.is_expert(who):
                delivery.tell(client, Place(user=user, channel=None), EXPERTS_ONLY)  # to their DM
                return
            pillars = [(p.id, p.name) for p in self.router.bot.config.pillars]
            view = lesson_form.lesson_modal(
                message.get("text", ""), pillars, channel=channel, ts=message.get("ts", "")
            )
            forms.open_form(client, trigger, view, "lesson form")

        self.work.soon(job)  # the trigger id lives 3 seconds: the urgent lane
        ack()

    def on_save_lesson_submit(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """The submitted lesson form: errors back into it; else it closes, the lesson is saved with a
        link to the original message, and the outcome goes to the expert's DM."""
        draft, errors = lesson_form.lesson_draft(view)
        if errors or draft is None:
            ack(response_action="errors", errors=errors)
            return
        user = body["user"]["id"]
        place = Place(user=user, channel=None, from_home=True)  # replies go to the DM

        def job() -> None:
            who = self.people.who(client, user, context.team_id)
            url = None
            if draft.channel_id and draft.message_id:
                try:
                    found = client.chat_getPermalink(channel=draft.channel_id, message_ts=draft.message_id)
                    url = found.get("permalink")
                except (SlackApiError, *delivery.UNREACHABLE) as exc:
                    log.warning("slack chat.getPermalink failed; saving the lesson without its link: %r", exc)
            saved = replace(draft, url=url if isinstance(url, str) else None)
            delivery.run(client, place, lambda: self.router.on_curate(who, saved))

        if not self.work.submit(job):
            self.work.soon(lambda: delivery.tell(client, place, BUSY))
        ack()
