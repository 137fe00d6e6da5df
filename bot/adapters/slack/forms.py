"""The 'Announce a pathway' modal: an L&D admin's campaign form, and its submission as an `Announcement`.

The form asks for a pathway, channels, a message, and when (now, once at a time, or a cron in
a time zone). A submission becomes structured data (channel ids, a local time), never text to
re-parse; what is wrong is named next to the field it concerns, in the form.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.blocks import input_block, plain_text
from bot.adapters.slack.retries import UNREACHABLE
from bot.events import Announcement, ChannelMention

CALLBACK = "lb_campaign"
Errors = dict[str, str]
log = logging.getLogger(__name__)


def open_form(client: WebClient, trigger_id: str, view: dict[str, Any], what: str) -> None:
    """Open a modal form; a refusal or a dropped connection is logged (the trigger cannot be reused)."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("slack views.open for the %s failed: %s", what, exc.response.get("error"))
    except UNREACHABLE as exc:
        log.warning("slack views.open for the %s did not complete: %r", what, exc)


def campaign_modal(pathways: list[tuple[str, str]], zone: str) -> dict[str, Any]:
    """The form: which pathway, where, what to say, and when (now, once, or a cron in a zone)."""
    options = [{"text": plain_text(title, 75), "value": pid} for pid, title in pathways[:100]]
    pathway = {"type": "static_select", "action_id": "pathway", "options": options}
    channels = {
        "type": "multi_conversations_select",
        "action_id": "channels",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    message = {"type": "plain_text_input", "action_id": "message", "multiline": True, "max_length": 2000}
    cron = {"type": "plain_text_input", "action_id": "cron", "max_length": 100}
    tz = {"type": "plain_text_input", "action_id": "tz", "initial_value": zone, "max_length": 64}
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": plain_text("Announce a pathway", 24),
        "submit": plain_text("Announce", 24),
        "close": plain_text("Cancel", 24),
        "private_metadata": json.dumps({"zone": zone})[:3000],
        "blocks": [
            input_block("lb_c_pathway", "Pathway to invite people to", pathway),
            input_block("lb_c_channels", "Post in", channels),
            input_block("lb_c_message", "Announcement", message),
            input_block(
                "lb_c_at",
                "Post once at (leave empty to post now)",
                {"type": "datetimepicker", "action_id": "at"},
                optional=True,
            ),
            input_block("lb_c_cron", "Or repeat on a schedule (cron, e.g. 0 9 * * mon)", cron, optional=True),
            input_block("lb_c_tz", "Time zone of the schedule", tz, optional=True),
        ],
    }


def announcement(view: dict[str, Any], *, now: float | None = None) -> tuple[Announcement | None, Errors]:
    """What a submitted form asks for, or the errors to show by block (Slack puts each under its field)."""
    values = view.get("state", {}).get("values", {})

    def field(block: str, action: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(action) or {}

    pathway = (field("lb_c_pathway", "pathway").get("selected_option") or {}).get("value")
    channels = [str(c) for c in field("lb_c_channels", "channels").get("selected_conversations") or []]
    message = (field("lb_c_message", "message").get("value") or "").strip()
    at = field("lb_c_at", "at").get("selected_date_time")
    cron = (field("lb_c_cron", "cron").get("value") or "").strip()
    zone_name = (field("lb_c_tz", "tz").get("value") or "").strip() or _metadata_zone(view)
    errors: Errors = {}
    if not pathway:
        errors["lb_c_pathway"] = "Pick a pathway."
    if not channels:
        errors["lb_c_channels"] = "Pick at least one channel."
    if not message:
        errors["lb_c_message"] = "Write what the announcement should say."
    zone = _zone(zone_name)
    if zone_name and zone is None:
        errors["lb_c_tz"] = "Use a time zone name like Europe/London."
    if at and cron:
        errors["lb_c_cron"] = "Give either a time to post once or a schedule, not both."
    elif cron and not _valid_cron(cron):
        errors["lb_c_cron"] = "A cron has five fields like 0 9 * * mon, without quotes."
    if at and int(at) <= (time.time() if now is None else now):
        errors["lb_c_at"] = "That time has already passed; leave it empty to post now."
    if errors or not pathway:
        return None, errors
    local = None
    if at:
        local = dt.datetime.fromtimestamp(int(at), zone or dt.UTC).replace(tzinfo=None)
    return (
        Announcement(
            pathway_id=pathway,
            channels=tuple(ChannelMention(channel, channel) for channel in channels),
            message=message,
            at=local,
            cron=cron or None,
            timezone=zone_name or ("UTC" if local else None),
        ),
        {},
    )


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _valid_cron(cron: str) -> bool:
    if '"' in cron or len(cron.split()) != 5:
        return False
    try:
        CronTrigger.from_crontab(cron)
    except ValueError:
        return False
    return True


def _metadata_zone(view: dict[str, Any]) -> str:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return ""
    zone = data.get("zone") if isinstance(data, dict) else None
    return zone if isinstance(zone, str) else ""
