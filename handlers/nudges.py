"""The buttons under nudges (Start, Done, Snooze, Not now, Stop nudges; Applied it, Not yet) and takeaways.

Each is honoured at once: Stop nudges cancels anything queued for the learner in the same
transaction; Snooze and Not now move the next nudge before the planner looks again. A button
only acts for the learner it was sent to.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.app import LearnBot
from bot.events import Action, Button, Incoming, Reply
from nudges.pathways import complete_step, position, start_step
from nudges.planner import MAX_FOLLOW_UPS, NUDGE_KINDS
from storage.content import get_content
from storage.models import ContentItem, Enrolment, Pathway, StepProgress, User
from storage.outbox import cancel_pending
from storage.pathways import pathway_steps
from storage.preferences import set_opted_out, snooze
from storage.users import ensure_user

NOT_YOURS = "That button was for someone else's nudge, so I left it alone."
GONE = "Sorry, I couldn't find that step any more. Type `/home` or ask me for what you need."
STOPPED = (
    "Done: no more nudges from me. You can still ask me anything, and type `nudges on` "
    "whenever you want them back."
)
RESUMED = "Nudges are back on. I'll send your next step at a good time on a working day."
TAKEAWAY_MINUTES = 30
TAKEAWAY_LIMIT = 280


def _user(platform: str, user_id: str, session: Session) -> User:
    user = ensure_user(session=session, platform=platform, platform_user_id=user_id)
    assert user.id is not None
    return user


def _step(action: Action, session: Session) -> tuple[User, Enrolment, Pathway, ContentItem] | Reply:
    """The clicker's enrolment and lesson from `enrolment_id|content_id`, or a reply saying why not."""
    enrolment_id, _, content_id = action.value.partition("|")
    enrolment = session.get(Enrolment, int(enrolment_id)) if enrolment_id.isdigit() else None
    item = get_content(session=session, content_id=content_id)
    if enrolment is None or item is None:
        return Reply(text=GONE)
    user = _user(action.platform, action.user_id, session)
    if enrolment.user_id != user.id:
        return Reply(text=NOT_YOURS, ephemeral=True)
    pathway = session.get(Pathway, enrolment.pathway_id)
    if pathway is None:
        return Reply(text=GONE)
    return user, enrolment, pathway, item


def _title(text: str) -> str:
    return text.replace("*", "")


