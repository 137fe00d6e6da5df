"""Replies, Home and the browse modal as Block Kit: every outside string escaped, every limit respected.

Only the Slack adapter uses this. Text from users and from the content library is escaped
(`&`, `<`, `>`), so nobody can smuggle `<!channel>` or a disguised link into a message, and
long content is cut with "…" (and a link to the lesson) rather than rejected by Slack.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from bot.events import AnswerCard, Button, Catalogue, HomeView, Reply

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
BROWSE_CALLBACK = "lb_browse"
BROWSE_PILLAR_ACTION = "lb_browse_pillar"
OPEN_LINK_ACTION = "lb_open"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def escape(text: str) -> str:
    """Slack's three control characters as entities: what was typed shows as typed and does nothing."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut with '…' and never inside an `&amp;`-style entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for `<url|label>`: characters that would end the link are percent-encoded."""
    if not url or not re.match(r"^https?://", url, re.IGNORECASE) or len(url) > 2000:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._").replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """`<url|label>` with the label escaped; just the label when the URL is not a safe http(s) one."""
    target = safe_url(url)
    return f"<{target}|{escape(label)}>" if target else escape(label)


def mention(user_id: str | None) -> str:
    """`<@U123>` for a real Slack user id; anything else is shown as escaped text."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "someone")


def _section(mrkdwn: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, SECTION_TEXT)}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(mrkdwn: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, SECTION_TEXT)}]}
    if block_id:
        block["block_id"] = block_id
    return block


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def _summary(text: str, url: str | None) -> str:
    """The summary, escaped; when too long for a section, cut and followed by a link to read on."""
    escaped = escape(text)
    if len(escaped) <= SECTION_TEXT:
        return escaped
    more = " " + link(url, "Read more") if safe_url(url) else ""
    return clip(escaped, SECTION_TEXT - len(more)) + more


def card_blocks(card: AnswerCard, prefix: str = "lb_card") -> list[Block]:
    """Header, summary, why it matters (pillar and impact), then duration and the link."""
    blocks: list[Block] = [
        {"type": "header", "block_id": f"{prefix}_title", "text": _plain(card.title, HEADER_TEXT)},
        _section(_summary(card.summary, card.url), f"{prefix}_summary"),
    ]
    why = " — ".join(escape(part) for part in (card.pillar, card.impact) if part)
    if why:
        blocks.append(_section(f"*Why it matters:* {why}", f"{prefix}_why"))
    facts = []
    if card.duration_minutes:
        facts.append(f":stopwatch: {card.duration_minutes} min")
    if safe_url(card.url):
        facts.append(link(card.url, "Open the lesson"))
    if facts:
        blocks.append(_context(" · ".join(facts), f"{prefix}_facts"))
    return blocks


