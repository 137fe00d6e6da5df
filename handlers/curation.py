"""Experts save chat messages as micro-lessons ("Save as micro-lesson"), for SMEs and admins only.

A platform form (the Slack message shortcut's modal) or the chat command arrives as a neutral
`LessonDraft`; the lesson is stored with source "curated", a link back to the message and its
curator, and added to the live search index at once, so it answers the very next question.

    save lesson: TITLE | SUMMARY | pillar PILLAR [| impact "TEXT"] [| skills a, b] [| audience x, y]
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Incoming, LessonDraft, Reply
from bot.markup import Text, bold, code
from content_index.library import refresh_index
from storage.curation import CurationError, save_curated

EXPERTS_ONLY = (
    "Saving messages as micro-lessons is for subject-matter experts and L&D admins. "
    "If you know something worth keeping, ask one of them to save it, or ask me a question."
)
_COMMAND = re.compile(r"^/?save[ -]lesson\s*:?\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_KEYED = re.compile(r"^(?P<key>pillar|impact|skills|audience)\s+(?P<value>.+)$", re.IGNORECASE | re.DOTALL)
USAGE = Text(
    "Usage: ",
    code('save lesson: TITLE | SUMMARY | pillar PILLAR | impact "TEXT" | skills a, b | audience x, y'),
    " (title, summary and pillar are needed; the rest is optional).",
)


def match(incoming: Incoming) -> Callable[..., list[Reply]] | None:
    """`save lesson: …` (anyone may type it; only experts get a lesson saved)."""
    return save_command if _COMMAND.match(incoming.text.strip()) else None


def _words(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_command(text: str) -> LessonDraft | str:
    """The draft in `save lesson: TITLE | SUMMARY | pillar …`, or what is wrong with it."""
    found = _COMMAND.match(text.strip())
    parts = [part.strip() for part in (found["rest"] if found else "").split("|")]
    if len(parts) < 3 or not parts[0] or not parts[1]:
        return "I need at least a title, a summary and a pillar, separated by |."
    title, summary, fields = parts[0], parts[1], parts[2:]
    values: dict[str, str] = {}
    for part in fields:
        keyed = _KEYED.match(part)
        if keyed is None:
            return f"I couldn't read {part!r}: start it with pillar, impact, skills or audience."
        key = keyed["key"].lower()
        if key in values:
            return f"{key} is given twice."
        values[key] = keyed["value"].strip()
    if "pillar" not in values:
        return "Which pillar does it serve? Add | pillar PILLAR."
    impact = values.get("impact", "").strip().strip('"“”').strip() or None
    return LessonDraft(
        title=title,
        summary=summary,
        pillar=values["pillar"],
        impact=impact,
        skills=_words(values.get("skills", "")),
        audience=_words(values.get("audience", "")),
    )


def save_command(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """The chat command: refuse non-experts, read the draft, save it."""
    if not caller.is_sme:
        return [Reply(text=EXPERTS_ONLY, ephemeral=not incoming.is_direct)]
    draft = parse_command(incoming.text)
    if isinstance(draft, str):
        return [Reply(text=Text(draft, " ", USAGE))]
    return save_lesson(
        draft, session=session, bot=bot, caller=caller, platform=incoming.platform, check_expert=False
    )


def save_lesson(
    draft: LessonDraft,
    *,
    session: Session,
    bot: LearnBot,
    caller: Caller,
    platform: str,
    check_expert: bool = True,
) -> list[Reply]:
    """Store the draft as a curated lesson and make it searchable at once; errors name the field."""
    if check_expert and not caller.is_sme:
        return [Reply(text=EXPERTS_ONLY)]
    pillars = {p.id: p.name for p in bot.config.pillars}
    if draft.pillar not in pillars:
        known = ", ".join(pillars)
        return [Reply(text=f"I don't know the pillar {draft.pillar!r}. Pillars: {known}. Nothing was saved.")]
    try:
        item = save_curated(
            session=session,
            curated_by=caller.person_id,
            title=draft.title,
            summary=draft.summary,
            pillar=draft.pillar,
            impact=[draft.impact] if draft.impact else [],
            skills=draft.skills,
            audience=draft.audience,
            url=draft.url,
            platform=platform,
            channel_id=draft.channel_id,
            message_id=draft.message_id,
            now=bot.clock.now(),
        )
    except CurationError as exc:
        return [Reply(text=f"I couldn't save that lesson: {exc}. Nothing was saved.")]
    refresh_index(bot.index, [item], bot.pillar_names)  # answers the very next question
    text = Text(
        "Saved ",
        bold(item.title),
        f" as a micro-lesson under {pillars[draft.pillar]} (id ",
        code(item.id),
        "), curated by you. I'll use it to answer questions from now on, and show colleagues who "
        "find it helpful as validation on the card.",
    )
    return [Reply(text=text)]
