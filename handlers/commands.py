"""Chat commands: `help` for everyone, `gaps` for L&D admins (the router keeps admin answers private)."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Incoming, Reply
from bot.markup import Text, code, italic
from handlers import gaps

HELP = Text(
    "I'm learnbot. Ask me how to do something at work and I'll find the best short lesson for it, "
    "and tell you why it matters.\nTry: ",
    italic("how do I give feedback to a peer"),
    ", ",
    italic("make a pivot table in excel"),
    ", ",
    italic("share my outlook calendar"),
    ".\nAfter each answer, tell me whether it helped: that's how the library gets better.",
    "\nYour data is yours: ",
    code("export my data"),
    " or ",
    code("delete my data"),
    ", and ",
    code("sharing"),
    " shows and changes what your manager sees (in a direct message with me).",
)
MANAGER_HELP = Text("\nAs a manager, ", code("team"), " shows what your direct reports chose to share.")
ONE_ON_ONE_HELP = " Before each 1:1 with one of them I'll send you a note of what they shared."
ADMIN_HELP = Text(
    "\nAs an L&D admin you can also type ",
    code("gaps"),
    " to see what people asked that I couldn't answer well, grouped by topic, ",
    code("pathways"),
    ", ",
    code("campaigns"),
    ", ",
    code("nudges status"),
    ", ",
    code("why"),
    " (the most-used lessons and what their why is missing), ",
    code("report"),
    " (the L&D report: engagement, gaps, ratings, purpose) and ",
    code("link PERSON to PERSON"),
    " (in a direct message with me).",
)
EXPERT_HELP = Text(
    "\nAs an expert you can keep what you know as a micro-lesson: ",
    code("save lesson: TITLE | SUMMARY | pillar PILLAR"),
    " (or Save as micro-lesson on a Slack message).",
)


GAPS_ADMINS_ONLY = "Only L&D admins can see content gaps. Ask me a question instead!"


def show_help(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """What learnbot can do for this person: learners, then what managers, admins and experts add."""
    manager = MANAGER_HELP + (ONE_ON_ONE_HELP if bot.config.one_on_ones.source != "off" else "")
    text = HELP
    for shown, extra in (
        (caller.is_manager, manager),
        (caller.is_admin, ADMIN_HELP),
        (caller.is_sme, EXPERT_HELP),
    ):
        text = text + extra if shown else text
    return [Reply(text=text)]


def show_gaps(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Open content-gap clusters, a page at a time (`gaps`, `gaps 2`), so L&D knows what to write next."""
    return gaps.show_gaps(incoming, session=session, bot=bot, caller=caller)