def button_element(button: Button, index: int) -> Block:
    """A neutral button as a Block Kit button; the index keeps action ids unique within a block."""
    element: Block = {
        "type": "button",
        "text": _plain(button.label, BUTTON_TEXT),
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
        blocks.append(_context(f"From {mention(reply.asker)}", "lb_asker"))
    if reply.text:
        blocks.append(_section(escape(reply.text), text_block))
    if reply.quote:
        quoted = "\n".join("> " + line for line in escape(reply.quote).splitlines())
        blocks.append(_section(quoted, f"{text_block}_quote"))
    if reply.card:
        blocks += card_blocks(reply.card)
    if reply.to_channel and reply.link_to:
        where = (
            link(permalink, "Reply in their thread") if permalink else "Asked in a direct message with me."
        )
        blocks.append(_context(where, "lb_link"))
    blocks += button_blocks(reply.buttons)
    return blocks[:MAX_BLOCKS_MESSAGE]


def fallback_text(reply: Reply) -> str:
    """The notification and screen-reader text that goes with the blocks."""
    parts = [reply.text, reply.card.title if reply.card else "", reply.quote or ""]
    return clip(escape(" ".join(p for p in parts if p).strip()) or "learnbot", FALLBACK_TEXT)


def replace_buttons(original: list[Block], reply: Reply) -> list[Block]:
    """The clicked message, its buttons (and any earlier status) swapped for the reply; the card stays."""
    kept = [b for b in original if not str(b.get("block_id", "")).startswith(("lb_actions", "lb_status"))]
    return (kept + reply_blocks(reply, text_block="lb_status"))[:MAX_BLOCKS_MESSAGE]


def chosen(original: list[Block], label: str) -> list[Block]:
    """The clicked message with its buttons replaced by a note of the choice, so the click shows."""
    kept = [b for b in original if not str(b.get("block_id", "")).startswith(("lb_actions", "lb_status"))]
    return kept + [_context(f"You chose *{escape(label)}*.", "lb_status")]


def home_view(home: HomeView) -> Block:
    """The App Home tab: pathways, recent answers, lessons to rate; numbers and gaps for admins."""
    blocks: list[Block] = [{"type": "header", "text": _plain("Your learning", HEADER_TEXT)}]
    blocks.append(_section("*Your pathways*"))
    for p in home.pathways:
        bar = "▰" * p.done + "▱" * max(p.total - p.done, 0)
        upcoming = f"\nNext: {escape(p.next_step)}" if p.next_step else "\nAll steps done. :tada:"
        pillar = f" · {escape(p.pillar)}" if p.pillar else ""
        blocks.append(_section(f"*{escape(p.title)}*{pillar}\n{bar}  {p.done}/{p.total} done{upcoming}"))
    if not home.pathways:
        blocks.append(_context("None yet. Press *Add to my pathway* under an answer to start one."))
    blocks += [{"type": "divider"}, _section("*Recent answers*")]
    for r in home.recent:
        verdict = {"helpful": " :white_check_mark:", "not_helpful": " :x:"}.get(r.verdict or "", "")
        blocks.append(_context(f"{escape(clip(r.question, 200))} → {link(r.url, r.title)}{verdict}"))
    if not home.recent:
        blocks.append(_context("Ask me anything in a DM, with `/learn`, or by mentioning me in a channel."))
    if home.to_rate:
        blocks += [{"type": "divider"}, _section("*Rate what you've read*: it helps the next person")]
        for n, r in enumerate(home.to_rate):
            section = _section(link(r.url, r.title))
            section["accessory"] = button_element(
                Button("Rate", "rate", f"{r.question_id}|{r.content_id}"), n
            )
            blocks.append(section)
    if home.is_admin:
        blocks += [{"type": "divider"}, {"type": "header", "text": _plain("For L&D admins", HEADER_TEXT)}]
        fields = [{"type": "mrkdwn", "text": f"*{escape(k)}*\n{escape(v)}"} for k, v in home.headline[:10]]
        if fields:
            blocks.append({"type": "section", "fields": fields})
        gaps = (
            "\n".join(f"• {escape(clip(gap, 300))}" for gap in home.gaps)
            or "None: every recent question had a lesson."
        )
        blocks.append(_section(f"*Recent content gaps*\n{gaps}"))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS_VIEW]}


def browse_modal(catalogue: Catalogue) -> Block:
    """The /learn modal: search words, a pillar menu, and the matching lessons with links."""
    all_pillars = {"text": _plain("All pillars", 75), "value": "all"}
    options = [all_pillars] + [
        {"text": _plain(name, 75), "value": pid} for pid, name in catalogue.pillars[:99]
    ]
    menu: Block = {
        "type": "static_select",
        "action_id": BROWSE_PILLAR_ACTION,
        "placeholder": _plain("Browse by pillar", 150),
        "options": options,
    }
    chosen_option = next((o for o in options if o["value"] == catalogue.pillar), None)
    if chosen_option:
        menu["initial_option"] = chosen_option
    query_input: Block = {"type": "plain_text_input", "action_id": "query", "max_length": 500}
    if catalogue.query:
        query_input["initial_value"] = catalogue.query[:500]
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": "lb_query",
            "optional": True,
            "label": _plain("What do you want to learn?", 2000),
            "element": query_input,
        },
        {"type": "actions", "block_id": "lb_pillar", "elements": [menu]},
        {"type": "divider"},
    ]
    for n, card in enumerate(catalogue.cards):
        facts = " · ".join(
            part
            for part in (
                escape(card.pillar or ""),
                f"{card.duration_minutes} min" if card.duration_minutes else "",
            )
            if part
        )
        text = f"*{link(card.url, card.title)}*\n{escape(clip(card.summary, 500))}"
        blocks.append(_section(text + (f"\n_{facts}_" if facts else "")))
        if safe_url(card.url):
            blocks[-1]["accessory"] = {
                "type": "button",
                "action_id": f"{OPEN_LINK_ACTION}:{n}",
                "text": _plain("Open", BUTTON_TEXT),
                "url": card.url,
            }
    if not catalogue.cards and (catalogue.query or catalogue.pillar):
        blocks.append(_context("No lessons match that yet. Try other words, or another pillar."))
    if not catalogue.cards and not (catalogue.query or catalogue.pillar):
        blocks.append(_context("Type what you're stuck on and press *Search*, or pick a pillar."))
    return {
        "type": "modal",
        "callback_id": BROWSE_CALLBACK,
        "title": _plain("Find a lesson", 24),
        "submit": _plain("Search", 24),
        "close": _plain("Close", 24),
        "private_metadata": json.dumps({"pillar": catalogue.pillar})[:3000],
        "blocks": blocks[:MAX_BLOCKS_VIEW],
    }
