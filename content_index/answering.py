"""What to do with a chat message: answer, offer a short "Not sure" choice, say there is no lesson yet,
or reply to small talk. Platform-free and storage-free, so chat and `learnbot eval` decide alike.

- The question is cleaned first: mentions (`<@U123>`, `<@U123|sam>`, `@learnbot`), channel links,
  `<!here>`, link markup and emoji codes carry no meaning for search and are dropped.
- Small talk (greetings, thanks, "great", "how are you", a bare number) gets a short friendly reply and
  is never searched, so it never becomes a content gap.
- Otherwise search always looks at the same number of lessons (`POOL`), whatever the caller shows,
  so how many results are displayed never changes the answer. Confidence is the calibrated probability
  that the top lesson is right (content_index.confidence): at or above `threshold` it answers (default
  0.7: in steps of 0.05, the lowest threshold at which at most 10% of the sample library's
  unanswerable questions get an answer: at 0.65 two of 15 do, at 0.7 none, at a precision of 0.96 or
  more on every development set; `learnbot eval --sweep` shows the trade-off); below,
  while any of the ranked lessons is still plausible (`NOT_SURE_FLOOR`), it offers the best three as
  a choice; only when none is plausible does it say it has no lesson yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from content_index.search import Filters, Hit, Searchable

ANSWER_THRESHOLD = 0.7  # calibrated probability; see the module doc for how it was chosen
NOT_SURE_FLOOR = 0.2  # below this nothing is plausible enough to offer (the knee on the dev data)
MAX_CHOICES = 3
POOL = 10

Kind = Literal["answer", "not_sure", "no_lesson", "small_talk", "empty"]


@dataclass(frozen=True)
class Decision:
    """The outcome for one message: `hits` are the answer and its alternatives, or the choices."""

    kind: Kind
    question: str
    hits: tuple[Hit, ...] = ()
    reply: str = ""  # the small-talk reply

    @property
    def confidence(self) -> float:
        return self.hits[0].confidence if self.hits else 0.0


_MENTION = re.compile(r"<[@!][^>]*>|<#[A-Z0-9]+\|?([^>]*)>|(?<![\w.])@[\w.-]+")
_LINK = re.compile(r"<(?:https?|mailto):[^|>]*\|([^>]*)>|<(?:https?|mailto):[^>]*>")
_EMOJI = re.compile(r":[a-z0-9_+-]+:")
_MARKUP = re.compile(r"(?<!\w)[*_~`]+|[*_~`]+(?!\w)")


# Words a question opens with: "how do I…", "anyone know…", "is there…".
QUESTION_WORDS = frozenset(
    [
        "how",
        "what",
        "where",
        "why",
        "when",
        "who",
        "which",
        "can",
        "could",
        "should",
        "would",
        "will",
        "is",
        "are",
        "do",
        "does",
        "did",
        "has",
        "have",
        "any",
        "anyone",
        "where's",
        "what's",
    ]
)


def reads_as_question(text: str) -> bool:
    """Whether a message reads as a question: it ends with '?' or opens with a question word."""
    words = text.strip().split(maxsplit=1)
    return bool(words) and (text.rstrip().endswith("?") or words[0].lower().strip(",.:") in QUESTION_WORDS)


def clean_question(text: str) -> str:
    """The question without mentions, platform link syntax, emoji codes or emphasis marks."""
    text = _LINK.sub(lambda m: m.group(1) or " ", text)
    text = _MENTION.sub(lambda m: m.group(1) or " ", text)
    text = _EMOJI.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    return " ".join(text.split())


_GREETING = {"hi", "hello", "hey", "hiya", "heya", "yo", "howdy", "morning", "afternoon", "evening", "gm"}
_THANKS = {"thanks", "thank", "thx", "ty", "cheers", "ta", "appreciated", "tysm", "thnx", "thanx"}
_ACK = {
    "great", "ok", "okay", "k", "cool", "nice", "awesome", "perfect", "brilliant", "excellent", "lovely",
    "super", "amazing", "fab", "fantastic", "wonderful", "sweet", "lol", "haha", "yes", "yep", "yeah",
    "no", "nope", "nah", "sure", "fine", "got", "noted", "understood", "alright", "right", "wow", "done",
}  # fmt: skip
_BYE = {"bye", "goodbye", "cya", "later", "night", "goodnight", "ciao"}
_HOW_ARE_YOU = {"how", "are", "r", "u", "you", "doing", "going", "is", "it", "its", "whats", "what's", "up",
                "sup", "hows", "how's", "things", "ya", "today", "y'all", "wassup"}  # fmt: skip
_FILLER = {"good", "very", "so", "much", "a", "lot", "all", "there", "again", "for", "the", "help", "that",
           "this", "it", "that's", "thats", "works", "worked", "learnbot", "bot", "mate", "team", "and",
           "oh", "ah", "well", "see", "you", "soon", "then", "one", "really", "just", "many", "kind",
           "i", "me", "to", "too", "was", "helpful", "useful", "sounds", "looks", "day", "have"}  # fmt: skip
_SMALL_TALK_WORDS = _GREETING | _THANKS | _ACK | _BYE | _HOW_ARE_YOU | _FILLER
_WORD = re.compile(r"[a-z']+|\d+")

GREETING_REPLY = "Hi! Ask me how to do something at work, for example: how do I give feedback to a peer?"
THANKS_REPLY = "You're welcome! Ask me any time you're stuck on something at work."
HOW_ARE_YOU_REPLY = "I'm doing well, thanks for asking! What are you working on? Ask me how to do something."
ACK_REPLY = "Great! If anything else comes up, just ask me how to do it."
BYE_REPLY = "Bye for now! I'm here whenever you need a lesson."
NUMBER_REPLY = (
    "There are no buttons to press right now. Ask me a question, for example: how do I book annual leave?"
)


def small_talk(text: str) -> str | None:
    """A short friendly reply when the whole message is small talk, else None (then it is a question)."""
    lowered = text.lower().replace("\u2019", "'")
    found = _WORD.findall(lowered)
    if not found:
        return GREETING_REPLY if not lowered.strip() else ACK_REPLY  # only emoji or punctuation
    if len(found) == 1 and found[0].isdigit():
        return NUMBER_REPLY
    if len(found) > 8 or any(word not in _SMALL_TALK_WORDS for word in found):
        return None
    words = set(found)
    if words & _THANKS:
        return THANKS_REPLY
    if {"how", "what's", "whats", "sup", "hows", "how's", "wassup"} & words and words & _HOW_ARE_YOU - {"is"}:
        return HOW_ARE_YOU_REPLY
    if words & _BYE:
        return BYE_REPLY
    if words & _GREETING or words <= {"good"}:
        return GREETING_REPLY
    if words & _ACK:
        return ACK_REPLY
    return None


def decide(
    index: Searchable,
    message: str,
    *,
    filters: Filters | None = None,
    alternatives: int = 2,
    threshold: float = ANSWER_THRESHOLD,
) -> Decision:
    """Answer, not sure, no lesson, small talk or empty, for one chat message (see module doc)."""
    question = clean_question(message)
    if not question:
        return Decision("empty", question)
    reply = small_talk(question)
    if reply is not None:
        return Decision("small_talk", question, reply=reply)
    hits = index.search(question, filters=filters, k=search_depth(alternatives))
    return classify(question, hits, alternatives=alternatives, threshold=threshold)


def search_depth(alternatives: int = 2) -> int:
    """How many lessons to rank for a decision: always the same, whatever is displayed."""
    return max(POOL, alternatives + 1, MAX_CHOICES)


def classify(
    question: str, hits: list[Hit], *, alternatives: int = 2, threshold: float = ANSWER_THRESHOLD
) -> Decision:
    """Answer, not sure or no lesson, from a ranking with calibrated confidences (every hit counts)."""
    if not hits:
        return Decision("no_lesson", question)
    if hits[0].confidence >= threshold:
        return Decision("answer", question, tuple(hits[: 1 + alternatives]))
    floor = min(NOT_SURE_FLOOR, threshold)
    if max(hit.confidence for hit in hits) >= floor:
        return Decision("not_sure", question, tuple(hits[:MAX_CHOICES]))
    return Decision("no_lesson", question, tuple(hits[:1]))
