"""The 'Save as micro-lesson' modal: prefilled from a message, submitted as a neutral `LessonDraft`.

Title is the message's first line, summary its text; the expert picks a pillar and may add an
impact tag, skills and audience. Where the message was (channel, ts) rides in the modal's
private metadata; the link back is asked from Slack (chat.getPermalink) after submission.
Errors are shown next to the field they concern.
"""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack.blocks import input_block, plain_text
from bot.adapters.slack.syntax import parse
from bot.events import LessonDraft

CALLBACK = "lb_save_lesson"
TITLE_MAX = 200
SUMMARY_MAX = 3000
Errors = dict[str, str]


def prefill(slack_text: str) -> tuple[str, str]:
    """(title, summary) from a message: its first line (cut at a word) and its whole text, as plain text."""
    text = parse(slack_text).text.strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > 150:
        first = first[:150].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return first, text[:SUMMARY_MAX]


def lesson_modal(slack_text: str, pillars: list[tuple[str, str]], *, channel: str, ts: str) -> dict[str, Any]:
    """The form, prefilled from the message; pillars are (id, name) from app.yaml."""
    title, summary = prefill(slack_text)
    title_input = {"type": "plain_text_input", "action_id": "title", "max_length": TITLE_MAX}
    if title:
        title_input["initial_value"] = title
    summary_input = {
        "type": "plain_text_input",
        "action_id": "summary",
        "multiline": True,
        "max_length": SUMMARY_MAX,
    }
    if summary:
        summary_input["initial_value"] = summary
    options = [{"text": plain_text(name, 75), "value": pid} for pid, name in pillars[:100]]
    text_input = {"type": "plain_text_input", "max_length": 200}
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": plain_text("Save as micro-lesson", 24),
        "submit": plain_text("Save", 24),
        "close": plain_text("Cancel", 24),
        "private_metadata": json.dumps({"channel": channel, "ts": ts})[:3000],
        "blocks": [
            input_block("lb_l_title", "Title", title_input),
            input_block("lb_l_summary", "Summary: what someone learns from it", summary_input),
            input_block(
                "lb_l_pillar",
                "Strategic pillar it serves",
                {
                    "type": "static_select",
                    "action_id": "pillar",
                    "options": options,
                },
            ),
            input_block(
                "lb_l_impact",
                "Impact: what it changes for the business",
                {
                    **text_input,
                    "action_id": "impact",
                },
                optional=True,
            ),
            input_block(
                "lb_l_skills",
                "Skills (comma-separated)",
                {**text_input, "action_id": "skills"},
                optional=True,
            ),
            input_block(
                "lb_l_audience",
                "Audience: roles it is for (comma-separated; empty = everyone)",
                {
                    **text_input,
                    "action_id": "audience",
                },
                optional=True,
            ),
        ],
    }


def _words(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def where_from(view: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, ts) of the original message, from the modal's private metadata."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    channel, ts = data.get("channel"), data.get("ts")
    return (channel if isinstance(channel, str) else None), (ts if isinstance(ts, str) else None)


def lesson_draft(view: dict[str, Any]) -> tuple[LessonDraft | None, Errors]:
    """The submitted form as a draft (without its link yet), or the errors to show by block."""
    values = view.get("state", {}).get("values", {})

    def field(block: str, action: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(action) or {}

    title = " ".join((field("lb_l_title", "title").get("value") or "").split())
    summary = (field("lb_l_summary", "summary").get("value") or "").strip()
    pillar = (field("lb_l_pillar", "pillar").get("selected_option") or {}).get("value")
    impact = " ".join((field("lb_l_impact", "impact").get("value") or "").split()) or None
    errors: Errors = {}
    if not title:
        errors["lb_l_title"] = "Give the lesson a short title."
    if not summary:
        errors["lb_l_summary"] = "Say what someone learns from it."
    if not pillar:
        errors["lb_l_pillar"] = "Pick the pillar it serves."
    if errors:
        return None, errors
    channel, ts = where_from(view)
    return (
        LessonDraft(
            title=title,
            summary=summary,
            pillar=pillar,
            impact=impact,
            skills=_words(field("lb_l_skills", "skills").get("value") or ""),
            audience=_words(field("lb_l_audience", "audience").get("value") or ""),
            channel_id=channel,
            message_id=ts,
        ),
        {},
    )
