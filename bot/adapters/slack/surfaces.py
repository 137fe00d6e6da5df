"""Slack's own surfaces over the router: the App Home tab and the /learn browse modal.

Both are neutral data from the router (`HomeView`, `Catalogue`) rendered by `views`; a Slack
failure is logged (and, for the modal, explained) rather than raised into a listener.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import views
from bot.adapters.slack.delivery import REFUSED, UNREACHABLE, Place, tell
from bot.events import Catalogue, Who

if TYPE_CHECKING:
    from bot.router import Router

log = logging.getLogger(__name__)


def publish_home(router: Router, client: WebClient, who: Who) -> None:
    """A fresh Home tab for this person (never stale progress); failures only logged."""
    try:
        client.views_publish(user_id=who.user_id, view=views.home_view(router.home(who)))
    except SlackApiError as exc:
        log.warning("slack views.publish failed for %s: %s", who.user_id, exc.response.get("error"))
    except UNREACHABLE as exc:
        log.warning("slack views.publish for %s did not complete: %r", who.user_id, exc)
    except Exception:
        log.exception("building the Home tab for %s failed", who.user_id)


def waiting_for(router: Router, query: str = "", pillar: str | None = None) -> Catalogue:
    """The browse modal's frame (words, pillar menu) while its lessons are being found."""
    pillars = tuple((p.id, p.name) for p in router.bot.config.pillars)
    return Catalogue(query=query, pillar=pillar, pillars=pillars)


def open_browse(
    router: Router,
    client: WebClient,
    trigger_id: str,
    user: str,
    who: Who | None,
    look_up: Callable[[], Who],
) -> None:
    """The browse modal, showing the lessons this person's audience may see.

    When who they are is not known yet (`who` None), the modal opens at once (the trigger id
    lives 3 seconds) saying it is looking, and is updated once `look_up()` has said who they are.
    """
    try:
        if who is not None:
            client.views_open(trigger_id=trigger_id, view=views.browse_modal(router.browse(who)))
            return
        waiting = views.browse_modal(waiting_for(router), note=views.SEARCHING)
        opened = client.views_open(trigger_id=trigger_id, view=waiting)["view"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("slack views.open failed for %s: %s", user, error)
        tell(client, Place(user=user, channel=None), REFUSED.format(error=error))
        return
    except UNREACHABLE as exc:
        log.warning("slack views.open for %s did not complete: %r", user, exc)
        return
    update_browse(router, client, {"id": opened["id"]}, look_up(), "", None)


def update_browse(
    router: Router, client: WebClient, view: dict, who: Who, query: str, pillar: str | None
) -> None:
    """The browse modal redrawn in place for a new pillar (or search words)."""
    catalogue = router.browse(who, query=query, pillar=pillar)
    try:
        modal = views.browse_modal(catalogue)
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)
    except SlackApiError as exc:
        log.warning("slack views.update failed for %s: %s", who.user_id, exc.response.get("error"))
    except UNREACHABLE as exc:
        log.warning("slack views.update for %s did not complete: %r", who.user_id, exc)
