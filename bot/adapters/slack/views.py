"""The App Home tab and the /learn browse modal as Block Kit views, from neutral `HomeView` / `Catalogue`."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack.blocks import (
    BUTTON_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS_VIEW,
    Block,
    button_element,
    context,
    plain_text,
    section,
)
from bot.adapters.slack.mrkdwn import clip, inert, link, safe_url
from bot.events import Button, Catalogue, HomeView

BROWSE_CALLBACK = "lb_browse"
BROWSE_PILLAR_ACTION = "lb_browse_pillar"
OPEN_LINK_ACTION = "lb_open"


def home_view(home: HomeView) -> Block:
    """The App Home tab: pathways, recent answers, lessons to rate; numbers and gaps for admins."""
    blocks: list[Block] = [{"type": "header", "text": plain_text("Your learning", HEADER_TEXT)}]
    blocks.append(section("*Your pathways*"))
    for p in home.pathways:
        bar = "▰" * p.done + "▱" * max(p.total - p.done, 0)
        upcoming = f"\nNext: {inert(p.next_step)}" if p.next_step else "\nAll steps done. :tada:"
        pillar = f" · {inert(p.pillar)}" if p.pillar else ""
        title = inert(p.title.replace("*", ""))
        blocks.append(section(f"*{title}*{pillar}\n{bar}  {p.done}/{p.total} done{upcoming}"))
    if not home.pathways:
        blocks.append(context("None yet. Press *Add to my pathway* under an answer to start one."))
    blocks += [{"type": "divider"}, section("*Recent answers*")]
    for r in home.recent:
        verdict = {"helpful": " :white_check_mark:", "not_helpful": " :x:"}.get(r.verdict or "", "")
        blocks.append(context(f"{inert(clip(r.question, 200))} → {link(r.url, r.title)}{verdict}"))
    if not home.recent:
        blocks.append(context("Ask me anything in a DM, with `/learn`, or by mentioning me in a channel."))
    if home.to_rate:
        blocks += [{"type": "divider"}, section("*Rate what you've read*: it helps the next person")]
        for n, r in enumerate(home.to_rate):
            rated = section(link(r.url, r.title))
            rated["accessory"] = button_element(Button("Rate", "rate", f"{r.question_id}|{r.content_id}"), n)
            blocks.append(rated)
    blocks += sharing_blocks(home) + team_blocks(home)
    if home.is_admin:
        blocks += [{"type": "divider"}, {"type": "header", "text": plain_text("For L&D admins", HEADER_TEXT)}]
        fields = [
            {"type": "mrkdwn", "text": f"*{inert(k.replace('*', ''))}*\n{inert(v)}"}
            for k, v in home.headline[:10]
        ]
        if fields:
            blocks.append({"type": "section", "fields": fields})
        gaps = (
            "\n".join(f"• {inert(clip(gap, 300))}" for gap in home.gaps)
            or "None: every recent question had a lesson."
        )
        total = max(home.gaps_total, len(home.gaps))
        count = f" ({len(home.gaps)} of {total} open; type `gaps` in a DM for all)" if total else ""
        blocks.append(section(f"*Top content gaps*{count}\n{gaps}"))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS_VIEW]}


def sharing_blocks(home: HomeView) -> list[Block]:
    """What the person's manager sees of their learning; `sharing` in a DM changes it."""
    share = home.sharing
    if share is None:
        return []
    who = inert(share.manager) if share.manager else "your manager (none in the org chart yet)"
    on = {True: "shared", False: "not shared"}
    text = (
        f"*What {who} sees*\nCompletions and pathway progress {on[share.completions]} · ratings "
        f"{on[share.ratings]} · takeaways {share.takeaways_shared} shared, {share.takeaways_private} private"
    )
    change = context("Type `sharing` in a DM with me to change any of it.")
    return [{"type": "divider"}, section(text), change]


