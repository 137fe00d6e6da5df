"""Add to my pathway: enrol the learner in the hero pathway that holds this lesson, or offer ones that fit.

Anyone may add a lesson they see under someone else's answer to their own pathway, but then
the answer is told privately and the asker's message stays as it was. Joining by name
respects the pathway's audience, so a tampered button cannot put someone on a pathway that
is not for them.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Button, Reply
from bot.markup import Text, bold
from handlers.cards import parse_answer_value
from handlers.feedback import UNKNOWN_QUESTION
from nudges.pathways import PathwayEditError, fits, join, platform_ids, start_step
from storage.content import get_content
from storage.enrolments import active_pathways, pathways_with_step
from storage.models import Pathway
from storage.pathways import pathway_steps
from storage.questions import get_question

UNKNOWN = "Sorry, I couldn't find that lesson any more. Ask me again and I'll find you another."
GONE = "Sorry, that pathway is no longer running. Ask an L&D admin which one to take instead."
NOT_FOR_YOU = "That pathway isn't open to you. Ask an L&D admin which pathways are meant for you."
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
    mine = True
    if parsed is not None:
        question = get_question(session=session, question_id=parsed[0])
        if question is None:
            return [Reply(text=UNKNOWN_QUESTION, ephemeral=True)]
        mine = question.user_id == caller.person_id  # else: for the clicker, privately
    item = get_content(session=session, content_id=content_id)
    if item is None:
        return [Reply(text=UNKNOWN, ephemeral=True)]
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
        text = _joined(pathway, steps, item.id, created)
        return [Reply(text=text, replace_message=mine, ephemeral=not mine)]
    offers = sorted(
        (p for p in active_pathways(session=session) if p.id in fitting),
        key=lambda p: (p.pillar_id != item.pillar, p.title),
    )[:MAX_OFFERS]
    if not offers:
        text = _not_a_step(item.title) + " There's no other pathway for you right now."
        return [Reply(text=text, ephemeral=not mine)]
    buttons = tuple(Button(f"Join {p.title}", "join_pathway", p.id) for p in offers)
    text = _not_a_step(item.title) + " These pathways fit you; join one and I'll guide you step by step:"
    return [Reply(text=text, buttons=buttons, ephemeral=not mine)]


def join_pathway(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Join a pathway offered by name (if its audience includes the caller); say what the first step is."""
    pathway = session.get(Pathway, action.value[:100]) if action.value else None
    if pathway is None or not pathway.active:
        return [Reply(text=GONE, ephemeral=True)]
    if pathway.id not in {p.id for p in _fitting(caller, session)}:
        return [Reply(text=NOT_FOR_YOU, ephemeral=True)]
    try:
        _, created = join(
            session=session,
            user_id=caller.person_id,
            pathway_id=action.value,
            joined_by="self",
            now=bot.clock.now(),
        )
    except PathwayEditError:
        return [Reply(text=GONE, ephemeral=True)]
    steps = pathway_steps(session=session, pathway_id=pathway.id)
    first = get_content(session=session, content_id=steps[0]) if steps else None
    text = _joined(pathway, steps, None, created)
    if created and first is not None:
        text += Text(" First step: ", bold(first.title), ".")
    return [Reply(text=text, replace_message=True)]
