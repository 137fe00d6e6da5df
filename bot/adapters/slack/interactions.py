"""Bolt listeners for clicks and forms: our buttons (messages and Home), the browse modal, the campaign form.

Every listener acks at once and queues the work (`work`); an overloaded process says so.
A click becomes a neutral `Action` for the router, and its replies
update the clicked message (or go to the DM, from Home). The 'Announce a pathway' form opens
for admins only (the router says who is one) and its submission reaches the router as an
`Announcement`; what is wrong in it is shown in the form. 'Save as micro-lesson' lives in `curation`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.adapters.slack import delivery, files, forms, surfaces, views
from bot.adapters.slack.blocks import ACTION_PREFIX, action_name
from bot.adapters.slack.curation import LessonShortcut
from bot.adapters.slack.delivery import Place
from bot.adapters.slack.manifest import CAMPAIGN_SHORTCUT, PLATFORM
from bot.adapters.slack.people import People, reach
from bot.adapters.slack.work import BUSY, Work
from bot.events import Action

if TYPE_CHECKING:
    from bot.router import Router

log = logging.getLogger(__name__)

ADMINS_ONLY = "Only L&D admins can announce campaigns. Ask one of them, or type a question for me instead."


class Interactions:
    """Clicks, modals and forms, as router calls."""

    def __init__(self, router: Router, people: People, work: Work) -> None:
        self.router = router
        self.people = people
        self.work = work

    def register(self, app: App) -> None:
        app.action(re.compile(f"^{ACTION_PREFIX}"))(self.on_button)
        app.action(views.BROWSE_PILLAR_ACTION)(self.on_browse_pillar)
        app.action(re.compile(f"^{views.OPEN_LINK_ACTION}"))(self.on_open_link)
        app.view(views.BROWSE_CALLBACK)(self.on_browse_submit)
        app.shortcut(CAMPAIGN_SHORTCUT)(self.on_campaign_shortcut)
        app.view(forms.CALLBACK)(self.on_campaign_submit)
        LessonShortcut(self.router, self.people, self.work).register(app)  # 'Save as micro-lesson'

    def on_button(self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """One of our buttons, on a message or the Home tab: acked at once; the router decides, we render."""
        clicked, user = body["actions"][0], body["user"]["id"]
        container, message = body.get("container", {}), body.get("message") or {}
        from_home = container.get("type") == "view"
        channel = None if from_home else (body.get("channel") or {}).get("id") or container.get("channel_id")
        place = Place(
            user=user,
            channel=channel,
            thread_ts=message.get("thread_ts"),
            message_ts=None if from_home else container.get("message_ts") or message.get("ts"),
            blocks=message.get("blocks") or [],
            response_url=body.get("response_url"),
            ephemeral=bool(container.get("is_ephemeral")),
            from_home=from_home,
        )
        in_dm = bool(channel and channel.startswith("D"))

        def job() -> None:
            who = self.people.who(client, user, context.team_id)
            action = Action(
                platform=PLATFORM,
                user_id=user,
                name=action_name(clicked["action_id"]),
                value=clicked.get("value", ""),
                channel_id=channel or "",
                message_id=place.message_ts,
                thread_id=place.thread_ts,
                is_direct=from_home or in_dm,
                user_name=who.name,
                user_email=who.email,
                user_timezone=who.timezone,
                workspace=who.workspace,
                reach=reach(who, channel if in_dm and not place.ephemeral else None),
                raw=body,
            )
            label = (clicked.get("text") or {}).get("text", "")
            work = files.sending_files(client, place, lambda: self.router.on_action(action))
            delivery.run(client, place, work, clicked_label=label)
            if from_home:
                surfaces.publish_home(self.router, client, who)

        if not self.work.submit(job):
            note = replace(place, ephemeral=True) if place.response_url else place
            self.work.soon(lambda: delivery.tell(client, note, BUSY))
        ack()

    def on_open_link(self, ack: Ack) -> None:
        """Link buttons still send a click; Slack opens the URL itself."""
        ack()

    def on_browse_submit(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """Search from the modal, answered within Slack's 3 seconds: the results at once when we know who
        is asking, else a 'looking' modal now and the results through views.update when we do."""
        query, pillar = views.browse_state(view)
        user, team = body["user"]["id"], context.team_id
        who = self.people.known(user, team)
        if who is not None:
            try:
                catalogue = self.router.browse(who, query=query, pillar=pillar)
            except Exception:
                log.exception("browsing for %s failed", user)
                catalogue, note = surfaces.waiting_for(self.router, query, pillar), delivery.SORRY
            else:
                note = None
            ack(response_action="update", view=views.browse_modal(catalogue, note=note))
            return

        def job() -> None:
            found = self.people.who(client, user, team)
            surfaces.update_browse(self.router, client, {"id": view["id"]}, found, query, pillar)

        note = views.SEARCHING if self.work.submit(job) else views.BUSY
        waiting = views.browse_modal(surfaces.waiting_for(self.router, query, pillar), note=note)
        ack(response_action="update", view=waiting)

    def on_browse_pillar(
        self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """A pillar picked in the browse modal: the modal is updated in place with that pillar's lessons."""
        view = body["view"]
        chosen = (body["actions"][0].get("selected_option") or {}).get("value")
        query, _ = views.browse_state(view)
        user, team = body["user"]["id"], context.team_id

        def job() -> None:
            who = self.people.who(client, user, team)
            pillar = None if chosen == "all" else chosen
            surfaces.update_browse(self.router, client, view, who, query, pillar)

        self.work.submit(job)
        ack()

    def on_campaign_shortcut(
        self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """The global shortcut: the campaign form for admins; anyone else is told why not."""
        user, trigger = body["user"]["id"], body["trigger_id"]

        def job() -> None:
            who = self.people.who(client, user, context.team_id)
            if not self.router.is_admin(who):
                delivery.tell(client, Place(user=user, channel=None), ADMINS_ONLY)
                return
            config = self.router.bot.config
            zone = who.timezone or config.nudges.default_timezone
            pathways = [(p.id, p.title) for p in config.pathways]
            forms.open_form(client, trigger, forms.campaign_modal(pathways, zone), "campaign form")

        self.work.soon(job)  # the trigger id lives 3 seconds: the urgent lane
        ack()

    def on_campaign_submit(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """A submitted form: errors back into the form; else it closes and the outcome goes to the DM."""
        announcement, errors = forms.announcement(view)
        if errors or announcement is None:
            ack(response_action="errors", errors=errors)
            return
        user = body["user"]["id"]
        place = Place(user=user, channel=None, from_home=True)  # replies go to the DM

        def job() -> None:
            who = self.people.who(client, user, context.team_id)
            delivery.run(client, place, lambda: self.router.on_announce(who, announcement))

        if not self.work.submit(job):
            self.work.soon(lambda: delivery.tell(client, place, BUSY))
        ack()
