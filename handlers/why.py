"""The "why" audit in chat, for L&D admins (in private, like every admin command):

    why                                         the top 20% most-used lessons of the last 30 days, flagged
    why LESSON: pillar PILLAR, impact "TEXT"    set a lesson's pillar and/or impact tag (either part alone)

An edit is stored as an overlay (`storage.overlays`) that `learnbot index` re-applies, and the
live search index gets it at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Incoming, Reply
from bot.markup import Text, bold, code
from content_index.library import refresh_index
from storage.audit import MIN_RATINGS, AuditRow, why_audit
from storage.content import get_content
from storage.models import utcnow
from storage.overlays import set_overlay

PERIOD_DAYS = 30
IMPACT_LIMIT = 200
MESSAGE_LIMIT = 2500  # characters per message, under Slack's 3,000 per text block after escaping
_LIST = re.compile(r"^/?why\s*$", re.IGNORECASE)
_EDIT = re.compile(r"^/?why\s+(?P<lesson>[^\s:]+)\s*:\s*(?P<changes>.*)$", re.IGNORECASE | re.DOTALL)
_PILLAR = re.compile(r"^pillar\s+(?P<pillar>\S+)$", re.IGNORECASE)
_IMPACT = re.compile(r"^impact\s+[\"“](?P<impact>[^\"”]*)[\"”]$", re.IGNORECASE)
USAGE = Text(
    "Usage: ",
    code('why LESSON: pillar PILLAR, impact "what it changes for the business"'),
    " (pillar or impact alone is fine too).",
)
FLAG_WORDS = {
    "no_impact": "no impact tag",
    "weak_clarity": "weak strategic clarity",
    "past_review": "past its review date",
}


def match(incoming: Incoming) -> Callable[..., list[Reply]] | None:
    """`why` or `why LESSON: …` (the router lets only admins run it, only in private)."""
    text = incoming.text.strip()
    if _LIST.match(text):
        return show_audit
    if _EDIT.match(text):
        return edit_why
    return None


def _line(number: int, row: AuditRow, pillar_names: dict[str, str]) -> Text:
    pillar = pillar_names.get(row.pillar or "", row.pillar) if row.pillar else "no pillar"
    impact = f'impact "{row.impact[0]}"' if row.impact else "no impact tag"
    text = Text(f"{number}. ", bold(row.title), " (", code(row.content_id), f") · {row.uses} uses")
    text += f" ({row.answers} answers, {row.completions} completions, {row.pathway_starts} pathway starts)"
    text += f" · {pillar} · {impact}"
    if row.ratings:
        text += (
            f" · role relevance {row.role_relevance:.1f}, strategic clarity {row.strategic_clarity:.1f}"
            f" from {row.ratings} rating{'s' if row.ratings != 1 else ''}"
        )
    else:
        text += " · not rated yet"
    if row.flags:
        words = [FLAG_WORDS[flag] for flag in row.flags]
        if "past_review" in row.flags:
            words[row.flags.index("past_review")] += (
                f" (reviewed {row.reviewed.isoformat()})" if row.reviewed else " (never reviewed)"
            )
        text += Text("\n   ⚠ ", "; ".join(words))
    return text


def show_audit(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """The audit: each lesson's use, pillar, impact tag, ratings and flags, in messages that fit."""
    now = bot.clock.now()
    rows = why_audit(
        session=session,
        since=now - dt.timedelta(days=PERIOD_DAYS),
        now=max(now, utcnow()) + dt.timedelta(seconds=1),  # up to this moment: questions carry real time
        review_after_days=bot.config.content.review_after_days,
    )
    if not rows:
        nothing = f"No lesson was used in the last {PERIOD_DAYS} days, so there is nothing to audit."
        return [Reply(text=nothing)]
    text = Text(
        f"The top 20% most-used lessons of the last {PERIOD_DAYS} days ({len(rows)}), "
        f'with their "why" (weak clarity: an average below 3 from {MIN_RATINGS} or more ratings; '
        f"review after {bot.config.content.review_after_days} days):"
    )
    replies = []
    for number, row in enumerate(rows, 1):
        line = _line(number, row, bot.pillar_names)
        if len(text) + len(line) > MESSAGE_LIMIT:  # several messages rather than one cut short
            replies.append(Reply(text=text))
            text = Text()
        text += Text("\n" if text else "", line)
    text += Text("\nChange one with ", code('why LESSON: pillar PILLAR, impact "…"'), ".")
    return [*replies, Reply(text=text)]


def parse_changes(changes: str, pillars: list[str]) -> tuple[str | None, str | None] | str:
    """(pillar, impact) from `pillar X, impact "…"` (either, in any order), or why it cannot be read."""
    pillar = impact = None
    parts = [part.strip() for part in re.split(r",(?=\s*(?:pillar|impact)\b)", changes, flags=re.IGNORECASE)]
    for part in parts:
        if found := _PILLAR.match(part):
            pillar = found["pillar"]
            if pillar not in pillars:
                return f"I don't know the pillar {pillar!r}. Pillars: {', '.join(pillars)}."
        elif found := _IMPACT.match(part):
            impact = " ".join(found["impact"].split())
            if not impact:
                return "The impact tag is empty: say what the lesson changes for the business, in quotes."
            if len(impact) > IMPACT_LIMIT:
                return f"The impact tag is {len(impact)} characters long; keep it to {IMPACT_LIMIT}."
        else:
            return f"I couldn't read {part!r}." if part else "Nothing to change after the colon."
    return pillar, impact


def edit_why(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Set a lesson's pillar and/or impact tag as an overlay; search sees it at once."""
    found = _EDIT.match(incoming.text.strip())
    assert found is not None
    lesson = found["lesson"]
    item = get_content(session=session, content_id=lesson)
    if item is None:
        return [Reply(text=Text("I don't know a lesson with the id ", code(lesson), ". ", USAGE))]
    parsed = parse_changes(found["changes"], [p.id for p in bot.config.pillars])
    if isinstance(parsed, str):
        return [Reply(text=Text(parsed, " ", USAGE))]
    pillar, impact = parsed
    set_overlay(
        session=session,
        content_id=item.id,
        edited_by=caller.person_id,
        pillar=pillar,
        impact=[impact] if impact else None,
        now=bot.clock.now(),
    )
    session.flush()
    refresh_index(bot.index, [item], bot.pillar_names)
    name = bot.pillar_names.get(item.pillar or "", item.pillar or "no pillar")
    text = Text("Updated ", bold(item.title), f": pillar {name}")
    text += f', impact "{item.impact[0]}".' if item.impact else ", no impact tag yet."
    text += " It stays that way when the library is indexed again."
    return [Reply(text=text)]
