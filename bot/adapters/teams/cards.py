"""Replies as Adaptive Cards with Universal Actions: text, quote, answer card and buttons, escaped.

Every neutral `Button` becomes an `Action.Execute` (verb `lb:<name>`, data `{lb, value, keep}`),
so a click arrives as an `adaptiveCard/action` invoke and its answer replaces the card in place
for the clicker. `keep` carries what the card showed (text and lesson), because Teams does not
send the clicked card back: the updated card is rebuilt from it. Any reply renders generically
(text + card fields + buttons), so new buttons need no Teams code.
"""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any

from bot import markup
from bot.adapters.teams.text import escape, render, safe_url
from bot.events import AnswerCard, Button, Reply
from bot.markup import Text, bold
from content_index.cards import curation_note

Card = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"  # the newest Adaptive Card version Teams renders for bots
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERB_PREFIX = "lb:"
TEXT_LIMIT = 3000
TITLE_LIMIT = 150
LABEL_LIMIT = 60
VALUE_LIMIT = 2000
STYLES = {"primary": "positive", "danger": "destructive"}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _block(text: str, **style: Any) -> Card:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


class _Body:
    """Card body elements and the mention entities their text needs."""

    def __init__(self) -> None:
        self.items: list[Card] = []
        self.entities: list[dict[str, Any]] = []

    def text(self, value: str | None, **style: Any) -> None:
        rendered = render(value)
        if rendered.text:
            self.items.append(_block(clip(rendered.text, TEXT_LIMIT), **style))
            self.entities += rendered.entities


def _lesson(body: _Body, card: AnswerCard) -> None:
    """Title, summary, why it matters (pillar and impact), then duration, the link and who curated it."""
    body.items.append(_block(escape(clip(card.title, TITLE_LIMIT)), size="Large", weight="Bolder"))
    summary = escape(card.summary)
    if len(summary) > TEXT_LIMIT:
        more = f" [Read more]({card.url})" if safe_url(card.url) else ""
        summary = clip(summary, TEXT_LIMIT - len(more)) + more
    body.items.append(_block(summary))
    why = " — ".join(escape(part) for part in (card.pillar, card.impact) if part)
    if why:
        body.items.append(_block(f"**Why it matters:** {why}"))
    facts = []
    if card.duration_minutes:
        facts.append(f"⏱ {card.duration_minutes} min")
    if safe_url(card.url):
        facts.append(f"[Open the lesson]({card.url})")
    note = curation_note(card)
    if note:
        facts.append(escape(note))
    if facts:
        body.items.append(_block(" · ".join(facts), isSubtle=True, size="Small"))


def _content(body: _Body, reply: Reply) -> None:
    if reply.to_channel and reply.asker:
        body.text(Text("From ", markup.mention(reply.asker, "the asker")), isSubtle=True)
    body.text(reply.text)
    if reply.quote:
        quoted = _Body()
        quoted.text(reply.quote, isSubtle=True)
        if quoted.items:
            body.items.append({"type": "Container", "style": "emphasis", "items": quoted.items})
            body.entities += quoted.entities
    if reply.card:
        _lesson(body, reply.card)


def keep(reply: Reply) -> dict[str, Any]:
    """What a card shows besides its buttons, as JSON for the buttons' data (to rebuild it after a click)."""
    return {
        "text": markup.to_json(reply.text),
        "quote": markup.to_json(reply.quote),
        "card": asdict(reply.card) if reply.card else None,
    }


def kept(data: dict[str, Any] | None) -> Reply:
    """The reply stored by `keep` (no buttons); anything malformed reads as an empty reply."""
    if not isinstance(data, dict):
        return Reply()
    card = data.get("card")
    try:
        lesson = AnswerCard(**card) if isinstance(card, dict) else None
    except TypeError:
        lesson = None
    quote = data.get("quote")
    return Reply(
        text=markup.from_json(data.get("text")),
        quote=None if quote is None else markup.from_json(quote),
        card=lesson,
    )


def button_action(button: Button, shown: dict[str, Any]) -> Card:
    """A neutral button as `Action.Execute`: the verb names the action, the data carries its value."""
    action: Card = {
        "type": "Action.Execute",
        "title": clip(str(button.label), LABEL_LIMIT),
        "verb": f"{VERB_PREFIX}{button.name}",
        "data": {
            "lb": button.name,
            "value": button.value[:VALUE_LIMIT],
            "label": clip(str(button.label), LABEL_LIMIT),
            "keep": shown,
        },
    }
    if button.style in STYLES:
        action["style"] = STYLES[button.style]
    return action


def _card(body: _Body, actions: list[Card]) -> Card:
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body.items or [_block(" ")],
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    if body.entities:
        card["msteams"]["entities"] = body.entities
    return card


def reply_card(reply: Reply) -> Card:
    """A reply as one Adaptive Card: asker, text, quote, lesson, then its buttons."""
    body = _Body()
    _content(body, reply)
    shown = keep(reply)
    return _card(body, [button_action(button, shown) for button in reply.buttons])


def updated_card(shown: dict[str, Any] | None, reply: Reply) -> Card:
    """The clicked card after a reply that replaces its buttons: what it showed, then the reply."""
    body = _Body()
    before = kept(shown)
    _content(body, before)
    _content(body, reply)
    text = Text(before.text, "\n\n", reply.text) if before.text and reply.text else before.text or reply.text
    combined = keep(Reply(text=text, quote=before.quote, card=before.card))
    return _card(body, [button_action(button, combined) for button in reply.buttons])


def chosen_card(shown: dict[str, Any] | None, label: str) -> Card:
    """The clicked card with its buttons replaced by a note of the choice, so the click shows."""
    body = _Body()
    _content(body, kept(shown))
    body.text(Text("You chose ", bold(label), "."), isSubtle=True)
    return _card(body, [])


def needs_card(reply: Reply) -> bool:
    """Plain text goes as a message; anything with a lesson, quote or buttons as a card."""
    return bool(reply.card or reply.buttons or reply.quote or reply.to_channel)


def attachment(card: Card) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": card}


def summary_text(reply: Reply) -> str:
    """The plain notification text that goes with a card (shown in the activity feed)."""
    parts = [str(reply.text or ""), reply.card.title if reply.card else ""]
    return clip(" ".join(p for p in parts if p).strip() or "learnbot", 500)


def search_result(lesson: AnswerCard) -> dict[str, Any]:
    """A lesson as a message extension result: the card to share, and the list entry to pick it by."""
    text = lesson.summary if len(lesson.summary) <= 200 else lesson.summary[:199].rstrip() + "…"
    preview = {"title": html.escape(clip(lesson.title, TITLE_LIMIT)), "text": html.escape(text)}
    return {
        **attachment(reply_card(Reply(card=lesson))),
        "preview": {"contentType": "application/vnd.microsoft.card.thumbnail", "content": preview},
    }
