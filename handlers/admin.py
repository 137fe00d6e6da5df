"""L&D admin commands in chat: edit pathways, enrol people, announce campaigns, read the numbers.

    pathways                                  list pathways with steps and learners
    pathway ID                                show its steps
    pathway ID add LESSON [at N]              insert a step (default: last)
    pathway ID remove LESSON                  drop a step
    pathway ID move LESSON to N               reorder
    pathway ID reset                          back to app.yaml's steps
    enrol PERSON in PATHWAY                   put someone on a pathway
    announce PATHWAY in #CH [#CH…] [at YYYY-MM-DD HH:MM | cron "m h dom mon dow"] [tz ZONE]: MESSAGE
    campaigns                                 posts, clicks and joins per campaign
    campaign ID pause | resume | delete       stop posting (waiting posts cancelled), post again, delete
    nudges status                             the outbox: queued, sent, failed, deferred
    link PERSON to PERSON                     one person on two platforms (the first joins the second)

PERSON is an @mention, `platform:id` or an email. The router runs these only for admins, and
only in private; anything else falls through to a normal answer. People and channels named
in a message arrive as neutral mentions (`Incoming.mentions`, `Incoming.channels`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Announcement, ChannelMention, Incoming, Reply
from bot.markup import Text, bold, code
from nudges import campaigns
from nudges.clock import as_utc
from nudges.pathways import PathwayEditError, add_step, join, move_step, remove_step, reset_to_config
from nudges.status import summary, where
from storage.content import get_content
from storage.models import Enrolment, Pathway, Person
from storage.pathways import pathway_steps
from storage.people import identify, identity_of, merge_people, person_by_email

Handler = Callable[..., list[Reply]]
_ID = r"[a-z0-9][a-z0-9-]*"
_PATHWAY = re.compile(
    rf"^pathway\s+(?P<id>{_ID})(?:\s+(?P<verb>show|add|remove|move|reset)(?:\s+(?P<lesson>{_ID}))?"
    r"(?:\s+(?:at|to)\s+(?P<n>\d+))?)?\s*$",
    re.IGNORECASE,
)
_ENROL = re.compile(rf"^enrol{{1,2}}\s+(?P<user>\S+)\s+(?:in|on)\s+(?P<id>{_ID})\s*$", re.IGNORECASE)
_LINK = re.compile(r"^link\s+(?P<a>\S+)\s+(?:to|with)\s+(?P<b>\S+)\s*$", re.IGNORECASE)
_ANNOUNCE = re.compile(
    rf"^announce\s+(?P<id>{_ID})\s+(?:in|to)\s+(?P<channels>(?:#[\w.-]+[\s,]*)+?)"
    r"(?:\s+at\s+(?P<at>\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}))?"
    r"(?:\s+cron\s+\"(?P<cron>[^\"]+)\")?"
    r"(?:\s+tz\s+(?P<tz>[\w/+-]+))?"
    r"\s*:\s*(?P<message>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_CHANNEL = re.compile(r"#([\w.-]+)")
_CAMPAIGN = re.compile(r"^campaign\s+(?P<id>[\w.-]+)\s+(?P<verb>pause|resume|delete)\s*$", re.IGNORECASE)
ANNOUNCE_USAGE = (
    'Usage: announce PATHWAY in #channel [#more] [at 2026-12-01 09:00 | cron "0 9 * * mon"] '
    "[tz Europe/London]: your message"
)


def _text(incoming: Incoming) -> str:
    """The message with each @mention as `@<their user id>`: a display name may contain spaces."""
    text = incoming.text.strip()
    for mention in sorted(incoming.mentions, key=lambda m: -len(m.label)):
        text = text.replace(f"@{mention.label}", f"@{mention.user_id}")
    return text


def match(incoming: Incoming) -> Handler | None:
    """The admin command this message reads like, if any (the router checks who may run it)."""
    text = _text(incoming)
    first = text.split(maxsplit=1)[0].lower() if text else ""
    if text.lower() == "pathways":
        return list_pathways
    if text.lower() == "campaigns":
        return list_campaigns
    if first == "campaign" and _CAMPAIGN.match(text):
        return change_campaign
    if text.lower() == "nudges status":
        return nudge_status
    if first == "pathway" and _PATHWAY.match(text):
        return edit_pathway
    if first in ("enrol", "enroll") and _ENROL.match(text):
        return enrol_user
    if first == "announce":
        return announce
    if first == "link" and _LINK.match(text):
        return link_people
    return None


def _steps_text(session: Session, pathway_id: str) -> str:
    lines = []
    for number, content_id in enumerate(pathway_steps(session=session, pathway_id=pathway_id), start=1):
        item = get_content(session=session, content_id=content_id)
        if item is None or not item.active:
            lines.append(f"{number}. {content_id} — missing from the library: learners skip this step")
        else:
            lines.append(f"{number}. {content_id} — {item.title}")
    return "\n".join(lines)


def list_pathways(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
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


def edit_pathway(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Show or change a pathway's steps; chat edits are kept over app.yaml until `reset`."""
    found = _PATHWAY.match(incoming.text.strip())
    assert found is not None
    pathway_id, verb = found["id"].lower(), (found["verb"] or "show").lower()
    lesson, number = found["lesson"], int(found["n"]) if found["n"] else None
    now, editor = bot.clock.now(), caller.person.display_name or caller.who.user_id
    try:
        if verb == "add" and lesson:
            add_step(
                session=session, pathway_id=pathway_id, content_id=lesson, at=number, editor=editor, now=now
            )
        elif verb == "remove" and lesson:
            remove_step(session=session, pathway_id=pathway_id, content_id=lesson, editor=editor, now=now)
        elif verb == "move" and lesson and number:
            move_step(
                session=session, pathway_id=pathway_id, content_id=lesson, to=number, editor=editor, now=now
            )
        elif verb == "reset":
            reset_to_config(session=session, config=bot.config, pathway_id=pathway_id)
        elif verb != "show":
            usage = f"pathway {pathway_id} add LESSON [at N] | remove LESSON | move LESSON to N"
            return [Reply(text=Text("Usage: ", code(usage)))]
    except PathwayEditError as exc:
        return [Reply(text=f"I couldn't change that: {exc}.")]
    pathway = session.get(Pathway, pathway_id)
    if pathway is None:
        return [
            Reply(
                text=Text(
                    "I couldn't find a pathway called ",
                    code(pathway_id),
                    ". Type ",
                    code("pathways"),
                    " for the list.",
                )
            )
        ]
    title = bold(pathway.title)
    if verb == "show":
        head = Text(title, f" ({pathway.id}), one step every {pathway.cadence_days} days:")
    elif verb == "reset":
        head = Text(title, " is back to the steps in app.yaml:")
    else:
        keep = Text("kept over app.yaml until ", code(f"pathway {pathway.id} reset"))
        head = Text("Saved. ", title, " now has these steps (", keep, "):")
    if verb == "show" and pathway.edited_at:
        head += f"\n(steps edited in chat by {pathway.edited_by}; app.yaml's steps apply again after a reset)"
    return [Reply(text=head, quote=_steps_text(session, pathway.id))]


