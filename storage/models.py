"""SQLModel tables: the one record of people, content, pathways, questions, feedback and deliveries.

Times are stored in UTC. Lists (skills, impact tags, audience) are JSON columns so the
same schema works on SQLite and PostgreSQL. Schema changes go through Alembic migrations.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    """Now in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kwargs)


class Person(SQLModel, table=True):
    """A person learnbot knows, on one or more platforms; everything a learner owns points here.

    Other tables name a person in a `user_id` column. `manager_id` is the org chart (filled
    from a roster or Microsoft Graph); `role` and `team` are stored attributes audience rules
    match; `active` is False for someone who left (kept with their history).
    """

    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    timezone: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=40)
    team: str | None = Field(default=None, max_length=100)
    manager_id: int | None = Field(default=None, foreign_key="person.id")
    preferred_platform: str | None = Field(default=None, max_length=20)
    active: bool = True
    created_at: dt.datetime = _when(default_factory=utcnow)


class Identity(SQLModel, table=True):
    """One platform account of a person: a Slack user in a workspace, a Teams user in a tenant, console."""

    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str = Field(max_length=20)
    platform_user_id: str = Field(max_length=100)
    workspace: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    created_at: dt.datetime = _when(default_factory=utcnow)
    last_seen_at: dt.datetime | None = _when(default=None)


class ContentItem(SQLModel, table=True):
    """A micro-lesson or catalogue entry; never deleted, only marked inactive when its source drops it."""

    id: str = Field(primary_key=True, max_length=200)
    source: str = Field(max_length=100, index=True)
    kind: str = Field(default="lesson", max_length=20)
    title: str = Field(max_length=500)
    summary: str = Field(default="", sa_type=Text)
    body: str = Field(default="", sa_type=Text)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pillar: str | None = Field(default=None, max_length=100, index=True)
    impact: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    audience: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    duration_minutes: int | None = None
    url: str | None = Field(default=None, max_length=2000)
    reviewed: dt.date | None = None
    content_hash: str = Field(max_length=64)
    location: str = Field(default="", max_length=1000)
    active: bool = Field(default=True, index=True)
    created_at: dt.datetime = _when(default_factory=utcnow)
    updated_at: dt.datetime = _when(default_factory=utcnow)
    deactivated_at: dt.datetime | None = _when(default=None)


class Pillar(SQLModel, table=True):
    """A strategic pillar, mirrored from app.yaml so reports can join on it."""

    id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=200)
    imperative: str = Field(default="", sa_type=Text)


class Pathway(SQLModel, table=True):
    """A hero pathway tied to a strategic imperative."""

    id: str = Field(primary_key=True, max_length=100)
    title: str = Field(max_length=300)
    pillar_id: str = Field(foreign_key="pillar.id", max_length=100)
    imperative: str = Field(default="", sa_type=Text)
    audience: dict[str, list[str]] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cadence_days: int = 7
    due: dt.date | None = None
    active: bool = True
    # Set when an L&D admin edits the steps in chat: app.yaml's steps no longer overwrite them.
    edited_by: str | None = Field(default=None, max_length=100)
    edited_at: dt.datetime | None = _when(default=None)


class PathwayStep(SQLModel, table=True):
    """One ordered step of a pathway, naming a content item."""

    pathway_id: str = Field(foreign_key="pathway.id", primary_key=True, max_length=100)
    position: int = Field(primary_key=True)
    content_id: str = Field(foreign_key="contentitem.id", max_length=200)


