"""L&D admin commands in chat: edit pathways, enrol people, announce campaigns, read the numbers.

    pathways                                  list pathways with steps and learners
    pathway ID                                show its steps
    pathway ID add LESSON [at N]              insert a step (default: last)
    pathway ID remove LESSON                  drop a step
    pathway ID move LESSON to N               reorder
    pathway ID reset                          back to app.yaml's steps
    enrol USER in PATHWAY                     put someone on a pathway
    announce PATHWAY in #CH [#CH…] [at YYYY-MM-DD HH:MM | cron "m h dom mon dow"] [tz ZONE]: MESSAGE
    campaigns                                 posts, clicks and joins per campaign
    nudges status                             the outbox: queued, sent, failed, deferred

Only admins' messages are read as commands; anything else falls through to a normal answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.app import LearnBot
from bot.events import Incoming, Reply
from nudges import campaigns
from nudges.clock import as_utc
from nudges.pathways import PathwayEditError, add_step, join, move_step, remove_step, reset_to_config
from storage.content import get_content
from storage.models import Enrolment, Pathway
from storage.outbox import next_due, status_counts
from storage.pathways import pathway_steps
from storage.users import ensure_user

Handler = Callable[..., list[Reply]]
_ID = r"[a-z0-9][a-z0-9-]*"
_PATHWAY = re.compile(
    rf"^pathway\s+(?P<id>{_ID})(?:\s+(?P<verb>show|add|remove|move|reset)(?:\s+(?P<lesson>{_ID}))?"
    r"(?:\s+(?:at|to)\s+(?P<n>\d+))?)?\s*$",
    re.IGNORECASE,
)
_ENROL = re.compile(rf"^enrol{{1,2}}\s+(?P<user>\S+)\s+(?:in|on)\s+(?P<id>{_ID})\s*$", re.IGNORECASE)
_ANNOUNCE = re.compile(
    rf"^announce\s+(?P<id>{_ID})\s+(?:in|to)\s+(?P<channels>(?:(?:<#[A-Z0-9]+(?:\|[^>]*)?>|#[\w.-]+)[\s,]*)+?)"
    r"(?:\s+at\s+(?P<at>\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}))?"
    r"(?:\s+cron\s+\"(?P<cron>[^\"]+)\")?"
    r"(?:\s+tz\s+(?P<tz>[\w/+-]+))?"
    r"\s*:\s*(?P<message>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>|#([\w.-]+)")
_USER = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$|^@?(\S+)$")
ANNOUNCE_USAGE = (
    'Usage: announce PATHWAY in #channel [#more] [at 2026-12-01 09:00 | cron "0 9 * * mon"] '
    "[tz Europe/London]: your message"
)


def match(incoming: Incoming, bot: LearnBot) -> Handler | None:
    """The admin command this message is, if it comes from an admin and reads like one."""
    if not (incoming.role == "admin" or bot.is_admin(incoming.user_id)):
        return None
    text = incoming.text.strip()
    first = text.split(maxsplit=1)[0].lower() if text else ""
    if text.lower() == "pathways":
        return list_pathways
    if text.lower() == "campaigns":
        return list_campaigns
    if text.lower() == "nudges status":
        return nudge_status
    if first == "pathway" and _PATHWAY.match(text):
        return edit_pathway
    if first in ("enrol", "enroll") and _ENROL.match(text):
        return enrol_user
    if first == "announce":
        return announce
    return None


def _steps_text(session: Session, pathway_id: str) -> str:
    lines = []
    for number, content_id in enumerate(pathway_steps(session=session, pathway_id=pathway_id), start=1):
        item = get_content(session=session, content_id=content_id)
        lines.append(f"{number}. {content_id}" + (f" — {item.title}" if item else ""))
    return "\n".join(lines)


def list_pathways(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    counts = dict(
        session.exec(
            select(Enrolment.pathway_id, func.count())
            .where(Enrolment.status == "active")
            .group_by(col(Enrolment.pathway_id))
        ).all()
    )
    lines = []
    for pathway in session.exec(
        select(Pathway).where(col(Pathway.active).is_(True)).order_by(col(Pathway.id))
    ):
        steps = len(pathway_steps(session=session, pathway_id=pathway.id))
        edited = f", steps edited in chat by {pathway.edited_by}" if pathway.edited_at else ""
        learners = counts.get(pathway.id, 0)
        lines.append(f"• {pathway.id}: {pathway.title} ({steps} steps, {learners} learners{edited})")
    return [Reply(text="Hero pathways:", quote="\n".join(lines) or "none yet")]


def edit_pathway(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Show or change a pathway's steps; chat edits are kept over app.yaml until `reset`."""
    found = _PATHWAY.match(incoming.text.strip())
    assert found is not None
    pathway_id, verb = found["id"].lower(), (found["verb"] or "show").lower()
    lesson, number = found["lesson"], int(found["n"]) if found["n"] else None
    now = bot.clock.now()
    try:
        if verb == "add" and lesson:
            add_step(
                session=session,
                pathway_id=pathway_id,
                content_id=lesson,
                at=number,
                editor=incoming.user_id,
                now=now,
            )
        elif verb == "remove" and lesson:
            remove_step(
                session=session, pathway_id=pathway_id, content_id=lesson, editor=incoming.user_id, now=now
            )
        elif verb == "move" and lesson and number:
            move_step(
                session=session,
                pathway_id=pathway_id,
                content_id=lesson,
                to=number,
                editor=incoming.user_id,
                now=now,
            )
        elif verb == "reset":
            reset_to_config(session=session, config=bot.config, pathway_id=pathway_id)
        elif verb != "show":
            return [
                Reply(
                    text=f"Usage: pathway {pathway_id} add LESSON [at N] | remove LESSON | move LESSON to N"
                )
            ]
    except PathwayEditError as exc:
        return [Reply(text=f"I couldn't change that: {exc}.")]
    pathway = session.get(Pathway, pathway_id)
    if pathway is None:
        return [Reply(text=f"I couldn't find a pathway called `{pathway_id}`. Type `pathways` for the list.")]
    if verb == "show":
        head = f"*{pathway.title}* ({pathway.id}), one step every {pathway.cadence_days} days:"
    elif verb == "reset":
        head = f"*{pathway.title}* is back to the steps in app.yaml:"
    else:
        keep = f"kept over app.yaml until `pathway {pathway.id} reset`"
        head = f"Saved. *{pathway.title}* now has these steps ({keep}):"
    if verb == "show" and pathway.edited_at:
        head += f"\n(steps edited in chat by {pathway.edited_by}; app.yaml's steps apply again after a reset)"
    return [Reply(text=head, quote=_steps_text(session, pathway.id))]


