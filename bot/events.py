"""The seam between chat platforms and learnbot's logic: small, platform-neutral events.

Adapters (Slack, Teams, console) turn platform payloads into `Incoming` and `Action`
and render `Reply` back. Nothing here imports a platform SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["learner", "manager", "admin"]


@dataclass(frozen=True)
class ConversationRef:
    """Enough to message someone later, unprompted: platform, user and conversation ids."""

    platform: str
    user_id: str
    channel_id: str
    thread_id: str | None = None
    service_url: str | None = None


@dataclass(frozen=True)
class Incoming:
    """A message a person sent: who, where, in which thread, and what they wrote.

    `addressed` is False for a channel message not written to learnbot (passive help may answer).
    """

    platform: str
    user_id: str
    text: str
    channel_id: str
    is_direct: bool = True
    thread_id: str | None = None
    event_id: str | None = None
    user_name: str | None = None
    role: Role = "learner"
    audience: str | None = None
    addressed: bool = True
    user_timezone: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> ConversationRef:
        return ConversationRef(self.platform, self.user_id, self.channel_id, self.thread_id)


@dataclass(frozen=True)
class Action:
    """A button or menu choice: `name` says what was chosen, `value` carries its data."""

    platform: str
    user_id: str
    name: str
    value: str
    channel_id: str
    message_id: str | None = None
    thread_id: str | None = None
    role: Role = "learner"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Button:
    """A choice offered under a reply; clicking it comes back as `Action(name, value)`."""

    label: str
    name: str
    value: str
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class AnswerCard:
    """A micro-lesson as an answer: what it is, why it matters, how long, where."""

    content_id: str
    title: str
    summary: str
    pillar: str | None = None
    impact: str | None = None
    duration_minutes: int | None = None
    url: str | None = None
    confidence: float = 0.0


@dataclass(frozen=True)
class Reply:
    """What a handler wants said: plain text (light markdown), optional card and buttons.

    `text` is written by learnbot; anything a user typed must be passed through the
    adapter's escaping, which is why user text travels in `quote` rather than in `text`.
    A reply to a click with `replace_message` takes the place of the clicked message's
    buttons (the card stays). `to_channel` posts in another channel (e.g. the SME channel),
    naming `asker` and linking back to `link_to`, the thread where the question was asked.
    """

    text: str = ""
    card: AnswerCard | None = None
    buttons: tuple[Button, ...] = ()
    quote: str | None = None
    replace_message: bool = False
    ephemeral: bool = False
    to_channel: str | None = None
    asker: str | None = None
    link_to: ConversationRef | None = None


@dataclass(frozen=True)
class PathwayProgress:
    """One pathway a learner is on: how far they are and what comes next."""

    pathway_id: str
    title: str
    pillar: str | None
    done: int
    total: int
    next_step: str | None = None


@dataclass(frozen=True)
class RecentAnswer:
    """A question someone asked and the lesson they got, with their verdict if they gave one."""

    question_id: int
    question: str
    content_id: str
    title: str
    url: str | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class HomeView:
    """A person's learning at a glance (Slack's App Home tab); admins also get headline numbers and gaps."""

    user_id: str
    pathways: tuple[PathwayProgress, ...] = ()
    recent: tuple[RecentAnswer, ...] = ()
    to_rate: tuple[RecentAnswer, ...] = ()
    is_admin: bool = False
    headline: tuple[tuple[str, str], ...] = ()
    gaps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    """A page of lessons to browse: by search words, by pillar, or both."""

    query: str = ""
    pillar: str | None = None
    pillars: tuple[tuple[str, str], ...] = ()
    cards: tuple[AnswerCard, ...] = ()
