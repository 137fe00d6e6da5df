"""The 'Announce a pathway' modal: an L&D admin's campaign form, translated into the `announce` command.

A global shortcut opens the form (pathway, channels, message, once-at time or cron, time
zone). Submitting it becomes the same `announce …` chat command an admin could type, so the
campaign logic stays in `handlers.admin`; the answer (created, or what was wrong) arrives in
the admin's DM with learnbot.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters import slack_blocks as kit

if TYPE_CHECKING:
    from bot.adapters.slack import SlackAdapter

log = logging.getLogger(__name__)

SHORTCUT = "lb_new_campaign"
CALLBACK = "lb_campaign"
ADMINS_ONLY = "Only L&D admins can announce campaigns. Ask one of them, or type a question for me instead."


def _plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": kit.clip(text, limit) or " ", "emoji": True}


def _input(block_id: str, label: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label, 2000),
        "element": element,
        "optional": optional,
    }


def campaign_modal(pathways: list[tuple[str, str]], zone: str) -> dict[str, Any]:
    """The form: which pathway, where, what to say, and when (now, once, or a cron in a zone)."""
    options = [{"text": _plain(title, 75), "value": pid} for pid, title in pathways[:100]]
    blocks = [
        _input(
            "lb_c_pathway",
            "Pathway to invite people to",
            {"type": "static_select", "action_id": "pathway", "options": options},
        ),
        _input(
            "lb_c_channels",
            "Post in",
            {
                "type": "multi_conversations_select",
                "action_id": "channels",
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            },
        ),
        _input(
            "lb_c_message",
            "Announcement",
            {"type": "plain_text_input", "action_id": "message", "multiline": True, "max_length": 2000},
        ),
        _input(
            "lb_c_at",
            "Post once at (leave empty to post now)",
            {"type": "datetimepicker", "action_id": "at"},
            optional=True,
        ),
        _input(
            "lb_c_cron",
            "Or repeat on a schedule (cron, e.g. 0 9 * * mon)",
            {"type": "plain_text_input", "action_id": "cron", "max_length": 100},
            optional=True,
        ),
        _input(
            "lb_c_tz",
            "Time zone of the schedule",
            {"type": "plain_text_input", "action_id": "tz", "initial_value": zone, "max_length": 64},
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": _plain("Announce a pathway", 24),
        "submit": _plain("Announce", 24),
        "close": _plain("Cancel", 24),
        "blocks": blocks,
    }


def command_text(values: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The `announce …` command a submitted form means, or errors by block for the form to show."""

    def field(block: str, action: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(action) or {}

    pathway = (field("lb_c_pathway", "pathway").get("selected_option") or {}).get("value")
    channels = field("lb_c_channels", "channels").get("selected_conversations") or []
    message = " ".join((field("lb_c_message", "message").get("value") or "").split())
    at = field("lb_c_at", "at").get("selected_date_time")
    cron = (field("lb_c_cron", "cron").get("value") or "").strip()
    zone = (field("lb_c_tz", "tz").get("value") or "").strip()
    errors = {}
    if not channels:
        errors["lb_c_channels"] = "Pick at least one channel."
    if at and cron:
        errors["lb_c_cron"] = "Give either a time to post once or a schedule, not both."
    if '"' in cron:
        errors["lb_c_cron"] = "A cron has five fields like 0 9 * * mon, without quotes."
    if errors or not pathway or not message:
        return None, errors
    text = f"announce {pathway} in " + " ".join(f"<#{c}>" for c in channels)
    if at:
        when = dt.datetime.fromtimestamp(int(at), dt.UTC)
        text += f" at {when:%Y-%m-%d %H:%M} tz UTC"
    elif cron:
        text += f' cron "{cron}"' + (f" tz {zone}" if zone else "")
    return text + f": {message}", {}


def register(adapter: SlackAdapter) -> None:
    """Add the shortcut and the form's submission to the adapter's Bolt app."""

    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        _, role = adapter._who(client, user)
        if role != "admin":
            adapter._tell(client, _place(user), ADMINS_ONLY)
            return
        config = adapter.router.bot.config
        zone = str((adapter._profile(client, user) or {}).get("tz") or config.nudges.default_timezone)
        pathways = [(p.id, p.title) for p in config.pathways]
        try:
            client.views_open(trigger_id=body["trigger_id"], view=campaign_modal(pathways, zone))
        except SlackApiError as exc:
            log.warning("slack views.open for the campaign form failed: %s", exc.response.get("error"))

    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        text, errors = command_text(view.get("state", {}).get("values", {}))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = body["user"]["id"]
        if text is None:
            return
        dm = adapter._dm(client, user)
        incoming = adapter._incoming(client, user=user, text=text, channel=dm, direct=True)
        if incoming.role != "admin":
            adapter._tell(client, _place(user), ADMINS_ONLY)
            return
        adapter._run(client, _place(user, dm), lambda: adapter.router.on_message(incoming))

    adapter.app.shortcut(SHORTCUT)(on_shortcut)
    adapter.app.view(CALLBACK)(on_submit)


def _place(user: str, channel: str | None = None) -> Any:
    from bot.adapters.slack import Place

    return Place(user=user, channel=channel)
