"""Chat commands: `help` for everyone, `gaps` for L&D admins."""

from __future__ import annotations

from sqlmodel import Session

from bot.app import LearnBot
from bot.events import Incoming, Reply
from storage.questions import content_gaps

HELP = (
    "I'm learnbot. Ask me how to do something at work and I'll find the best short lesson for it, "
    "and tell you why it matters.\n"
    "Try: _how do I give feedback to a peer_, _make a pivot table in excel_, _share my outlook calendar_.\n"
    "After each answer, tell me whether it helped: that's how the library gets better."
)
ADMIN_HELP = "\nAs an L&D admin you can also type `gaps` to see recent questions I couldn't answer."
ADMINS_ONLY = "Only L&D admins can see content gaps. Ask me a question instead!"


def show_help(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    is_admin = incoming.role == "admin" or bot.is_admin(incoming.user_id)
    return [Reply(text=HELP + (ADMIN_HELP if is_admin else ""))]


def show_gaps(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    """The latest unanswered or missed questions, so L&D knows what to write next."""
    if not (incoming.role == "admin" or bot.is_admin(incoming.user_id)):
        return [Reply(text=ADMINS_ONLY)]
    gaps = content_gaps(session=session, limit=10)
    if not gaps:
        return [Reply(text="No content gaps yet: every recent question had a lesson.")]
    lines = "\n".join(f"• {q.asked_at:%Y-%m-%d}: {q.text}" for q in gaps)
    return [Reply(text=f"Recent questions without a good lesson ({len(gaps)}):", quote=lines)]
