"""Add to my pathway: enrol the learner in the hero pathway that holds this lesson, or offer ones that fit."""

from __future__ import annotations

from sqlmodel import Session

from bot.app import LearnBot
from bot.events import Action, Button, Reply
from handlers.cards import parse_answer_value
from storage.content import get_content
from storage.enrolments import active_pathways, enrol, fits, mark_started, pathways_with_step
from storage.models import Pathway, User
from storage.pathways import pathway_steps
from storage.users import ensure_user

NOT_A_STEP = "*{title}* isn't a step of a learning pathway yet."
NONE_FIT = NOT_A_STEP + " There's no other pathway for you right now; I'll let you know when there is."
OFFER = NOT_A_STEP + " These pathways fit you; join one and I'll guide you step by step:"
UNKNOWN = "Sorry, I couldn't find that lesson any more. Ask me again and I'll find you another."
GONE = "Sorry, that pathway is no longer running. Ask an L&D admin which one to take instead."
MAX_OFFERS = 5


def _user(action: Action, session: Session) -> User:
    return ensure_user(
        session=session, platform=action.platform, platform_user_id=action.user_id, role=action.role
    )


def _joined(pathway: Pathway, steps: list[str], content_id: str | None, created: bool) -> str:
    where = f" (step {steps.index(content_id) + 1} of {len(steps)})" if content_id in steps else ""
    title = pathway.title.replace("*", "")
    if not created:
        return f"You're already on *{title}*{where}: keep going!"
    every = f"every {pathway.cadence_days} days"
    return f"Added to your pathway *{title}*{where}. I'll remind you of the next step {every}."


def add_to_pathway(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Enrol where the lesson is a step (the first pathway that fits); else say so and offer pathways."""
    parsed = parse_answer_value(action.value)
    content_id = parsed[1] if parsed else action.value
    item = get_content(session=session, content_id=content_id)
    if item is None:
        return [Reply(text=UNKNOWN)]
    user = _user(action, session)
    assert user.id is not None
    holding = [p for p in pathways_with_step(session=session, content_id=item.id) if fits(p, user)]
    title = item.title.replace("*", "")
    if holding:
        pathway = holding[0]
        enrolment, created = enrol(session=session, user_id=user.id, pathway_id=pathway.id)
        assert enrolment.id is not None
        mark_started(session=session, enrolment_id=enrolment.id, content_id=item.id)
        steps = pathway_steps(session=session, pathway_id=pathway.id)
        return [Reply(text=_joined(pathway, steps, item.id, created), replace_message=True)]
    offers = sorted(
        (p for p in active_pathways(session=session) if fits(p, user)),
        key=lambda p: (p.pillar_id != item.pillar, p.title),
    )[:MAX_OFFERS]
    if not offers:
        return [Reply(text=NONE_FIT.format(title=title))]
    buttons = tuple(Button(f"Join {p.title}", "join_pathway", p.id) for p in offers)
    return [Reply(text=OFFER.format(title=title), buttons=buttons)]


def join_pathway(action: Action, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Join a pathway offered by name, and say what the first step is."""
    pathway = session.get(Pathway, action.value)
    if pathway is None or not pathway.active:
        return [Reply(text=GONE)]
    user = _user(action, session)
    assert user.id is not None
    _, created = enrol(session=session, user_id=user.id, pathway_id=pathway.id)
    steps = pathway_steps(session=session, pathway_id=pathway.id)
    first = get_content(session=session, content_id=steps[0]) if steps else None
    text = _joined(pathway, steps, None, created)
    if created and first is not None:
        text += f" First step: *{first.title.replace('*', '')}*."
    return [Reply(text=text, replace_message=True)]
