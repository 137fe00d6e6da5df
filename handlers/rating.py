"""Rate a lesson: relevance to my role, then strategic clarity (1-5 each), then an optional comment.

One rating per person per lesson (rating again updates it). Under an answer only the asker
rates (it was their question, and the message is theirs); the value must name a lesson shown
for that question. After the two scores the rating is stored at once; the next short typed
reply (within `COMMENT_MINUTES`) becomes its comment, or Skip leaves it without one. After a
completed pathway step learnbot asks once, politely, for a rating of that lesson.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Button, Incoming, Reply
from bot.markup import Text, bold
from content_index.answering import reads_as_question
from handlers.feedback import NOT_YOURS, UNKNOWN_QUESTION
from storage.content import get_content
from storage.models import ContentItem, Rating
from storage.questions import answers_shown, get_question
from storage.ratings import (
    COMMENT_LIMIT,
    SCALE,
    RatingError,
    ask_comment,
    ask_once,
    awaiting_comment,
    set_comment,
    upsert_rating,
)

BAD_RATING = "Sorry, I couldn't tell which lesson that rating is for. Please ask your question again."
RELEVANCE_ENDS = "1 = not relevant to my role … 5 = core to my role"
CLARITY_ENDS = "1 = I can't tell which goal it serves … 5 = I can see exactly which goal it serves"
COMMENT_MINUTES = 30
GONE = "That rating has already been saved; there's nothing to skip."
SKIPPED = "No problem: your rating is saved."
NO_COMMENT = frozenset({"skip", "no", "nope", "no thanks", "no thank you", "nothing", "none", "n/a", "na"})
COMMENT_HERE = "Anything to add? Reply with a short comment, or press Skip."
COMMENT_IN_DM = (
    f"Anything to add? Send me a short comment in a direct message within {COMMENT_MINUTES} minutes, "
    "or press Skip."
)


def _parse(value: str) -> tuple[int | None, str, list[int]] | None:
    """`question|content[|relevance[|clarity]]`; the question part may be empty (e.g. rated from Home)."""
    question, _, rest = value.partition("|")
    content_id, *scores = rest.split("|")
    if not content_id or (question and not (question.isascii() and question.isdigit())) or len(scores) > 2:
        return None
    if not all(score in {str(n) for n in SCALE} for score in scores):
        return None
    return (int(question) if question else None), content_id, [int(score) for score in scores]


def _scale(prefix: str) -> tuple[Button, ...]:
    return tuple(Button(str(n), "rate", f"{prefix}|{n}") for n in SCALE)


def relevance_question(item: ContentItem, value: str, *, intro: str = "") -> Reply:
    """Step 1: relevance to the rater's role, with what each end means."""
    text = Text(intro, "How relevant is ", bold(item.title), f" to your role? ({RELEVANCE_ENDS})")
    return Reply(text=text, buttons=_scale(value), replace_message=not intro)


def on_rate(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Step 1 asks role relevance, step 2 strategic clarity, step 3 stores both and invites a comment."""
    parsed = _parse(action.value)
    item = get_content(session=session, content_id=parsed[1]) if parsed else None
    if parsed is None or item is None:
        return [Reply(text=BAD_RATING, ephemeral=True)]
    question_id, content_id, scores = parsed
    if question_id is not None:
        question = get_question(session=session, question_id=question_id)
        if question is None:
            return [Reply(text=UNKNOWN_QUESTION, ephemeral=True)]
        if question.user_id != caller.person_id:
            return [Reply(text=NOT_YOURS, ephemeral=True)]
        shown = answers_shown(session=session, question_id=question_id)
        if content_id not in {row.content_id for row in shown}:
            return [Reply(text=BAD_RATING, ephemeral=True)]
    if len(scores) == 0:
        return [relevance_question(item, action.value)]
    if len(scores) == 1:
        text = Text("And how clearly does it show which company goal it serves? ", f"({CLARITY_ENDS})")
        return [Reply(text=text, buttons=_scale(action.value), replace_message=True)]
    relevance, clarity = scores
    now = bot.clock.now()
    rating = upsert_rating(
        session=session,
        user_id=caller.person_id,
        content_id=content_id,
        role_relevance=relevance,
        strategic_clarity=clarity,
        now=now,
    )
    bot.note_rating(content_id, session=session)
    ask_comment(session=session, rating=rating, now=now)
    text = Text(
        "Thanks for rating ",
        bold(item.title),
        f": relevance to your role {relevance}/5, strategic clarity {clarity}/5. ",
        COMMENT_HERE if action.is_direct else COMMENT_IN_DM,
    )
    skip = Button("Skip", "rate_skip", str(rating.id))
    return [Reply(text=text, buttons=(skip,), replace_message=True)]


def on_skip_comment(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Skip: the rating stays as it is, without a comment, and learnbot stops waiting for one."""
    rating = session.get(Rating, int(action.value)) if action.value.isdigit() else None
    if rating is None:
        return [Reply(text=GONE, ephemeral=True)]
    if rating.user_id != caller.person_id:
        return [Reply(text=NOT_YOURS, ephemeral=True)]
    set_comment(session=session, rating=rating, comment=None, now=bot.clock.now())
    return [Reply(text=SKIPPED, replace_message=True)]


def pending_comment(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> Rating | None:
    """The rating this DM comments on: asked in the last 30 minutes; a question (by its `?` or its first
    word) is not a comment."""
    text = incoming.text.strip()
    if not incoming.is_direct or not text or reads_as_question(text):
        return None
    since = bot.clock.now() - dt.timedelta(minutes=COMMENT_MINUTES)
    return awaiting_comment(session=session, user_id=caller.person_id, since=since)


def save_comment(incoming: Incoming, rating: Rating, *, session: Session, bot: LearnBot) -> list[Reply]:
    """Keep the typed comment with the rating; one too long is refused, and a shorter one still welcome.
    A typed "skip" (or "no thanks") is the Skip button, not a comment."""
    if " ".join(incoming.text.lower().strip(" .!").split()) in NO_COMMENT:
        set_comment(session=session, rating=rating, comment=None, now=bot.clock.now())
        return [Reply(text=SKIPPED)]
    try:
        set_comment(session=session, rating=rating, comment=incoming.text, now=bot.clock.now())
    except RatingError:
        size = len(" ".join(incoming.text.split()))
        text = (
            f"That comment is {size} characters long; I keep up to {COMMENT_LIMIT}. "
            "Send a shorter one, or press Skip."
        )
        return [Reply(text=text, buttons=(Button("Skip", "rate_skip", str(rating.id)),))]
    item = get_content(session=session, content_id=rating.content_id)
    title = bold(item.title) if item is not None else rating.content_id
    return [
        Reply(
            text=Text("Thanks, I've added your comment to your rating of ", title, "."), quote=rating.comment
        )
    ]


def ask_after_done(item: ContentItem, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Once per lesson, never when already rated: a polite ask for a rating after a completed step."""
    if not ask_once(session=session, user_id=caller.person_id, content_id=item.id, now=bot.clock.now()):
        return []
    return [relevance_question(item, f"|{item.id}", intro="If you have a moment: ")]
