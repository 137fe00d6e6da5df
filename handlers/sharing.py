"""`sharing`: a learner sees what their manager sees of their learning and changes it, item by item.

Completions (and pathway progress) are shared unless turned off, ratings only when turned on,
takeaways one by one. Every button answers with the refreshed view, so what is shown is what
is stored. Only the learner's own takeaways can be changed here.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.access import IN_PRIVATE, Caller, manager_of
from bot.app import LearnBot
from bot.events import Action, Button, Incoming, Reply
from bot.events import Sharing as SharingView
from bot.markup import Text, bold, bullets, code, italic
from storage.models import Person
from storage.sharing import set_sharing, set_takeaway_shared, sharing_of, takeaways_of

TAKEAWAYS_SHOWN = 5
COMPLETIONS, RATINGS, TAKEAWAY = "sharing_completions", "sharing_ratings", "sharing_takeaway"
NOT_YOURS = "That takeaway isn't one of yours, so I left it alone."
BAD_CHOICE = "Sorry, I couldn't tell what to change. Type `sharing` to see your choices again."


def _name(person: Person) -> str:
    return person.display_name or person.email or "your manager"


def sharing_view(*, session: Session, caller: Caller) -> Reply:
    """What the caller's manager sees, with a button to change each choice."""
    me = caller.person
    manager = manager_of(session=session, person=me)
    choices = sharing_of(session=session, user_id=caller.person_id)
    if manager is not None:
        text = Text(
            "Here's what ",
            bold(_name(manager)),
            " (your manager) sees of your learning: in my note before each 1:1 with them I know of, "
            "and when they type ",
            code("team"),
            ":",
        )
    else:
        text = Text(
            "I don't know who your manager is (the org chart names nobody), so nobody sees any of this. "
            "Your choices are kept for when that changes:"
        )
    lines = [
        Text(
            "Lessons you complete and your pathway progress: ",
            bold("shared" if choices.completions else "not shared"),
        ),
        Text("How you rate lessons: ", bold("shared" if choices.ratings else "not shared")),
    ]
    buttons = [
        Button(
            "Stop sharing completions" if choices.completions else "Share completions",
            COMPLETIONS,
            "off" if choices.completions else "on",
        ),
        Button(
            "Stop sharing ratings" if choices.ratings else "Share ratings",
            RATINGS,
            "off" if choices.ratings else "on",
        ),
    ]
    mine = takeaways_of(session=session, user_id=caller.person_id, limit=TAKEAWAYS_SHOWN)
    if mine:
        for number, (progress, item) in enumerate(mine, start=1):
            state = "shared" if progress.share_with_manager else "private"
            said = italic(f"“{progress.takeaway}”")
            lines.append(Text(f"Takeaway {number}, ", bold(state), ": ", said, " — ", item.title))
            label = f"Make {number} private" if progress.share_with_manager else f"Share {number}"
            value = f"{progress.id}|{'off' if progress.share_with_manager else 'on'}"
            buttons.append(Button(label, TAKEAWAY, value))
    else:
        lines.append(
            Text("Takeaways: none yet. When you note one after a lesson, you choose whether to share it.")
        )
    if mine:
        lines.append(Text("Takeaways are shared one by one, only those you choose to share."))
    return Reply(text=text + "\n" + bullets(lines), buttons=tuple(buttons))


def show_sharing(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`sharing` in chat, only in private (it lists private takeaways)."""
    if not incoming.is_direct:
        return [Reply(text=IN_PRIVATE, ephemeral=True)]
    return [sharing_view(session=session, caller=caller)]


def on_sharing(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """A sharing button: change that one choice and show the view again."""
    now = bot.clock.now()
    if action.name in (COMPLETIONS, RATINGS) and action.value in ("on", "off"):
        on = action.value == "on"
        if action.name == COMPLETIONS:
            set_sharing(session=session, user_id=caller.person_id, completions=on, now=now)
        else:
            set_sharing(session=session, user_id=caller.person_id, ratings=on, now=now)
    elif action.name == TAKEAWAY:
        progress_id, _, choice = action.value.partition("|")
        if not (progress_id.isascii() and progress_id.isdigit()) or choice not in ("on", "off"):
            return [Reply(text=BAD_CHOICE, ephemeral=True)]
        changed = set_takeaway_shared(
            session=session, user_id=caller.person_id, progress_id=int(progress_id), shared=choice == "on"
        )
        if changed is None:
            return [Reply(text=NOT_YOURS, ephemeral=True)]
    else:
        return [Reply(text=BAD_CHOICE, ephemeral=True)]
    session.flush()
    view = sharing_view(session=session, caller=caller)
    return [Reply(text=Text("Saved. ") + view.text, buttons=view.buttons, replace_message=True)]


def home_sharing(*, session: Session, caller: Caller) -> SharingView:
    """The Home section's summary of the same choices."""
    manager = manager_of(session=session, person=caller.person)
    choices = sharing_of(session=session, user_id=caller.person_id)
    mine = takeaways_of(session=session, user_id=caller.person_id, limit=1000)
    shared = sum(1 for progress, _ in mine if progress.share_with_manager)
    return SharingView(
        manager=_name(manager) if manager is not None else None,
        completions=choices.completions,
        ratings=choices.ratings,
        takeaways_shared=shared,
        takeaways_private=len(mine) - shared,
    )