def on_start(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Start: note it, hand over the link, keep Done at hand."""
    found = _step(action, session)
    if isinstance(found, Reply):
        return [found]
    _, enrolment, _, item = found
    start_step(session=session, enrolment=enrolment, content_id=item.id, now=bot.clock.now())
    where = f" Here it is: {item.url}" if item.url else ""
    minutes = f" It takes about {item.duration_minutes} minutes." if item.duration_minutes else ""
    text = f"Enjoy *{_title(item.title)}*!{minutes}{where}\nPress Done when you've finished."
    buttons = (Button("Done", "nudge_done", action.value, style="primary"),)
    return [Reply(text=text, buttons=buttons, replace_message=True)]


def on_done(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Done: mark the step complete, say what comes next, and when the 'did you apply it?' question comes."""
    found = _step(action, session)
    if isinstance(found, Reply):
        return [found]
    _, enrolment, pathway, item = found
    days = bot.config.nudges.follow_up_days
    _, finished = complete_step(
        session=session, enrolment=enrolment, content_id=item.id, now=bot.clock.now(), follow_up_days=days
    )
    steps = pathway_steps(session=session, pathway_id=pathway.id)
    where = position(steps, item.id)
    text = f"Nice work: *{_title(item.title)}* is done"
    text += f" (step {where.number} of {where.total})." if where.number else "."
    if finished:
        text += f" That completes *{_title(pathway.title)}*. 🎉"
    elif where.next_id:
        upcoming = get_content(session=session, content_id=where.next_id)
        if upcoming is not None:
            text += f" Next up: *{_title(upcoming.title)}*; I'll send it at a good time."
    text += f" In {days} days I'll ask whether you got to use it."
    return [Reply(text=text, replace_message=True)]


def on_snooze(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Snooze: no nudges for a day, then this step again."""
    found = _step(action, session)
    if isinstance(found, Reply):
        return [found]
    user, enrolment, _, item = found
    now = bot.clock.now()
    until = now + dt.timedelta(days=1)
    assert user.id is not None
    snooze(session=session, user_id=user.id, until=until, now=now)
    enrolment.next_nudge_at = until
    session.add(enrolment)
    text = f"Snoozed. I'll bring *{_title(item.title)}* back tomorrow, in working hours."
    return [Reply(text=text, replace_message=True)]


def on_not_now(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Not now: this pathway waits a full cadence before the next nudge."""
    found = _step(action, session)
    if isinstance(found, Reply):
        return [found]
    _, enrolment, pathway, item = found
    enrolment.next_nudge_at = bot.clock.now() + dt.timedelta(days=pathway.cadence_days)
    session.add(enrolment)
    text = (
        f"No problem. I'll check back about *{_title(item.title)}* in {pathway.cadence_days} days; "
        "it's on your Home whenever you want it sooner."
    )
    return [Reply(text=text, replace_message=True)]


def on_stop(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Stop nudges: opt out at once and cancel anything queued."""
    user = _user(action.platform, action.user_id, session)
    return [Reply(text=_opt_out(user, session, bot), replace_message=True)]


def _opt_out(user: User, session: Session, bot: LearnBot) -> str:
    assert user.id is not None
    set_opted_out(session=session, user_id=user.id, opted_out=True, now=bot.clock.now())
    cancel_pending(session=session, user_id=user.id, kinds=NUDGE_KINDS)
    return STOPPED


def nudges_off(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    """`nudges off`: the same as the Stop nudges button."""
    return [Reply(text=_opt_out(_user(incoming.platform, incoming.user_id, session), session, bot))]


def nudges_on(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    """`nudges on`: opt back in; any snooze is cleared too."""
    user = _user(incoming.platform, incoming.user_id, session)
    assert user.id is not None
    now = bot.clock.now()
    set_opted_out(session=session, user_id=user.id, opted_out=False, now=now)
    snooze(session=session, user_id=user.id, until=now, now=now)
    return [Reply(text=RESUMED)]


# ---- follow-ups and takeaways ----------------------------------------------------------------


def _progress(action: Action, session: Session) -> tuple[StepProgress, ContentItem] | Reply:
    progress = session.get(StepProgress, int(action.value)) if action.value.isdigit() else None
    item = get_content(session=session, content_id=progress.content_id) if progress else None
    if progress is None or item is None:
        return Reply(text=GONE)
    enrolment = session.get(Enrolment, progress.enrolment_id)
    user = _user(action.platform, action.user_id, session)
    if enrolment is None or enrolment.user_id != user.id:
        return Reply(text=NOT_YOURS, ephemeral=True)
    return progress, item


def on_applied(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Applied it: record it and invite a one-line takeaway."""
    found = _progress(action, session)
    if isinstance(found, Reply):
        return [found]
    progress, item = found
    now = bot.clock.now()
    progress.applied_at = progress.applied_at or now
    progress.takeaway_asked_at, progress.follow_up_at = now, None
    session.add(progress)
    text = (
        f"Brilliant, that's what counts. What's one thing you took away from *{_title(item.title)}*? "
        "Reply with one line and I'll keep it with your progress, or press Skip."
    )
    return [
        Reply(text=text, buttons=(Button("Skip", "takeaway_skip", str(progress.id)),), replace_message=True)
    ]


def on_not_yet(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Not yet: ask once more a few days later, then leave it."""
    found = _progress(action, session)
    if isinstance(found, Reply):
        return [found]
    progress, item = found
    days = bot.config.nudges.follow_up_days
    if progress.follow_ups < MAX_FOLLOW_UPS:
        progress.follow_up_at = bot.clock.now() + dt.timedelta(days=days)
        text = f"No problem. I'll ask about *{_title(item.title)}* again in {days} days."
    else:
        progress.follow_up_at = None
        text = "No problem; I won't ask again. When you do use it, it's on your Home."
    session.add(progress)
    return [Reply(text=text, replace_message=True)]


def on_takeaway_skip(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    found = _progress(action, session)
    if isinstance(found, Reply):
        return [found]
    progress, _ = found
    progress.takeaway_asked_at = None
    session.add(progress)
    return [Reply(text="Skipped. Well done on putting it to use!", replace_message=True)]


def on_share(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Share with my manager / Keep it private: the learner's choice for this takeaway."""
    found = _progress(action, session)
    if isinstance(found, Reply):
        return [found]
    progress, _ = found
    progress.share_with_manager = action.name == "takeaway_share"
    session.add(progress)
    if progress.share_with_manager:
        return [Reply(text="Shared: your manager will see it before your next 1:1.", replace_message=True)]
    return [Reply(text="Kept private: only you can see it.", replace_message=True)]


def awaiting_takeaway(incoming: Incoming, *, session: Session, bot: LearnBot) -> StepProgress | None:
    """The step whose takeaway this DM answers: asked in the last 30 minutes; a question is not a takeaway."""
    text = incoming.text.strip()
    if not incoming.is_direct or not text or text.endswith("?"):
        return None
    since = bot.clock.now() - dt.timedelta(minutes=TAKEAWAY_MINUTES)
    query = (
        select(StepProgress)
        .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
        .join(User, col(User.id) == col(Enrolment.user_id))
        .where(
            User.platform == incoming.platform,
            User.platform_user_id == incoming.user_id,
            col(StepProgress.takeaway_asked_at) >= since,
        )
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
