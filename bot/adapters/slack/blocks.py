"""Replies as Block Kit: text, quote, answer card and buttons, every outside string escaped, within limits.

Text from users and from the content library goes through `mrkdwn` (escaped and inert),
and long content is cut with "…" (and a link to the lesson) rather than rejected by Slack.
"""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.mrkdwn import clip, inert, link, mention, render, safe_url
from bot.events import AnswerCard, Button, Reply
from bot.markup import Text, bold
from content_index.cards import curation_note

Block = dict[str, Any]

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTIONS_PER_BLOCK = 25
FALLBACK_TEXT = 3000
ACTION_PREFIX = "lb:"


def section(mrkdwn: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, SECTION_TEXT)}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(mrkdwn: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, SECTION_TEXT)}]}
    if block_id:
        block["block_id"] = block_id
    return block


def input_block(block_id: str, label: str, element: dict[str, Any], optional: bool = False) -> Block:
    """A form's labelled input (a modal's block)."""
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label, 2000),
        "element": element,
        "optional": optional,
    }


def plain_text(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object (Slack shows it as is: nothing to escape), cut to `limit`."""
    return {"type": "plain_text", "text": clip(str(text), limit) or " ", "emoji": True}


def _summary(text: str, url: str | None) -> str:
    """The summary, escaped; when too long for a section, cut and followed by a link to read on."""
    escaped = inert(text)
    if len(escaped) <= SECTION_TEXT:
        return escaped
    more = " " + link(url, "Read more") if safe_url(url) else ""
    return clip(escaped, SECTION_TEXT - len(more)) + more


def card_blocks(card: AnswerCard, prefix: str = "lb_card") -> list[Block]:
    """Header, summary, why it matters (pillar and impact), then duration and the link."""
    blocks: list[Block] = [
        {"type": "header", "block_id": f"{prefix}_title", "text": plain_text(card.title, HEADER_TEXT)},
        section(_summary(card.summary, card.url), f"{prefix}_summary"),
    ]
    why = " — ".join(inert(part) for part in (card.pillar, card.impact) if part)
    if why:
        blocks.append(section(f"*Why it matters:* {why}", f"{prefix}_why"))
    facts = []
    if card.duration_minutes:
        facts.append(f":stopwatch: {card.duration_minutes} min")
    if safe_url(card.url):
        facts.append(link(card.url, "Open the lesson"))
    if curation_note(card):
        facts.append(inert(curation_note(card) or ""))
    if facts:
        blocks.append(context(" · ".join(facts), f"{prefix}_facts"))
    return blocks


def button_element(button: Button, index: int) -> Block:
    """A neutral button as a Block Kit button; the index keeps action ids unique within a block."""
    element: Block = {
        "type": "button",
        "text": plain_text(button.label, BUTTON_TEXT),
        "action_id": f"{ACTION_PREFIX}{button.name}:{index}",
        "value": button.value[:BUTTON_VALUE],
    }
    if button.style:
        element["style"] = button.style
    return element


def button_blocks(buttons: tuple[Button, ...], prefix: str = "lb_actions") -> list[Block]:
    """Buttons in actions blocks of at most 25; action ids carry the neutral action name."""
    elements = [button_element(button, index) for index, button in enumerate(buttons)]
    return [
        {
            "type": "actions",
            "block_id": f"{prefix}_{n}",
            "elements": elements[start : start + ACTIONS_PER_BLOCK],
        }
        for n, start in enumerate(range(0, len(elements), ACTIONS_PER_BLOCK))
    ]


def action_name(action_id: str) -> str:
    """The neutral action name inside one of our action ids (`lb:rate:3` is 'rate')."""
    return action_id.removeprefix(ACTION_PREFIX).rsplit(":", 1)[0]


def reply_blocks(reply: Reply, *, permalink: str | None = None, text_block: str = "lb_text") -> list[Block]:
    """A reply as a message: asker and link (posts to another channel), text, quote, card, buttons."""
    blocks: list[Block] = []
    if reply.to_channel:
        blocks.append(context(f"From {mention(reply.asker)}", "lb_asker"))
    if reply.text:
        blocks.append(section(render(reply.text), text_block))
    if reply.quote:
        quoted = "\n".join("> " + line for line in render(reply.quote).splitlines())
        blocks.append(section(quoted, f"{text_block}_quote"))
    if reply.card:
        blocks += card_blocks(reply.card)
    if reply.to_channel and reply.link_to:
        where = (
            link(permalink, "Reply in their thread") if permalink else "Asked in a direct message with me."
        )
        blocks.append(context(where, "lb_link"))
    blocks += button_blocks(reply.buttons)
    return blocks[:MAX_BLOCKS_MESSAGE]


def fallback_text(reply: Reply) -> str:
    """The notification and screen-reader text that goes with the blocks: plain, escaped, inert."""
    parts = [str(reply.text or ""), reply.card.title if reply.card else "", str(reply.quote or "")]
    return clip(inert(" ".join(p for p in parts if p).strip()) or "learnbot", FALLBACK_TEXT)


def _kept(original: list[Block]) -> list[Block]:
    return [b for b in original if not str(b.get("block_id", "")).startswith(("lb_actions", "lb_status"))]


def replace_buttons(original: list[Block], reply: Reply) -> list[Block]:
    """The clicked message, its buttons (and any earlier status) swapped for the reply; the card stays."""
    return (_kept(original) + reply_blocks(reply, text_block="lb_status"))[:MAX_BLOCKS_MESSAGE]


def chosen(original: list[Block], label: str) -> list[Block]:
    """The clicked message with its buttons replaced by a note of the choice, so the click shows."""
    return _kept(original) + [context(render(Text("You chose ", bold(label), ".")), "lb_status")]


def note(text: str) -> list[Block]:
    """A one-section message of adapter text (already mrkdwn), e.g. telling someone what went wrong."""
    return [section(text)]
