"""Campaign posts: each active campaign's current occurrence, once to each of its channels.

Keyed `campaign:<id>:<occurrence>:<channel>`, so every process may plan at every cron fire
and a channel still gets each occurrence once. An occurrence older than the grace period (the
process was down) is skipped, not posted late; the next one tells the planner when to wake.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlmodel import col, select

from bot.events import ConversationRef
from nudges import campaigns
from nudges.kinds.base import Message, Pending, Planning
from nudges.messages import announcement
from storage.models import Campaign, Pathway

NAME = "campaign"
log = logging.getLogger(__name__)


class CampaignPosts:
    """An L&D announcement with a pathway invitation, posted in channels."""

    name = NAME
    personal = False
    priority = 0

    def pending(self, planning: Planning) -> Iterable[Pending]:
        now = planning.now
        running = select(Campaign).where(col(Campaign.active).is_(True), col(Campaign.paused).is_(False))
        for campaign in planning.session.exec(running):
            try:  # a campaign stored with a broken schedule is skipped, never the others
                moment = campaigns.occurrence(campaign, now)
                upcoming = campaigns.next_occurrence(campaign, now)
            except (ValueError, LookupError) as exc:
                log.error("campaign %s skipped: its schedule cannot be read: %s", campaign.id, exc)
                planning.notes["campaign_errors"] += 1
                continue
            if moment is not None:
                yield Pending(NAME, moment, subject=campaign.id, data=campaign)
            if upcoming is not None:
                yield Pending(NAME, upcoming, subject=campaign.id, data=campaign)

    def messages(self, planning: Planning, due: Sequence[Pending]) -> list[Message]:
        names = {p.id: p.name for p in planning.config.pillars}
        out = []
        for pending in due:
            campaign: Campaign = pending.data
            pathway = planning.session.get(Pathway, campaign.pathway_id) if campaign.pathway_id else None
            reply = announcement(campaign, pathway, names.get(pathway.pillar_id) if pathway else None)
            stamp = "once" if campaign.cron is None else pending.earliest.strftime("%Y%m%dT%H%M%SZ")
            for channel in campaign.channels:
                key = f"campaign:{campaign.id}:{stamp}:{channel}"
                to = ConversationRef(campaign.platform, "", channel_id=channel)
                extra = {"campaign": campaign.id}
                out.append(Message(key, reply, pending, to=to, due_at=pending.earliest, extra=extra))
        return out
