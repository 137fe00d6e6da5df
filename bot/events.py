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
    """A message a person sent: who, where, in which thread, and what they wrote."""

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
    """

    text: str = ""
    card: AnswerCard | None = None
    buttons: tuple[Button, ...] = ()
    quote: str | None = None
    replace_message: bool = False
    ephemeral: bool = False
