"""The buttons under nudges (Start, Done, Snooze, Not now, Stop nudges; Applied it, Not yet) and takeaways.

Each is honoured at once: Stop nudges cancels anything queued for the learner in the same
transaction; Snooze and Not now move the next nudge before the planner looks again. A button
only acts for the learner it was sent to (the enrolment's person is the caller).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.access import Caller, manager_of
from bot.app import LearnBot
from bot.events import Action, Button, Incoming, Reply
from bot.markup import Text, bold, code, link
from handlers.rating import ask_after_done
from nudges.hours import window_for
from nudges.kinds import personal_names
from nudges.kinds.follow_up import MAX_FOLLOW_UPS
from nudges.kinds.one_on_one import upcoming_note
from nudges.messages import meeting_words
from nudges.pathways import complete_step, position, start_step
from nudges.planner import promised_slot, start_of_next_day, when_words
from storage.content import get_content
from storage.models import ContentItem, Enrolment, Pathway, Person, StepProgress
from storage.outbox import cancel_pending
from storage.pathways import active_steps
from storage.preferences import set_opted_out, snooze

NOT_YOURS = "That button was for someone else's nudge, so I left it alone."
GONE = Text(
    "Sorry, I couldn't find that step any more. Type ", code("/home"), " or ask me for what you need."
)
STOPPED = Text(
    "Done: no more nudges from me. You can still ask me anything, and type ",
    code("nudges on"),
    " whenever you want them back.",
)
RESUMED = "Nudges are back on. I'll send your next step at a good time on a working day."
SHARED = (
    "Noted: you're happy for your manager to see this takeaway. I don't know who your manager is yet, so "
    "nobody sees it for now; only takeaways you share will ever be shown to them."
)
SHARED_CHANGE = Text(" Type ", code("sharing"), " to change it.")
PRIVATE = "Kept private: only you can see it."
TAKEAWAY_MINUTES = 30
TAKEAWAY_LIMIT = 280


def _step(action: Action, session: Session, caller: Caller) -> tuple[Enrolment, Pathway, ContentItem] | Reply:
    """The caller's enrolment and lesson from `enrolment_id|content_id`, or a reply saying why not."""
    enrolment_id, _, content_id = action.value.partition("|")
    enrolment = session.get(Enrolment, int(enrolment_id)) if enrolment_id.isdigit() else None
    item = get_content(session=session, content_id=content_id)
    if enrolment is None or item is None:
        return Reply(text=GONE)
    if enrolment.user_id != caller.person_id:
        return Reply(text=NOT_YOURS, ephemeral=True)
    pathway = session.get(Pathway, enrolment.pathway_id)
    if pathway is None:
        return Reply(text=GONE)
    return enrolment, pathway, item


