"""The seam between chat platforms and learnbot's logic: small, platform-neutral events.

Adapters (Slack, Teams, console) turn platform payloads into `Incoming`, `Action` and
`Submission`, and render `Reply` back. Adapters say who someone is on their platform (id,
workspace, name, verified email, time zone); `bot.access` decides what that person may do.
Reply text is `bot.markup.Text` (or a plain `str`). Nothing here imports a platform SDK.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["learner", "manager", "admin"]


@dataclass(frozen=True)
class ConversationRef:
    """Enough to reach a person or a place later, unprompted; opaque beyond these fields.

    `user_id` is the person's id on `platform` (empty for a channel post); `channel_id` the
    conversation when known (a Slack DM or channel, a Teams conversation id); `data` whatever
    else that platform needs (Slack: the workspace; Teams: service URL, tenant, bot id).
    """

    platform: str
    user_id: str
    channel_id: str | None = None
    thread_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "user_id": self.user_id,
            "channel_id": self.channel_id,
            "thread_id": self.thread_id,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> ConversationRef:
        return cls(
            platform=str(value.get("platform") or ""),
            user_id=str(value.get("user_id") or ""),
            channel_id=value.get("channel_id"),
            thread_id=value.get("thread_id"),
            data=dict(value.get("data") or {}),
        )


@dataclass(frozen=True)
class Who:
    """Who is acting, as their platform knows them; `email` only when the platform has verified it."""

    platform: str
    user_id: str
    workspace: str | None = None
    name: str | None = None
    email: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Mention:
    """A person named in a message: their user id on this platform, and the label shown in `text`."""

    user_id: str
    label: str


@dataclass(frozen=True)
class ChannelMention:
    """A channel named in a message: its id on this platform, and the label shown in `text` (`#label`)."""

    channel_id: str
    label: str


@dataclass(frozen=True)
class Incoming:
    """A message a person sent: who, where, in which thread, and what they wrote.

    `text` is plain: the adapter has turned its platform's mention syntax into `@label` and
    `#label` and listed them in `mentions` and `channels`. `addressed` is False for a channel
    message not written to learnbot (passive help may answer). `reach` is how to message this
    person later (stored at every contact), when the adapter knows it.
    """

    platform: str
    user_id: str
    text: str
    channel_id: str
    is_direct: bool = True
    thread_id: str | None = None
    event_id: str | None = None
    user_name: str | None = None
    user_email: str | None = None
    user_timezone: str | None = None
    workspace: str | None = None
    addressed: bool = True
    mentions: tuple[Mention, ...] = ()
    channels: tuple[ChannelMention, ...] = ()
    reach: ConversationRef | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def who(self) -> Who:
        return Who(
            self.platform, self.user_id, self.workspace, self.user_name, self.user_email, self.user_timezone
        )

    @property
    def place(self) -> ConversationRef:
        """Where this message was written (for links back to it)."""
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
    is_direct: bool = True
    user_name: str | None = None
    user_email: str | None = None
    user_timezone: str | None = None
    workspace: str | None = None
    reach: ConversationRef | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def who(self) -> Who:
        return Who(
            self.platform, self.user_id, self.workspace, self.user_name, self.user_email, self.user_timezone
        )


@dataclass(frozen=True)
class LessonDraft:
    """A chat message an expert saves as a micro-lesson (a platform form or a chat command): structured.

    `url` links back to the original message; `channel_id` / `message_id` say where it was.
    """

    title: str
    summary: str
    pillar: str | None = None
    impact: str | None = None
    skills: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    url: str | None = None
    channel_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Announcement:
    """A campaign as an L&D admin fills it in (chat command or a platform form): structured, never re-parsed.

    `channels` are (channel id, label) pairs; `at` is a local time in `timezone`; `cron` repeats.
    """

    pathway_id: str
    channels: tuple[ChannelMention, ...]
    message: str
    at: dt.datetime | None = None
    cron: str | None = None
    timezone: str | None = None


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
    curated_by: str | None = None  # the expert who saved it from chat
    validated_by: int = 0  # colleagues (not the curator) who found the curated lesson helpful


@dataclass(frozen=True)
class Attachment:
    """A file a reply carries (a learner's data export). Adapters that can send files attach it
    (Slack uploads it into the conversation); the reply's text always says where else to find it."""

    filename: str
    content: str
    title: str = ""


@dataclass(frozen=True)
class Reply:
    """What a handler wants said: neutral text (`bot.markup.Text` or plain), optional card and buttons.

    Adapters render and escape every span of `text` and `quote` for their platform; a quote
    is shown as a quotation (what someone typed). A reply to a click with `replace_message`
    takes the place of the clicked message's buttons (the card stays). `to_channel` posts in
    another channel (e.g. the SME channel), naming `asker` (a platform user id) and linking
    back to `link_to`, the thread where the question was asked.
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
    attachment: Attachment | None = None  # a file to send with the reply, where the platform can


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
    gaps: tuple[str, ...] = ()  # admins: the top open content-gap clusters, one line each
    gaps_total: int = 0  # how many gap clusters are open in all (`gaps` in chat lists them)
    sharing: Sharing | None = None  # what this person's manager sees of their learning
    team: tuple[TeamMember, ...] = ()  # managers: each direct report's shared learning
    is_manager: bool = False


@dataclass(frozen=True)
class Sharing:
    """A learner's sharing choices as their Home shows them; `manager` None when the org chart names none."""

    manager: str | None
    completions: bool
    ratings: bool
    takeaways_shared: int = 0
    takeaways_private: int = 0


@dataclass(frozen=True)
class TeamMember:
    """One direct report's shared learning, for their manager: only what they chose to share."""

    name: str
    lessons: tuple[str, ...] = ()  # lessons completed recently (when completions are shared)
    takeaways: tuple[tuple[str, str], ...] = ()  # (takeaway, lesson title) they ticked Share for
    pathways: tuple[tuple[str, int, int], ...] = ()  # (pathway title, done, total)
    ratings: tuple[tuple[str, int, int], ...] = ()  # (lesson title, relevance, clarity) when shared


@dataclass(frozen=True)
class Catalogue:
    """A page of lessons to browse: by search words, by pillar, or both."""

    query: str = ""
    pillar: str | None = None
    pillars: tuple[tuple[str, str], ...] = ()
    cards: tuple[AnswerCard, ...] = ()
