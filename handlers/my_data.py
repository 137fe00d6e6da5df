"""A learner's own data: `export my data` and `delete my data`, each confirmed with a button that expires.

Only the person who asked can confirm (the button carries their person id and when it was offered),
only in a direct message, and only within `CONFIRM_MINUTES`. The export is one JSON file written to
learnbot's data folder (`exports/`); the reply says where. Erasing keeps anonymous counts only
(`storage.personal_data`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Attachment, Button, Incoming, Reply
from bot.markup import Text, bold, code
from storage.personal_data import erase_person, export_json, export_person

CONFIRM_MINUTES = 10
EXPORT_COMMANDS = ("export my data", "download my data")
DELETE_COMMANDS = ("delete my data", "erase my data", "forget me")
IN_PRIVATE = Text(
    "Your data is private, so let's do this in a direct message: send me ",
    code("export my data"),
    " or ",
    code("delete my data"),
    " there.",
)
NOT_YOURS = "Only the person who asked can confirm that, so I left it alone."
CANCELLED = "Cancelled: nothing was exported or deleted."
BROKEN = "Sorry, that button no longer works. Ask me again."


def expired_text(command: str) -> Text:
    return Text(
        f"That confirmation expired (they last {CONFIRM_MINUTES} minutes), so I did nothing. Send ",
        code(command),
        " again if you still want it.",
    )


def _offer(caller: Caller, bot: LearnBot) -> str:
    return f"{caller.person_id}:{int(bot.clock.now().timestamp())}"


def _check(action: Action, caller: Caller, bot: LearnBot, command: str) -> Reply | None:
    """Why this click may not go ahead (someone else's button, expired, mangled), or None."""
    person, _, issued = action.value.partition(":")
    if not person.isdigit() or not issued.isdigit():
        return Reply(text=BROKEN, replace_message=True)
    if int(person) != caller.person_id:
        return Reply(text=NOT_YOURS, ephemeral=True)
    age = bot.clock.now() - dt.datetime.fromtimestamp(int(issued), dt.UTC)
    if age > dt.timedelta(minutes=CONFIRM_MINUTES) or age < dt.timedelta(0):
        return Reply(text=expired_text(command), replace_message=True)
    return None


def ask_export(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`export my data`: say what the file holds and ask to confirm."""
    if not incoming.is_direct:
        return [Reply(text=IN_PRIVATE, ephemeral=True)]
    text = Text(
        "I can put everything learnbot stores about you into one JSON file: your profile, the questions "
        "you asked, feedback and ratings, pathways and progress, takeaways, preferences, how I reach you, "
        "the messages I sent you, and any learning records sent to L&D's learning record store. "
        f"Confirm within {CONFIRM_MINUTES} minutes.",
    )
    buttons = (
        Button("Export my data", "my_data_export", _offer(caller, bot), style="primary"),
        Button("Cancel", "my_data_cancel", "export"),
    )
    return [Reply(text=text, buttons=buttons)]


def ask_delete(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`delete my data`: say exactly what goes and what stays, and ask to confirm."""
    if not incoming.is_direct:
        return [Reply(text=IN_PRIVATE, ephemeral=True)]
    text = Text(
        bold("This erases your personal data from learnbot and cannot be undone. "),
        "Your name, email, accounts, the text of your questions, your feedback and rating comments, "
        "your takeaways and how I reach you are deleted. What stays are anonymous counts (a question "
        "was asked, a lesson was rated 4, a step was completed) that nobody can trace back to you. "
        f"Confirm within {CONFIRM_MINUTES} minutes. Want a copy first? Send ",
        code("export my data"),
        ".",
    )
    buttons = (
        Button("Delete my data", "my_data_delete", _offer(caller, bot), style="danger"),
        Button("Cancel", "my_data_cancel", "delete"),
    )
    return [Reply(text=text, buttons=buttons)]


def write_export(data: dict[str, object], *, folder: Path, person_id: int, now: dt.datetime) -> Path:
    """The export as a file under `folder/exports/`, readable only by learnbot's own user."""
    exports = folder / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    path = exports / f"person-{person_id}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.touch(mode=0o600)
    path.write_text(export_json(data) + "\n", encoding="utf-8")
    return path


def on_export(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    refused = _check(action, caller, bot, "export my data")
    if refused is not None:
        return [refused]
    now = bot.clock.now()
    data = export_person(session=session, person_id=caller.person_id, now=now)
    path = write_export(data, folder=bot.data_dir, person_id=caller.person_id, now=now)
    counts = ", ".join(f"{name} {len(rows)}" for name, rows in data["tables"].items()) or "nothing else yet"
    text = Text(
        "Your data is ready: everything learnbot stores about you, as one JSON file, saved on learnbot's "
        "server as ",
        code(str(path.resolve())),
        " and attached here where your chat app takes files (otherwise an L&D admin can send it to you). "
        f"It holds your profile and these records: {counts}.",
    )
    attachment = Attachment(
        filename=path.name, content=path.read_text(encoding="utf-8"), title="Your learnbot data"
    )
    return [Reply(text=text, replace_message=True, attachment=attachment)]


def on_delete(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    refused = _check(action, caller, bot, "delete my data")
    if refused is not None:
        return [refused]
    sent = len(export_person(session=session, person_id=caller.person_id).get("xapi_statements_sent", []))
    erase_person(session=session, person_id=caller.person_id)
    text = (
        "Done: your personal data is erased from learnbot. What's left are anonymous counts nobody can "
        "trace back to you. If you message me again, I'll start afresh as if we had never met."
    )
    if sent:
        text += (
            f" {sent} learning record(s) had already been sent to L&D's learning record store; "
            "learnbot cannot erase them there, so ask L&D if you want those removed too."
        )
    return [Reply(text=text, replace_message=True)]


def on_cancel(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    return [Reply(text=CANCELLED, replace_message=True)]


# What the router adds to its commands and buttons.
DATA_COMMANDS = {
    **dict.fromkeys(EXPORT_COMMANDS, ask_export),
    **dict.fromkeys(DELETE_COMMANDS, ask_delete),
}
DATA_ACTIONS = {"my_data_export": on_export, "my_data_delete": on_delete, "my_data_cancel": on_cancel}
