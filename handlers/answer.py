"""Answer a question with the best micro-lesson, or say honestly there is none yet (a content gap)."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Button, Incoming, Reply
from bot.markup import Text, italic
from content_index.answering import decide
from content_index.cards import card_for
from content_index.gaps import is_gap_text
from content_index.search import Filters, Hit
from handlers.cards import ask_experts_button, feedback_buttons
from storage.content import get_content
from storage.questions import record_question

NO_LESSON = (
    "I don't have a lesson for that yet. I've logged your question as a content gap, "
    "so the L&D team can see what people need."
)
EMPTY_QUESTION = Text(
    "Ask me anything you're stuck on at work, e.g. ", italic("how do I give feedback to a peer?")
)
NOT_SURE = "Not sure - is it one of these?"
CHATTER = Text(
    "I'm here whenever you need me. Ask me how to do something at work, e.g. ",
    italic("how do I give feedback to a peer?"),
)


def answer_question(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Search, record the question and what was shown, and reply with an answer card or an honest gap."""
    question = incoming.text.strip()
    if not question:
        return [Reply(text=EMPTY_QUESTION)]
    bot.refresh_if_due(session=session)  # content re-indexed since start, cheaply checked
    filters, alternatives = Filters(audience=caller.audience), bot.config.search.alternatives
    decision = decide(
        bot.index, question, filters=filters, alternatives=alternatives, threshold=bot.threshold
    )
    if decision.kind == "small_talk":
        return [Reply(text=decision.reply)]
    if decision.kind == "empty":
        return [Reply(text=EMPTY_QUESTION)]
    hits = list(decision.hits)
    if decision.kind == "answer":
        return [answer_card(incoming, question, hits, user_id=caller.person_id, session=session, bot=bot)]
    if not is_gap_text(question):
        return [Reply(text=CHATTER)]  # "hmm", "3 3": nothing to look up, so never logged as a gap
    recorded = record_question(
        session=session,
        user_id=caller.person_id,
        platform=incoming.platform,
        channel_id=incoming.channel_id,
        thread_id=incoming.thread_id,
        text=question,
        shown=[(hit.id, hit.confidence) for hit in hits] if decision.kind == "not_sure" else [],
        answered=False,
        confidence=decision.confidence,
        now=bot.clock.now(),
    )
    assert recorded.id is not None
    if decision.kind == "not_sure":
        return [not_sure_reply(recorded.id, hits, session=session)]
    experts = (ask_experts_button(recorded.id),) if bot.config.channels.sme else ()
    return [Reply(text=NO_LESSON, quote=question, buttons=experts)]


def answer_card(
    incoming: Incoming,
    question: str,
    hits: list[Hit],
    *,
    user_id: int | None,
    session: Session,
    bot: LearnBot,
) -> Reply:
    """Record a confident answer (the question and every lesson shown) and reply with its card and buttons."""
    recorded = record_question(
        session=session,
        user_id=user_id,
        platform=incoming.platform,
        channel_id=incoming.channel_id,
        thread_id=incoming.thread_id,
        text=question,
        shown=[(hit.id, hit.confidence) for hit in hits],
        answered=True,
        confidence=hits[0].confidence,
        now=bot.clock.now(),
    )
    item = get_content(session=session, content_id=hits[0].id)
    assert item is not None and recorded.id is not None
    pillar = bot.pillar_names.get(item.pillar or "")
    card = card_for(item, pillar_name=pillar, confidence=hits[0].confidence, session=session)
    return Reply(card=card, buttons=feedback_buttons(recorded.id, item.id))


def not_sure_reply(question_id: int, hits: list[Hit], *, session: Session) -> Reply:
    """The plausible lessons as buttons; picking one counts as a Helpful (handlers.not_sure)."""
    buttons = []
    for hit in hits:
        item = get_content(session=session, content_id=hit.id)
        if item is not None:
            buttons.append(Button(item.title[:75], "not_sure_pick", f"{question_id}|{item.id}"))
    none = Button("None of these", "not_sure_none", str(question_id))
    return Reply(text=NOT_SURE, buttons=(*buttons, none))
