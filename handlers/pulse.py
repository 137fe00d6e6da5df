"""The purpose pulse's buttons: store the learner's 1-5 (one answer per period; pressing again changes it)."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Reply
from nudges.kinds.pulse import period_at
from nudges.messages import pulse_reply
from storage.pulse import save_answer

OFF = "The purpose pulse is switched off, so I haven't stored that. Thanks all the same!"
CLOSED = "That pulse question has closed, so I haven't stored this answer. Thanks all the same!"
BAD = "Sorry, I couldn't read that answer. Please press one of the numbers 1 to 5."


def on_pulse(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`pulse_answer` with value `period|score`: saved for this period, or updated when answered before."""
    settings = bot.config.purpose_pulse
    label, _, score_text = action.value.partition("|")
    if not score_text.isdigit() or not 1 <= int(score_text) <= 5:
        return [Reply(text=BAD, ephemeral=True)]
    if not settings.enabled:
        return [Reply(text=OFF, replace_message=True)]
    period = period_at(settings, bot.clock.now())
    if label != period.label:
        return [Reply(text=CLOSED, replace_message=True)]
    score = int(score_text)
    row, updated = save_answer(
        session=session, user_id=caller.person_id, period=period.label, score=score, at=bot.clock.now()
    )
    last = period.last_day
    text = (
        f"Thanks! I've {'changed your answer to' if updated else 'noted'} {row.score}. "
        f"You can change it until {last:%A} {last.day} {last:%B} by pressing another number."
    )
    buttons = pulse_reply(settings.question, period.label, last).buttons
    return [Reply(text=text, buttons=buttons, replace_message=True)]