def _person_named(word: str, incoming: Incoming, session: Session, now: dt.datetime) -> Person | str:
    """The person an admin named: an @mention, `platform:id`, an email, or an id on this platform.

    A mentioned account is real on its platform, so it may be new to learnbot; anything else
    must already be known, so a typo never creates a phantom learner. Returns why not, otherwise.
    """
    label = word.removeprefix("@")
    mentioned = next((m for m in incoming.mentions if m.label == label or m.user_id == label), None)
    if mentioned is not None:
        return identify(
            session=session,
            platform=incoming.platform,
            platform_user_id=mentioned.user_id,
            workspace=incoming.workspace,
            now=now,
        )
    if "@" in label:
        found = person_by_email(session=session, email=label)
        return found if found is not None else f"I don't know anyone with the email {label} yet"
    platform, _, user_id = label.partition(":") if ":" in label else (incoming.platform, "", label)
    identity = identity_of(session=session, platform=platform, platform_user_id=user_id)
    person = session.get(Person, identity.person_id) if identity else None
    if person is None:
        return f"I don't know {label} yet: mention them (@name), or use platform:id or an email"
    return person


def enrol_user(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Put a person on a pathway; they get its first step at their next working-hours slot."""
    found = _ENROL.match(_text(incoming))
    assert found is not None
    now = bot.clock.now()
    person = _person_named(found["user"], incoming, session, now)
    if isinstance(person, str):
        return [Reply(text=f"I couldn't enrol them: {person}.")]
    assert person.id is not None
    label = found["user"].removeprefix("@")
    name = person.display_name or next((m.label for m in incoming.mentions if m.user_id == label), label)
    try:
        _, created = join(
            session=session, user_id=person.id, pathway_id=found["id"].lower(), joined_by="admin", now=now
        )
    except PathwayEditError as exc:
        return [Reply(text=f"I couldn't enrol them: {exc}.")]
    if not created:
        return [Reply(text=Text(f"{name} is already on ", code(found["id"]), "."))]
    return [
        Reply(
            text=Text(
                f"Enrolled {name} in ",
                code(found["id"]),
                ": the first step goes out at their next working-hours slot.",
            )
        )
    ]


def link_people(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """One person on two platforms: the first person's identities and learning join the second's."""
    found = _LINK.match(_text(incoming))
    assert found is not None
    now = bot.clock.now()
    source, target = (_person_named(found[k], incoming, session, now) for k in ("a", "b"))
    for named in (source, target):
        if isinstance(named, str):
            return [Reply(text=f"I couldn't link them: {named}.")]
    assert isinstance(source, Person) and isinstance(target, Person)
    assert source.id is not None and target.id is not None
    if source.id == target.id:
        return [Reply(text="They're already one person.")]
    merge_people(session=session, source_id=source.id, target_id=target.id)
    name = target.display_name or target.email or found["b"]
    return [
        Reply(text=f"Linked: {found['a']} and {found['b']} are now one person ({name}), with one record.")
    ]


def announce(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`announce …` typed in chat: read into an `Announcement`, then the same path as a form."""
    found = _ANNOUNCE.match(incoming.text.strip())
    if found is None:
        return [Reply(text=ANNOUNCE_USAGE)]
    named = {c.label: c for c in incoming.channels}
    channels = tuple(
        named.get(m[1]) or ChannelMention(channel_id=m[1], label=m[1])
        for m in _CHANNEL.finditer(found["channels"])
    )
    at = None
    if found["at"]:
        at = dt.datetime.fromisoformat(found["at"].replace(" ", "T"))
    announcement = Announcement(
        pathway_id=found["id"].lower(),
        channels=channels,
        message=found["message"].strip(),
        at=at,
        cron=found["cron"],
        timezone=found["tz"],
    )
    return announce_campaign(announcement, session=session, bot=bot, caller=caller)


def announce_campaign(
    announcement: Announcement, *, session: Session, bot: LearnBot, caller: Caller
) -> list[Reply]:
    """Create a campaign: now, once at a time, or on a cron, in a time zone; says what went wrong if not."""
    pathway = session.get(Pathway, announcement.pathway_id)
    if pathway is None or not pathway.active:
        return [
            Reply(
                text=Text(
                    "There is no running pathway called ",
                    code(announcement.pathway_id),
                    ". Type ",
                    code("pathways"),
                    " for the list.",
                )
            )
        ]
    if not announcement.channels:
        return [Reply(text="Name at least one channel to post in. " + ANNOUNCE_USAGE)]
    zone_name = announcement.timezone or bot.config.nudges.default_timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return [
            Reply(
                text=Text("I don't know the time zone ", code(zone_name), "; use a name like Europe/London.")
            )
        ]
    now = bot.clock.now()
    send_at = None
    if announcement.at is not None:
        local = announcement.at if announcement.at.tzinfo else announcement.at.replace(tzinfo=zone)
        send_at = as_utc(local)
        if send_at <= now:
            return [Reply(text="That time has already passed; leave out the time to post now.")]
    try:
        campaign = campaigns.create(
            session=session,
            title=pathway.title,
            message=announcement.message,
            pathway_id=pathway.id,
            channels=[c.channel_id for c in announcement.channels],
            platform=caller.who.platform,
            created_by=caller.who.user_id,
            now=now,
            cron=announcement.cron,
            send_at=send_at,
            timezone=zone_name,
        )
    except campaigns.CampaignError as exc:
        return [Reply(text=f"I couldn't make that campaign: {exc}. {ANNOUNCE_USAGE}")]
    except ValueError as exc:
        return [Reply(text=f"I couldn't read that schedule: {exc}. {ANNOUNCE_USAGE}")]
    where = ", ".join(f"#{c.label}" for c in announcement.channels)
    upcoming = campaigns.next_occurrence(campaign, now)
    if campaign.cron and upcoming:
        first = f"{upcoming.astimezone(zone):%a %d %b %H:%M}"
        when = Text("on the schedule ", code(campaign.cron), f" ({zone_name}); first post {first}")
    elif send_at:
        when = Text(f"at {send_at.astimezone(zone):%a %d %b %Y %H:%M} {zone_name}")
    else:
        when = Text("now")
    return [
        Reply(
            text=Text(
                "Campaign ",
                code(campaign.id),
                f" will post in {where} ",
                when,
                ". Type ",
                code("campaigns"),
                " for clicks and joins.",
            )
        )
    ]


def list_campaigns(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    rows = campaigns.stats(session=session, now=bot.clock.now())
    if not rows:
        return [Reply(text="No campaigns yet. Try: " + ANNOUNCE_USAGE.removeprefix("Usage: "))]
    lines = []
    for row in rows:
        upcoming = f", next {row.next_at:%Y-%m-%d %H:%M} UTC" if row.next_at else ""
        state = "" if row.campaign.active and not row.campaign.paused else ", paused"
        if not row.campaign.active:
            state = ", ended"
        counts = f"{row.posted} posted, {row.waiting} waiting, {row.clicks} clicks, {row.joins} joins"
        lines.append(f"• {row.campaign.id} ({row.campaign.source}{state}): {counts}{upcoming}")
    return [Reply(text="Campaigns:", quote="\n".join(lines))]


def change_campaign(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`campaign ID pause|resume|delete`."""
    found = _CAMPAIGN.match(_text(incoming))
    assert found is not None
    campaign_id, verb = found["id"], found["verb"].lower()
    try:
        if verb == "pause":
            _, cancelled = campaigns.pause(session=session, campaign_id=campaign_id)
            waiting = f"; {cancelled} waiting posts cancelled" if cancelled else ""
            text = Text(
                "Paused ",
                code(campaign_id),
                f"{waiting}. ",
                code(f"campaign {campaign_id} resume"),
                " undoes it.",
            )
        elif verb == "resume":
            campaign = campaigns.resume(session=session, campaign_id=campaign_id)
            upcoming = campaigns.next_occurrence(campaign, bot.clock.now())
            nxt = (
                f"; next post {upcoming:%Y-%m-%d %H:%M} UTC" if upcoming else "; it has no post still to come"
            )
            text = Text("Resumed ", code(campaign_id), nxt + ".")
        else:
            cancelled = campaigns.remove(session=session, campaign_id=campaign_id)
            waiting = f" and {cancelled} waiting posts" if cancelled else ""
            text = Text("Deleted ", code(campaign_id), f", its clicks and joins{waiting}.")
    except campaigns.CampaignError as exc:
        return [Reply(text=f"I couldn't {verb} that campaign: {exc}.")]
    return [Reply(text=text)]


def nudge_status(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """The outbox counts, who cannot be reached yet, and what is due next."""
    status = summary(session=session, config=bot.config, now=bot.clock.now(), senders=bot.senders or None)
    line = ", ".join(f"{name} {count}" for name, count in status.counts.items())
    unreachable = (
        f" {status.unreachable} people have a nudge waiting and no way to reach them yet"
        " (they get it once they message me)."
        if status.unreachable
        else ""
    )
    due = [f"{as_utc(row.due_at):%Y-%m-%d %H:%M} UTC {row.kind} → {where(row)}" for row in status.next_rows]
    return [Reply(text=f"Outbox: {line}.{unreachable}", quote="\n".join(due) or None)]
