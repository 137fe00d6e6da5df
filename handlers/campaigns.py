"""Clicks on a campaign post: Join (enrols; counted as a join) and What's in it? (the steps; a click).

The button's value names a campaign and its pathway: both must exist, the campaign must
invite to that pathway, and the pathway must still run; otherwise the clicker is told privately.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Button, Reply
from bot.markup import Text, bold
from nudges import campaigns
from nudges.pathways import PathwayEditError, join
from storage.content import get_content
from storage.models import Campaign, Pathway
from storage.pathways import pathway_steps

GONE = "Sorry, that campaign's pathway is no longer running. Ask an L&D admin which one to take instead."


UNKNOWN = "Sorry, I don't know that campaign. Ask an L&D admin which pathway to join."


def _parse(action: Action, session: Session) -> tuple[str, Pathway] | str:
    """(campaign id, pathway) from a campaign button, or what to tell the clicker."""
    campaign_id, _, pathway_id = action.value.partition("|")
    campaign = session.get(Campaign, campaign_id) if 0 < len(campaign_id) <= 100 else None
    if campaign is None or campaign.pathway_id != pathway_id:
        return UNKNOWN
    pathway = session.get(Pathway, pathway_id)
    if pathway is None or not pathway.active:
        return GONE
    return campaign_id, pathway


def on_join(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Join from a campaign post: enrol, count it, and tell the learner (privately) what happens next."""
    parsed = _parse(action, session)
    if isinstance(parsed, str):
        return [Reply(text=parsed, ephemeral=True)]
    campaign_id, pathway = parsed
    now = bot.clock.now()
    try:
        _, created = join(
            session=session, user_id=caller.person_id, pathway_id=pathway.id, joined_by="campaign", now=now
        )
    except PathwayEditError:
        return [Reply(text=GONE, ephemeral=True)]
    campaigns.record(
        session=session,
        campaign_id=campaign_id,
        kind=campaigns.JOIN if created else campaigns.CLICK,
        user_id=caller.person_id,
        channel_id=action.channel_id,
        now=now,
    )
    if not created:
        return [Reply(text=Text("You're already on ", bold(pathway.title), ": keep going!"), ephemeral=True)]
    text = Text(
        "You've joined ",
        bold(pathway.title),
        ". I'll send you the first step in a direct message, "
        f"in your working hours, then one every {pathway.cadence_days} days.",
    )
    return [Reply(text=text, ephemeral=True)]


def on_details(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """What's in it?: the pathway's steps, privately, with the Join button again."""
    parsed = _parse(action, session)
    if isinstance(parsed, str):
        return [Reply(text=parsed, ephemeral=True)]
    campaign_id, pathway = parsed
    campaigns.record(
        session=session,
        campaign_id=campaign_id,
        kind=campaigns.CLICK,
        user_id=caller.person_id,
        channel_id=action.channel_id,
        now=bot.clock.now(),
    )
    lines = []
    for number, content_id in enumerate(pathway_steps(session=session, pathway_id=pathway.id), start=1):
        item = get_content(session=session, content_id=content_id)
        minutes = f" ({item.duration_minutes} min)" if item and item.duration_minutes else ""
        lines.append(f"{number}. {item.title if item else content_id}{minutes}")
    text = Text(bold(pathway.title), f": {len(lines)} steps, one every {pathway.cadence_days} days.")
    join_button = Button(f"Join {pathway.title}", "campaign_join", action.value, style="primary")
    return [Reply(text=text, quote="\n".join(lines), buttons=(join_button,), ephemeral=True)]