def team_blocks(home: HomeView) -> list[Block]:
    """A manager's direct reports, each with only what they chose to share."""
    if not home.is_manager:
        return []
    blocks: list[Block] = [{"type": "divider"}, section("*Your team* (only what each chose to share)")]
    if not home.team:
        blocks.append(context("Nobody reports to you in the org chart yet."))
    for member in home.team[:20]:
        lines = []
        if member.lessons:
            lines.append("Completed: " + ", ".join(inert(title) for title in member.lessons))
        lines += [f"{inert(title)}: {done}/{total} steps" for title, done, total in member.pathways]
        lines += [f"Takeaway: “{inert(said)}” — {inert(title)}" for said, title in member.takeaways]
        lines += [f"Rated {inert(t)}: relevance {r}/5, clarity {c}/5" for t, r, c in member.ratings]
        body = "\n".join(f"• {line}" for line in lines) or "Nothing shared yet."
        blocks.append(section(f"*{inert(member.name)}*\n{body}"))
    return blocks


def _menu(catalogue: Catalogue) -> Block:
    all_pillars = {"text": plain_text("All pillars", 75), "value": "all"}
    options = [all_pillars] + [
        {"text": plain_text(name, 75), "value": pid} for pid, name in catalogue.pillars[:99]
    ]
    menu: Block = {
        "type": "static_select",
        "action_id": BROWSE_PILLAR_ACTION,
        "placeholder": plain_text("Browse by pillar", 150),
        "options": options,
    }
    chosen_option = next((o for o in options if o["value"] == catalogue.pillar), None)
    if chosen_option:
        menu["initial_option"] = chosen_option
    return menu


SEARCHING = "Looking for lessons… this takes a moment."
BUSY = "I'm busy right now. Please try again in a minute."


def browse_modal(catalogue: Catalogue, note: str | None = None) -> Block:
    """The /learn modal: search words, a pillar menu, and the matching lessons with links.

    `note` (e.g. `SEARCHING`) stands in for the results while they are being found.
    """
    query_input: Block = {"type": "plain_text_input", "action_id": "query", "max_length": 500}
    if catalogue.query:
        query_input["initial_value"] = catalogue.query[:500]
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": "lb_query",
            "optional": True,
            "label": plain_text("What do you want to learn?", 2000),
            "element": query_input,
        },
        {"type": "actions", "block_id": "lb_pillar", "elements": [_menu(catalogue)]},
        {"type": "divider"},
    ]
    for n, card in enumerate(catalogue.cards):
        minutes = f"{card.duration_minutes} min" if card.duration_minutes else ""
        facts = " · ".join(part for part in (inert(card.pillar or ""), minutes) if part)
        text = f"*{link(card.url, card.title.replace('*', ''))}*\n{inert(clip(card.summary, 500))}"
        blocks.append(section(text + (f"\n_{facts.replace('_', '')}_" if facts else "")))
        if safe_url(card.url):
            blocks[-1]["accessory"] = {
                "type": "button",
                "action_id": f"{OPEN_LINK_ACTION}:{n}",
                "text": plain_text("Open", BUTTON_TEXT),
                "url": card.url,
            }
    if note:
        blocks.append(context(note))
    elif not catalogue.cards and (catalogue.query or catalogue.pillar):
        blocks.append(context("No lessons match that yet. Try other words, or another pillar."))
    elif not catalogue.cards:
        blocks.append(context("Type what you're stuck on and press *Search*, or pick a pillar."))
    return {
        "type": "modal",
        "callback_id": BROWSE_CALLBACK,
        "title": plain_text("Find a lesson", 24),
        "submit": plain_text("Search", 24),
        "close": plain_text("Close", 24),
        "private_metadata": json.dumps({"pillar": catalogue.pillar})[:3000],
        "blocks": blocks[:MAX_BLOCKS_VIEW],
    }


def browse_state(view: dict[str, Any]) -> tuple[str, str | None]:
    """The search words typed in a browse modal and the pillar it was showing."""
    values = view.get("state", {}).get("values", {})
    query = (values.get("lb_query", {}).get("query", {}) or {}).get("value") or ""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        data = {}
    pillar = data.get("pillar") if isinstance(data, dict) else None
    return query, pillar if isinstance(pillar, str) else None
