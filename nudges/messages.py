"""Every nudge's wording, in one place, in neutral markup: a step, a reminder, a follow-up, a campaign post.

Adapters render and escape the spans for their platform, so titles and messages written by
admins go in as they are.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.events import Button, Reply
from bot.markup import Text, bold
from content_index.cards import card_for
from nudges.clock import as_utc
from storage.models import Campaign, ContentItem, Pathway


def step_reply(
    pathway: Pathway,
    item: ContentItem,
    *,
    pillar: str | None,
    imperative: str,
    number: int,
    total: int,
    enrolment_id: int,
    reminder: bool,
) -> Reply:
    """The next step: where it sits in the pathway, why it matters, the lesson, and the choices."""
    opener = "Still up for it? " if reminder else ""
    text = Text(f"{opener}Step {number} of {total} on your pathway ", bold(pathway.title), ".")
    reason = " — ".join(part for part in (pillar, imperative) if part)
    if reason:
        text += f"\nIt supports {reason}."
    value = f"{enrolment_id}|{item.id}"
    buttons = (
        Button("Start", "nudge_start", value, style="primary"),
        Button("Done", "nudge_done", value),
        Button("Snooze", "nudge_snooze", value),
        Button("Not now", "nudge_not_now", value),
        Button("Stop nudges", "nudge_stop", value, style="danger"),
    )
    return Reply(text=text, card=card_for(item, pillar_name=pillar, confidence=1.0), buttons=buttons)


def follow_up_reply(item: ContentItem, progress_id: int, completed: dt.datetime, zone: ZoneInfo) -> Reply:
    """'Did you get to apply X?' with Applied it / Not yet."""
    finished = as_utc(completed).astimezone(zone).strftime("%A")
    text = Text(
        "Did you get to apply ",
        bold(item.title),
        f"? You finished it on {finished}; using it at work is what makes it stick.",
    )
    value = str(progress_id)
    buttons = (
        Button("Applied it", "follow_up_applied", value, style="primary"),
        Button("Not yet", "follow_up_not_yet", value),
    )
    return Reply(text=text, buttons=buttons)


def announcement(campaign: Campaign, pathway: Pathway | None, pillar: str | None) -> Reply:
    """The channel post: the announcement, why the pathway matters, and Join / What's in it? buttons."""
    text = Text("📣 ", bold(campaign.title))
    if campaign.message:
        text += "\n" + campaign.message
    buttons: tuple[Button, ...] = ()
    if pathway is not None:
        reason = " — ".join(part for part in (pillar, pathway.imperative) if part)
        if pathway.title != campaign.title:
            every = f"one short step every {pathway.cadence_days} days"
            text += Text("\nThe pathway: ", bold(pathway.title), f", {every}.")
        if reason:
            text += f"\nWhy it matters: {reason}."
        value = f"{campaign.id}|{pathway.id}"
        buttons = (
            Button(f"Join {pathway.title}", "campaign_join", value, style="primary"),
            Button("What's in it?", "campaign_details", value),
        )
    return Reply(text=text, buttons=buttons)
