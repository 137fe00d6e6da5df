"""Ask the experts: post a question learnbot could not answer well in the SME channel, linked back.

Only the asker can send their question; anyone else gets a private note and nothing changes.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, ConversationRef, Reply
from bot.markup import Text, code
from storage.questions import get_question

NO_CHANNEL = Text(
    "There's no experts channel set up yet, so I can't pass this on. Ask an L&D admin to set ",
    code("channels.sme"),
    " in app.yaml.",
)
NOT_YOURS = "Only the person who asked can send this question to the experts, so I haven't changed anything."
UNKNOWN = "Sorry, I couldn't find that question any more. Please ask it again."
FOR_EXPERTS = "A question for the experts: I had no good lesson for it."
SENT = "I've asked the experts in #{channel}. They'll reply to you; I've also logged it for the L&D team."


def ask_experts(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Post the asker's question in the SME channel with a link to where it was asked, and tell the asker."""
    channel = bot.config.channels.sme
    if not channel:
        return [Reply(text=NO_CHANNEL)]
    question = get_question(session=session, question_id=action.value)
    if question is None:
        return [Reply(text=UNKNOWN, ephemeral=True)]
    if question.user_id != caller.person_id:
        return [Reply(text=NOT_YOURS, ephemeral=True)]
    where = ConversationRef(question.platform, action.user_id, question.channel_id, question.thread_id)
    post = Reply(
        text=FOR_EXPERTS, quote=question.text, to_channel=channel, asker=action.user_id, link_to=where
    )
    return [post, Reply(text=SENT.format(channel=channel.lstrip("#")), replace_message=True)]