class Enrolment(SQLModel, table=True):
    """A learner on a pathway: how they joined and whether they are still on it."""

    __table_args__ = (UniqueConstraint("user_id", "pathway_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="person.id", index=True)
    pathway_id: str = Field(foreign_key="pathway.id", max_length=100)
    joined_by: str = Field(default="self", max_length=20)
    status: str = Field(default="active", max_length=20)
    enrolled_at: dt.datetime = _when(default_factory=utcnow)
    # Nudge state: not before this time; which step was last nudged and how many times.
    next_nudge_at: dt.datetime | None = _when(default=None)
    nudged_step: str | None = Field(default=None, max_length=200)
    nudges_for_step: int = 0


class StepProgress(SQLModel, table=True):
    """Progress on one content item in an enrolment: started, completed, applied."""

    __table_args__ = (UniqueConstraint("enrolment_id", "content_id"),)

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    content_id: str = Field(foreign_key="contentitem.id", max_length=200)
    started_at: dt.datetime | None = _when(default=None)
    completed_at: dt.datetime | None = _when(default=None)
    applied_at: dt.datetime | None = _when(default=None)
    takeaway: str | None = Field(default=None, sa_type=Text)
    share_with_manager: bool = False
    # "Did you get to apply it?": when to ask next, how often asked, when a takeaway was requested.
    follow_up_at: dt.datetime | None = _when(default=None)
    follow_ups: int = 0
    takeaway_asked_at: dt.datetime | None = _when(default=None)


class Question(SQLModel, table=True):
    """A question someone asked, whether it was answered, and if not, a content gap."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    platform: str = Field(max_length=20)
    channel_id: str = Field(default="", max_length=300)  # Teams conversation ids run past 100 (0014)
    thread_id: str | None = Field(default=None, max_length=100)
    text: str = Field(sa_type=Text)
    answered: bool = True
    confidence: float = 0.0
    asked_at: dt.datetime = _when(default_factory=utcnow, index=True)


class AnswerShown(SQLModel, table=True):
    """One lesson shown for a question, with its rank (0 is the answer card)."""

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    content_id: str = Field(foreign_key="contentitem.id", max_length=200)
    rank: int = 0
    confidence: float = 0.0
    shown_at: dt.datetime = _when(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    """A learner's verdict on a lesson: helpful / not helpful, or 1-5 ratings."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    content_id: str = Field(foreign_key="contentitem.id", max_length=200, index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id")
    verdict: str = Field(max_length=20)
    relevance: int | None = None
    clarity: int | None = None
    comment: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = _when(default_factory=utcnow)


class ConversationReference(SQLModel, table=True):
    """How to reach a person later on one platform, refreshed at every contact; opaque beyond its ids."""

    __table_args__ = (UniqueConstraint("user_id", "platform"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="person.id")
    platform: str = Field(max_length=20)
    platform_user_id: str | None = Field(default=None, max_length=100)
    channel_id: str | None = Field(default=None, max_length=300)  # Teams conversation ids (0014)
    service_url: str | None = Field(default=None, max_length=500)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = _when(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """A message to deliver later; the idempotency key makes enqueueing twice a no-op."""

    __table_args__ = (
        Index("ix_outboxmessage_status_due_at", "status", "due_at"),
        Index("ix_outboxmessage_status_created_at", "status", "created_at"),  # claims: oldest message first
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True)
    platform: str = Field(max_length=20)
    user_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    channel_id: str | None = Field(default=None, max_length=300)  # Teams conversation ids (0014)
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20, index=True)
    due_at: dt.datetime = _when(default_factory=utcnow, index=True)
    attempts: int = 0
    lease_until: dt.datetime | None = _when(default=None)
    # The claim holding the row while `sending`: every state change must present it (fencing).
    claim_token: str | None = Field(default=None, max_length=36)
    # An earlier attempt may have reached the platform (timeout, dropped connection, a dispatcher
    # that died mid-send): the next one looks for the message before sending it again.
    maybe_sent: bool = False
    last_error: str | None = Field(default=None, sa_type=Text)
    sent_at: dt.datetime | None = _when(default=None)
    delivery_id: str | None = Field(default=None, max_length=100)  # the platform's id for the message
    created_at: dt.datetime = _when(default_factory=utcnow)


class ProcessedEvent(SQLModel, table=True):
    """An inbound event id already handled, so retries and duplicates never answer twice."""

    id: str = Field(primary_key=True, max_length=300)
    processed_at: dt.datetime = _when(default_factory=utcnow)


class SlackInstallation(SQLModel, table=True):
    """One workspace (or org) install of the Slack app: who installed it and its tokens (slack_sdk data)."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=100, index=True)
    enterprise_id: str | None = Field(default=None, max_length=40)
    team_id: str | None = Field(default=None, max_length=40, index=True)
    user_id: str | None = Field(default=None, max_length=40)
    is_enterprise_install: bool = False
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    installed_at: dt.datetime = _when(default_factory=utcnow)


class SlackOAuthState(SQLModel, table=True):
    """A one-time `state` for the OAuth redirect; consumed once, expires after ten minutes."""

    state: str = Field(primary_key=True, max_length=200)
    expire_at: dt.datetime = _when()


class NudgePreference(SQLModel, table=True):
    """A learner's say over nudges: stopped altogether, or paused until a time."""

    user_id: int = Field(foreign_key="person.id", primary_key=True)
    opted_out: bool = False
    snoozed_until: dt.datetime | None = _when(default=None)
    updated_at: dt.datetime = _when(default_factory=utcnow)


class Campaign(SQLModel, table=True):
    """An announcement with a pathway invitation, posted to channels now, once at a time, or on a cron."""

    id: str = Field(primary_key=True, max_length=100)
    title: str = Field(max_length=300)
    message: str = Field(default="", sa_type=Text)
    pathway_id: str | None = Field(default=None, foreign_key="pathway.id", max_length=100)
    platform: str = Field(default="slack", max_length=20)
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cron: str | None = Field(default=None, max_length=100)
    timezone: str = Field(default="UTC", max_length=64)
    send_at: dt.datetime | None = _when(default=None)
    source: str = Field(default="config", max_length=20)
    created_by: str | None = Field(default=None, max_length=100)
    active: bool = True
    paused: bool = False  # paused by an admin in chat; app.yaml syncs leave it paused
    created_at: dt.datetime = _when(default_factory=utcnow)


class CampaignEvent(SQLModel, table=True):
    """Something that happened to a campaign: posted to a channel, a button clicked, a learner joined."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=100, index=True)
    kind: str = Field(max_length=20)
    user_id: int | None = Field(default=None, foreign_key="person.id")
    channel_id: str | None = Field(default=None, max_length=300)  # Teams conversation ids (0014)
    at: dt.datetime = _when(default_factory=utcnow)


class Meeting(SQLModel, table=True):
    """One 1:1 occurrence between a manager and a direct report, from a calendar or a roster.

    `id` is stable for the occurrence ("graph:<event id>", "roster:<manager>:<report>:<date>"), so
    reading calendars again updates the row: a moved meeting moves its prompt, a cancelled one
    (status "cancelled", or not seen again in its window) cancels it. `response` is the manager's
    answer to the prompt ("discussed" / "not_this_time").
    """

    id: str = Field(primary_key=True, max_length=300)
    manager_id: int = Field(foreign_key="person.id", index=True)
    report_id: int = Field(foreign_key="person.id", index=True)
    start_at: dt.datetime = _when(index=True)
    end_at: dt.datetime | None = _when(default=None)
    source: str = Field(max_length=20)
    status: str = Field(default="scheduled", max_length=20)
    seen_at: dt.datetime = _when(default_factory=utcnow)
    response: str | None = Field(default=None, max_length=20)
    responded_at: dt.datetime | None = _when(default=None)


class SharingPreference(SQLModel, table=True):
    """What a learner lets their manager see: completions (default on) and ratings (default off).

    Takeaways are shared one by one (`StepProgress.share_with_manager`, off until ticked).
    """

    user_id: int = Field(foreign_key="person.id", primary_key=True)
    completions: bool = True
    ratings: bool = False
    updated_at: dt.datetime = _when(default_factory=utcnow)


class Rating(SQLModel, table=True):
    """One person's rating of one lesson (rating again updates it): relevance to their role and
    strategic clarity (how clearly it shows which company goal it serves), 1-5 each, and a comment.

    `comment_asked_at` is set while learnbot waits for the optional typed comment.
    """

    __table_args__ = (UniqueConstraint("user_id", "content_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="person.id", index=True)
    content_id: str = Field(foreign_key="contentitem.id", max_length=200, index=True)
    role_relevance: int
    strategic_clarity: int
    comment: str | None = Field(default=None, sa_type=Text)
    comment_asked_at: dt.datetime | None = _when(default=None)
    created_at: dt.datetime = _when(default_factory=utcnow)
    updated_at: dt.datetime = _when(default_factory=utcnow)


class Curation(SQLModel, table=True):
    """Who saved a chat message as a micro-lesson (a ContentItem with source "curated"), and from where."""

    content_id: str = Field(foreign_key="contentitem.id", primary_key=True, max_length=200)
    curated_by: int = Field(foreign_key="person.id", index=True)
    platform: str = Field(max_length=20)
    channel_id: str | None = Field(default=None, max_length=100)
    message_id: str | None = Field(default=None, max_length=100)
    created_at: dt.datetime = _when(default_factory=utcnow)


class LessonOverlay(SQLModel, table=True):
    """An admin's pillar and impact tag for a lesson, applied on top of its source at every index run."""

    content_id: str = Field(foreign_key="contentitem.id", primary_key=True, max_length=200)
    pillar: str | None = Field(default=None, max_length=100)
    impact: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    edited_by: int | None = Field(default=None, foreign_key="person.id")
    edited_at: dt.datetime = _when(default_factory=utcnow)


class RatingAsk(SQLModel, table=True):
    """learnbot asked this person, unprompted, to rate this lesson (after a completed step): only once."""

    user_id: int = Field(foreign_key="person.id", primary_key=True)
    content_id: str = Field(foreign_key="contentitem.id", primary_key=True, max_length=200)
    asked_at: dt.datetime = _when(default_factory=utcnow)


class SourceState(SQLModel, table=True):
    """What a remote content source remembers between runs (a SharePoint delta link, known items).

    Written in the same transaction as the content it describes, so a failed run asks again
    from the previous state and nothing is skipped.
    """

    name: str = Field(primary_key=True, max_length=100)
    delta_link: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = _when(default_factory=utcnow)


class MeetingPrompt(SQLModel, table=True):
    """The manager's prompt for one 1:1 occurrence: decided once per meeting start, so calendars read
    again never prompt twice; `outbox_key` names the queued message (None when nothing new was sent).
    """

    meeting_id: str = Field(foreign_key="meeting.id", primary_key=True, max_length=300)
    start_at: dt.datetime = _when()  # the meeting start the prompt was planned for (a move re-plans it)
    outbox_key: str | None = Field(default=None, max_length=300)
    # queued | nothing_new | cancelled (taken back) | sent (then cancelled)
    outcome: str = Field(max_length=20)
    decided_at: dt.datetime = _when(default_factory=utcnow)


class GapState(SQLModel, table=True):
    """What happened to one cluster of content-gap questions: sent to the experts, closed by a lesson.

    `id` is the cluster's stable id: the id of its first question (content_index.gaps clusters
    questions in the order they were asked, so a cluster's first question never changes). Only
    clusters something happened to have a row; the clusters themselves are computed from questions.
    """

    __tablename__ = "gapcluster"

    id: int = Field(primary_key=True)
    sent_at: dt.datetime | None = _when(default=None)
    sent_by: int | None = Field(default=None, foreign_key="person.id")
    closed_at: dt.datetime | None = _when(default=None)
    closed_by: str | None = Field(default=None, max_length=200)  # the lesson that now answers it
    updated_at: dt.datetime = _when(default_factory=utcnow)


class PulseAnswer(SQLModel, table=True):
    """One learner's answer to the purpose pulse in one period (1-5); updatable within the period.

    Only ever reported in groups of at least `storage.pulse.MIN_GROUP` people.
    """

    __table_args__ = (UniqueConstraint("user_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="person.id", index=True)
    period: str = Field(max_length=20, index=True)
    score: int
    answered_at: dt.datetime = _when(default_factory=utcnow)


class OrgMember(SQLModel, table=True):
    """A person as the org chart source (Graph or a roster) last listed them, so a later sync knows who left.

    `external_id` is the Graph user id (calendars are read by it); `principal_name` the sign-in name
    attendees may be addressed by. `left_at` is set when a sync no longer lists them (the person is
    then inactive, never deleted) and cleared if they come back.
    """

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    source: str = Field(max_length=20, index=True)
    external_id: str | None = Field(default=None, max_length=200, index=True)
    principal_name: str | None = Field(default=None, max_length=320)
    synced_at: dt.datetime = _when(default_factory=utcnow)
    left_at: dt.datetime | None = _when(default=None)


class XapiStatement(SQLModel, table=True):
    """An xAPI statement built from a learning event, kept as sent (or to be sent) to the LRS.

    `key` names the event and `id` is the statement id derived from it (a UUID), so an event is
    recorded once however often it is swept; `statement` the exact JSON sent; `batch` the outbox
    key of the POST carrying it; `sent_at` when the LRS accepted it. A person's export lists these.
    """

    id: str = Field(primary_key=True, max_length=36)
    key: str = Field(max_length=300, unique=True)  # the event, e.g. "completed:step:12"
    user_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    verb: str = Field(max_length=20)
    object: str = Field(max_length=2000)
    timestamp: dt.datetime = _when(index=True)
    statement: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    batch: str | None = Field(default=None, max_length=300, index=True)
    recorded_at: dt.datetime = _when(default_factory=utcnow)
    sent_at: dt.datetime | None = _when(default=None)
