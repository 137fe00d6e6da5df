"""Slack's own surfaces over the router: the App Home tab and the /learn browse modal.

Both are neutral data from the router (`HomeView`, `Catalogue`) rendered by `views`; a Slack
failure is logged (and, for the modal, explained) rather than raised into a listener.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import views
from bot.adapters.slack.delivery import REFUSED, Place, tell
from bot.events import Who

if TYPE_CHECKING:
    from bot.router import Router

log = logging.getLogger(__name__)


def publish_home(router: Router, client: WebClient, who: Who) -> None:
    """A fresh Home tab for this person (never stale progress); failures only logged."""
    try:
        client.views_publish(user_id=who.user_id, view=views.home_view(router.home(who)))
    except SlackApiError as exc:
        log.warning("slack views.publish failed for %s: %s", who.user_id, exc.response.get("error"))
    except Exception:
        log.exception("building the Home tab for %s failed", who.user_id)


def open_browse(router: Router, client: WebClient, trigger_id: str, who: Who) -> None:
    """The browse modal, showing the lessons this person's audience may see."""
    try:
        client.views_open(trigger_id=trigger_id, view=views.browse_modal(router.browse(who)))
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("slack views.open failed for %s: %s", who.user_id, error)
        tell(client, Place(user=who.user_id, channel=None), REFUSED.format(error=error))


def update_browse(
    router: Router, client: WebClient, view: dict, who: Who, query: str, pillar: str | None
) -> None:
    """The browse modal redrawn in place for a new pillar (or search words)."""
    catalogue = router.browse(who, query=query, pillar=pillar)
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=views.browse_modal(catalogue))
    except SlackApiError as exc:
        log.warning("slack views.update failed for %s: %s", who.user_id, exc.response.get("error"))