def on_start(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Start: note it, hand over the link, keep Done at hand."""
    found = _step(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    enrolment, _, item = found
    start_step(session=session, enrolment=enrolment, content_id=item.id, now=bot.clock.now())
    text = Text("Enjoy ", bold(item.title), "!")
    if item.duration_minutes:
        text += f" It takes about {item.duration_minutes} minutes."
    if item.url:
        text += Text(" Here it is: ", link(item.url, item.url))
    text += "\nPress Done when you've finished."
    buttons = (Button("Done", "nudge_done", action.value, style="primary"),)
    return [Reply(text=text, buttons=buttons, replace_message=True)]


def on_done(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Done: mark the step complete, say what comes next, and when the 'did you apply it?' question comes."""
    found = _step(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    enrolment, pathway, item = found
    days = bot.config.nudges.follow_up_days
    _, finished = complete_step(
        session=session, enrolment=enrolment, content_id=item.id, now=bot.clock.now(), follow_up_days=days
    )
    steps = active_steps(session=session, pathway_id=pathway.id)
    where = position(steps, item.id)
    text = Text("Nice work: ", bold(item.title), " is done")
    text += f" (step {where.number} of {where.total})." if where.number else "."
    if finished:
        text += Text(" That completes ", bold(pathway.title), ". 🎉")
    elif where.next_id:
        upcoming = get_content(session=session, content_id=where.next_id)
        if upcoming is not None:
            text += Text(" Next up: ", bold(upcoming.title), "; I'll send it at a good time.")
    text += f" In {days} days I'll ask whether you got to use it."
    ask = ask_after_done(item, session=session, bot=bot, caller=caller)  # once per lesson
    return [Reply(text=text, replace_message=True), *ask]


def on_snooze(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Snooze: no nudges until tomorrow, then this step again (in working hours); says which day that is."""
    found = _step(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    enrolment, _, item = found
    now = bot.clock.now()
    person = session.get(Person, caller.person_id)
    assert person is not None
    window = window_for(bot.config.nudges, person.timezone)
    until = start_of_next_day(now, window)
    snooze(session=session, user_id=caller.person_id, until=until, now=now)
    _again(session, enrolment, item.id, until)
    slot, _ = promised_slot(session=session, config=bot.config, person=person, earliest=until, now=now)
    when = when_words(slot, now, window.zone) if slot else "when your working hours next allow"
    text = Text("Snoozed. I'll bring ", bold(item.title), f" back {when}, in working hours.")
    return [Reply(text=text, replace_message=True)]


def on_not_now(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Not now: this pathway waits a full cadence, then this step comes again."""
    found = _step(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    enrolment, pathway, item = found
    now = bot.clock.now()
    person = session.get(Person, caller.person_id)
    assert person is not None
    window = window_for(bot.config.nudges, person.timezone)
    # from the start of the day a cadence away, so "in 7 days" means that day's working hours
    earliest = start_of_next_day(now + dt.timedelta(days=pathway.cadence_days - 1), window)
    _again(session, enrolment, item.id, earliest)
    slot, _ = promised_slot(session=session, config=bot.config, person=person, earliest=earliest, now=now)
    when = when_words(slot, now, window.zone, days=pathway.cadence_days) if slot else "later"
    text = Text(
        "No problem. I'll check back about ",
        bold(item.title),
        f" {when}; it's on your Home whenever you want it sooner.",
    )
    return [Reply(text=text, replace_message=True)]


def _again(session: Session, enrolment: Enrolment, content_id: str, at: dt.datetime) -> None:
    """The learner answered: this step comes again at `at`, with its one reminder if that is ignored."""
    enrolment.next_nudge_at = at
    enrolment.nudged_step, enrolment.nudges_for_step = content_id, 0
    session.add(enrolment)


def on_stop(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Stop nudges: opt out at once and cancel anything queued (only under the caller's own nudge)."""
    enrolment_id = action.value.partition("|")[0]
    enrolment = session.get(Enrolment, int(enrolment_id)) if enrolment_id.isdigit() else None
    if enrolment is not None and enrolment.user_id != caller.person_id:
        return [Reply(text=NOT_YOURS, ephemeral=True)]
    return [Reply(text=_opt_out(caller, session, bot), replace_message=True)]


def _opt_out(caller: Caller, session: Session, bot: LearnBot) -> Text:
    set_opted_out(session=session, user_id=caller.person_id, opted_out=True, now=bot.clock.now())
    cancel_pending(session=session, user_id=caller.person_id, kinds=personal_names())
    return STOPPED


def nudges_off(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`nudges off`: the same as the Stop nudges button."""
    return [Reply(text=_opt_out(caller, session, bot))]


def nudges_on(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`nudges on`: opt back in; any snooze is cleared too."""
    now = bot.clock.now()
    set_opted_out(session=session, user_id=caller.person_id, opted_out=False, now=now)
    snooze(session=session, user_id=caller.person_id, until=now, now=now)
    return [Reply(text=RESUMED)]


# ---- follow-ups and takeaways ----------------------------------------------------------------


def _progress(action: Action, session: Session, caller: Caller) -> tuple[StepProgress, ContentItem] | Reply:
    progress = session.get(StepProgress, int(action.value)) if action.value.isdigit() else None
    item = get_content(session=session, content_id=progress.content_id) if progress else None
    if progress is None or item is None:
        return Reply(text=GONE)
    enrolment = session.get(Enrolment, progress.enrolment_id)
    if enrolment is None or enrolment.user_id != caller.person_id:
        return Reply(text=NOT_YOURS, ephemeral=True)
    return progress, item


def on_applied(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Applied it: record it and invite a one-line takeaway."""
    found = _progress(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    progress, item = found
    now = bot.clock.now()
    progress.applied_at = progress.applied_at or now
    progress.takeaway_asked_at, progress.follow_up_at = now, None
    session.add(progress)
    text = Text(
        "Brilliant, that's what counts. What's one thing you took away from ",
        bold(item.title),
        "? Reply with one line and I'll keep it with your progress, or press Skip.",
    )
    return [
        Reply(text=text, buttons=(Button("Skip", "takeaway_skip", str(progress.id)),), replace_message=True)
    ]


def on_not_yet(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Not yet: ask once more a few days later, then leave it."""
    found = _progress(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    progress, item = found
    days = bot.config.nudges.follow_up_days
    if progress.follow_ups < MAX_FOLLOW_UPS:
        now = bot.clock.now()
        person = session.get(Person, caller.person_id)
        assert person is not None
        window = window_for(bot.config.nudges, person.timezone)  # that day's working hours, from their start
        progress.follow_up_at = start_of_next_day(now + dt.timedelta(days=days - 1), window)
        slot, window = promised_slot(
            session=session, config=bot.config, person=person, earliest=progress.follow_up_at, now=now
        )
        when = when_words(slot, now, window.zone, days=days) if slot else "later"
        text = Text("No problem. I'll ask about ", bold(item.title), f" again {when}.")
    else:
        progress.follow_up_at = None
        text = Text("No problem; I won't ask again. When you do use it, it's on your Home.")
    session.add(progress)
    return [Reply(text=text, replace_message=True)]


def on_takeaway_skip(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    found = _progress(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    progress, _ = found
    progress.takeaway_asked_at = None
    session.add(progress)
    return [Reply(text="Skipped. Well done on putting it to use!", replace_message=True)]


def on_share(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Share with my manager / Keep it private: the learner's choice for this takeaway."""
    found = _progress(action, session, caller)
    if isinstance(found, Reply):
        return [found]
    progress, _ = found
    progress.share_with_manager = action.name == "takeaway_share"
    session.add(progress)
    if not progress.share_with_manager:
        return [Reply(text=PRIVATE, replace_message=True)]
    return [Reply(text=_shared_with(session, bot, caller), replace_message=True)]


def _shared_with(session: Session, bot: LearnBot, caller: Caller) -> Text:
    """Who will see a shared takeaway and when: promised only as far as it is known to happen."""
    now = bot.clock.now()
    note = upcoming_note(session=session, config=bot.config, report=caller.person, now=now)
    if note is not None:
        manager, meeting = note
        zone = window_for(bot.config.nudges, caller.person.timezone).zone
        return Text(
            "Shared: ",
            bold(manager.display_name or "your manager"),
            f" will see it in my note before your 1:1 {meeting_words(meeting.start_at, now, zone)}. "
            "Only takeaways you share will ever be shown to them.",
            SHARED_CHANGE,
        )
    manager = manager_of(session=session, person=caller.person)
    if manager is not None:
        return Text(
            "Shared: ",
            bold(manager.display_name or "your manager"),
            " sees it when they look at their team's learning. Only takeaways you share will ever be "
            "shown to them.",
            SHARED_CHANGE,
        )
    return Text(SHARED)


def awaiting_takeaway(
    incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller
) -> StepProgress | None:
    """The step whose takeaway this DM answers: asked in the last 30 minutes; a question is not a takeaway."""
    text = incoming.text.strip()
    if not incoming.is_direct or not text or text.endswith("?"):
        return None
    since = bot.clock.now() - dt.timedelta(minutes=TAKEAWAY_MINUTES)
    query = (
        select(StepProgress)
        .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
        .where(Enrolment.user_id == caller.person_id, col(StepProgress.takeaway_asked_at) >= since)
        .order_by(col(StepProgress.takeaway_asked_at).desc())
    )
    return session.exec(query).first()


def save_takeaway(incoming: Incoming, progress: StepProgress, *, session: Session) -> list[Reply]:
    """Keep the one-line takeaway and ask whether the manager may see it."""
    line = " ".join(incoming.text.split())[:TAKEAWAY_LIMIT]
    progress.takeaway, progress.takeaway_asked_at = line, None
    session.add(progress)
    value = str(progress.id)
    buttons = (
        Button("Share with my manager", "takeaway_share", value, style="primary"),
        Button("Keep it private", "takeaway_private", value),
    )
    return [Reply(text="Saved your takeaway:", quote=line, buttons=buttons)]
