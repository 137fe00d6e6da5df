"""The one interface every kind of nudge implements, and what travels between it and the planner.

A kind answers two questions. `pending(planning)`: every message of this kind that could go
out at some time, each with its earliest moment (the planner keeps the due ones and learns
from the others when to wake next). `messages(planning, due)`: the outbox rows for the ones the
planner chose now, each with an idempotency key built from stored state, so two planners make
one row; it may also record its own state (which step was nudged, how often asked).

A personal kind writes to one person: the planner applies the shared rules first (opt-out,
snooze, whether learnbot can reach them and on which platform, their working hours and quiet
days, one nudge a day, `max_per_week`) and addresses each row to the person. A channel kind
(campaign posts) names its own channels and is due at its own moments.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import Session

from bot.config import AppConfig
from bot.events import ConversationRef, Reply
from storage.models import Person


@dataclass
class Planning:
    """One planning pass: the session, app.yaml, the time, and counters kinds may add to."""

    session: Session
    config: AppConfig
    now: dt.datetime
    notes: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Pending:
    """A message a kind could send: its earliest moment, to whom (personal kinds), the kind's own data."""

    kind: str
    earliest: dt.datetime
    person: Person | None = None
    subject: str = ""  # what it is about, for `nudges status` and logs (a lesson id, a campaign id)
    data: Any = None


@dataclass(frozen=True)
class Message:
    """One outbox row a kind wants written: key, reply, and for channel kinds where and when."""

    key: str
    reply: Reply
    pending: Pending
    to: ConversationRef | None = None  # personal kinds leave it to the planner
    due_at: dt.datetime | None = None  # default: now
    extra: dict[str, Any] = field(default_factory=dict)  # more payload fields (e.g. pathway, campaign)


class Kind(Protocol):
    """A kind of nudge: registered once in `nudges.kinds.KINDS`."""

    name: str  # the outbox row's kind
    personal: bool  # to one person, under caps, working hours, quiet days and opt-out
    priority: int  # among a person's nudges due at the same moment, lower goes first

    def pending(self, planning: Planning) -> Iterable[Pending]: ...

    def messages(self, planning: Planning, due: Sequence[Pending]) -> list[Message]: ...
