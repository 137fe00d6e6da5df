"""Add to my pathway: enrol the learner in the hero pathway that holds this lesson, or offer ones that fit."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Button, Reply
from bot.markup import Text, bold
from handlers.cards import parse_answer_value
from nudges.pathways import PathwayEditError, fits, join, platform_ids, start_step
from storage.content import get_content
from storage.enrolments import active_pathways, pathways_with_step
from storage.models import Pathway
from storage.pathways import pathway_steps

UNKNOWN = "Sorry, I couldn't find that lesson any more. Ask me again and I'll find you another."
GONE = "Sorry, that pathway is no longer running. Ask an L&D admin which one to take instead."
MAX_OFFERS = 5


def _not_a_step(title: str) -> Text:
    return Text(bold(title), " isn't a step of a learning pathway yet.")


def _joined(pathway: Pathway, steps: list[str], content_id: str | None, created: bool) -> Text:
    where = f" (step {steps.index(content_id) + 1} of {len(steps)})" if content_id in steps else ""
    if not created:
        return Text("You're already on ", bold(pathway.title), f"{where}: keep going!")
    every = f"every {pathway.cadence_days} days"
    return Text(
        "Added to your pathway ", bold(pathway.title), f"{where}. I'll remind you of the next step {every}."
    )


def _fitting(caller: Caller, session: Session) -> list[Pathway]:
    ids = platform_ids(session, [caller.person_id]).get(caller.person_id, set())
    return [p for p in active_pathways(session=session) if fits(p, caller.person, ids)]


def add_to_pathway(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Enrol where the lesson is a step (the first pathway that fits); else say so and offer pathways."""
    parsed = parse_answer_value(action.value)
    content_id = parsed[1] if parsed else action.value
    item = get_content(session=session, content_id=content_id)
    if item is None:
        return [Reply(text=UNKNOWN)]
    fitting = {p.id for p in _fitting(caller, session)}
    holding = [p for p in pathways_with_step(session=session, content_id=item.id) if p.id in fitting]
    now = bot.clock.now()
    if holding:
        pathway = holding[0]
        enrolment, created = join(
            session=session, user_id=caller.person_id, pathway_id=pathway.id, joined_by="self", now=now
        )
        start_step(session=session, enrolment=enrolment, content_id=item.id, now=now)
        steps = pathway_steps(session=session, pathway_id=pathway.id)
        return [Reply(text=_joined(pathway, steps, item.id, created), replace_message=True)]
    offers = sorted(
        (p for p in active_pathways(session=session) if p.id in fitting),
        key=lambda p: (p.pillar_id != item.pillar, p.title),
    )[:MAX_OFFERS]
    if not offers:
        text = _not_a_step(item.title) + " There's no other pathway for you right now."
        return [Reply(text=text)]
    buttons = tuple(Button(f"Join {p.title}", "join_pathway", p.id) for p in offers)
    text = _not_a_step(item.title) + " These pathways fit you; join one and I'll guide you step by step:"
    return [Reply(text=text, buttons=buttons)]


def join_pathway(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Join a pathway offered by name, and say what the first step is."""
    try:
        _, created = join(
            session=session,
            user_id=caller.person_id,
            pathway_id=action.value,
            joined_by="self",
            now=bot.clock.now(),
        )
    except PathwayEditError:
        return [Reply(text=GONE)]
    pathway = session.get(Pathway, action.value)
    assert pathway is not None
    steps = pathway_steps(session=session, pathway_id=pathway.id)
    first = get_content(session=session, content_id=steps[0]) if steps else None
    text = _joined(pathway, steps, None, created)
    if created and first is not None:
        text += Text(" First step: ", bold(first.title), ".")
    return [Reply(text=text, replace_message=True)]