def enrol_user(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Put a person on a pathway; they get its first step at their next working-hours slot."""
    found = _ENROL.match(incoming.text.strip())
    assert found is not None
    who = _USER.match(found["user"])
    platform_user_id = (who[1] or who[2]) if who else found["user"]
    user = ensure_user(session=session, platform=incoming.platform, platform_user_id=platform_user_id)
    assert user.id is not None
    try:
        _, created = join(
            session=session,
            user_id=user.id,
            pathway_id=found["id"].lower(),
            joined_by="admin",
            now=bot.clock.now(),
        )
    except PathwayEditError as exc:
        return [Reply(text=f"I couldn't enrol them: {exc}.")]
    if not created:
        return [Reply(text=f"{platform_user_id} is already on `{found['id']}`.")]
    return [
        Reply(
            text=f"Enrolled {platform_user_id} in `{found['id']}`: the first step goes out at their next "
            "working-hours slot."
        )
    ]


def announce(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Create a campaign from chat: now, once at a time, or on a cron, in a time zone."""
    found = _ANNOUNCE.match(incoming.text.strip())
    if found is None:
        return [Reply(text=ANNOUNCE_USAGE)]
    pathway = session.get(Pathway, found["id"].lower())
    if pathway is None or not pathway.active:
        return [
            Reply(text=f"There is no running pathway called `{found['id']}`. Type `pathways` for the list.")
        ]
    channels = [m[1] or m[2] for m in _CHANNEL.finditer(found["channels"]) if m[1] or m[2]]
    zone_name = found["tz"] or bot.config.nudges.default_timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return [Reply(text=f"I don't know the time zone `{zone_name}`; use a name like Europe/London.")]
    now = bot.clock.now()
    send_at = None
    if found["at"]:
        send_at = as_utc(dt.datetime.fromisoformat(found["at"].replace(" ", "T")).replace(tzinfo=zone))
        if send_at <= now:
            return [Reply(text="That time has already passed; leave out `at` to post now.")]
    try:
        campaign = campaigns.create(
            session=session,
            title=pathway.title,
            message=found["message"].strip(),
            pathway_id=pathway.id,
            channels=channels,
            platform=incoming.platform,
            created_by=incoming.user_id,
            now=now,
            cron=found["cron"],
            send_at=send_at,
            timezone=zone_name,
        )
    except ValueError as exc:
        return [Reply(text=f"I couldn't read that schedule: {exc}. {ANNOUNCE_USAGE}")]
    where = ", ".join(f"#{c}" for c in channels)
    upcoming = campaigns.next_occurrence(campaign, now)
    if campaign.cron and upcoming:
        first = f"{upcoming.astimezone(zone):%a %d %b %H:%M}"
        when = f"on the schedule `{campaign.cron}` ({zone_name}); first post {first}"
    elif send_at:
        when = f"at {send_at.astimezone(zone):%a %d %b %Y %H:%M} {zone_name}"
    else:
        when = "now"
    return [
        Reply(
            text=f"Campaign `{campaign.id}` will post in {where} {when}. "
            "Type `campaigns` for clicks and joins."
        )
    ]


def list_campaigns(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    rows = campaigns.stats(session=session, now=bot.clock.now())
    if not rows:
        return [Reply(text="No campaigns yet. Try: " + ANNOUNCE_USAGE.removeprefix("Usage: "))]
    lines = []
    for row in rows:
        upcoming = f", next {row.next_at:%Y-%m-%d %H:%M} UTC" if row.next_at else ""
        lines.append(
            f"• {row.campaign.id} ({row.campaign.source}): {row.posted} posted, {row.waiting} waiting, "
            f"{row.clicks} clicks, {row.joins} joins{upcoming}"
        )
    return [Reply(text="Campaigns:", quote="\n".join(lines))]


def nudge_status(incoming: Incoming, *, session: Session, bot: LearnBot) -> list[Reply]:
    now = bot.clock.now()
    counts = status_counts(session=session, now=now)
    line = ", ".join(f"{name} {count}" for name, count in counts.items())
    due = [
        f"{as_utc(row.due_at):%Y-%m-%d %H:%M} UTC {row.kind} → {row.channel_id or row.payload.get('to_user')}"
        for row in next_due(session=session)
    ]
    return [Reply(text=f"Outbox: {line}.", quote="\n".join(due) or None)]
