"""'Save as micro-lesson' in Teams: the message extension's action command, for experts only.

    composeExtension/fetchTask      the prefilled form (`lesson_form`) in a dialog for SMEs and
                                    admins (the router says who is one); anyone else is told why not
    composeExtension/submitAction   the form's values as a `LessonDraft` to the router (`on_curate`),
                                    linked to the original message (`linkToMessage`); the outcome
                                    shown in the dialog, or the form again with its errors

Both are answered within the request (Teams waits five seconds for an invoke). A submission is
checked against who is acting, not against what the form says, so a forged one from someone who
is not an expert saves nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.adapters.teams import cards, lesson_form
from bot.adapters.teams.delivery import SORRY
from bot.events import Reply, Who
from bot.markup import Text
from handlers.curation import EXPERTS_ONLY

if TYPE_CHECKING:
    from bot.adapters.teams.runtime import Work
    from bot.router import Router

log = logging.getLogger(__name__)

FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"
UNKNOWN_COMMAND = "Sorry, I don't know that command any more. Update learnbot in Teams and try again."
NO_MESSAGE = "Use 'Save as micro-lesson' from a message's … menu (More actions), so I know what to save."


def _conversation(raw: dict[str, Any]) -> str | None:
    """The chat or channel the message is in (a channel thread's `;messageid=…` left off)."""
    found = str((raw.get("conversation") or {}).get("id") or "").split(";")[0]
    return found or None


class LessonCommand:
    """The action command's two invokes, as router calls; answers are task module responses."""

    def __init__(self, router: Router, work: Work) -> None:
        self.router = router
        self.work = work

    def _pillars(self) -> list[tuple[str, str]]:
        return [(p.id, p.name) for p in self.router.bot.config.pillars]

    async def fetch(self, raw: dict[str, Any], who: Who) -> dict[str, Any]:
        """The dialog for an expert, prefilled from the message; a short refusal for anyone else."""
        value = raw.get("value") or {}
        if value.get("commandId") != lesson_form.COMMAND:
            return lesson_form.message(UNKNOWN_COMMAND)
        if not await self.work.call(lambda: self.router.is_expert(who)):
            return lesson_form.message(EXPERTS_ONLY)
        payload = value.get("messagePayload")
        if not isinstance(payload, dict):
            return lesson_form.message(NO_MESSAGE)
        text = lesson_form.plain_text(payload.get("body"))
        where = lesson_form.where_from(payload, _conversation(raw))
        card = lesson_form.form_card(lesson_form.prefill(text), self._pillars(), where)
        return lesson_form.dialog(card)

    async def submit(self, raw: dict[str, Any], who: Who) -> dict[str, Any]:
        """The submitted form: non-experts refused (nothing read or saved), errors back into the form,
        else the lesson saved through the router and its outcome shown in the dialog."""
        value = raw.get("value") or {}
        if value.get("commandId") != lesson_form.COMMAND:
            return lesson_form.message(UNKNOWN_COMMAND)
        if not await self.work.call(lambda: self.router.is_expert(who)):
            return lesson_form.message(EXPERTS_ONLY)
        data = value.get("data")
        where = lesson_form.where_from(value.get("messagePayload"), _conversation(raw), data)
        pillars = self._pillars()
        draft, errors, typed = lesson_form.read(data, pillars, where)
        if draft is None:
            return lesson_form.dialog(lesson_form.form_card(typed, pillars, where, errors))
        try:
            replies = await self.work.call(lambda: self.router.on_curate(who, draft))
        except Exception:
            log.exception("teams: saving a lesson failed")
            failed = {lesson_form.WHOLE_FORM: f"{SORRY} Nothing was saved."}
            return lesson_form.dialog(lesson_form.form_card(typed, pillars, where, failed))
        said: str = ""
        for reply in replies:
            if reply.text:
                said = Text(said, "\n\n", reply.text) if said else reply.text
        return lesson_form.dialog(cards.reply_card(Reply(text=said)))
