"""The kinds of nudge the planner knows, in one list: adding a kind is one module and one line here.

Each kind implements `nudges.kinds.base.Kind` (what could be sent and from when → outbox rows
with idempotency keys). The planner asks every registered kind on every pass; personal kinds
share the caps, working hours, quiet days and opt-out.
"""

from __future__ import annotations

from collections.abc import Sequence

from nudges.kinds.base import Kind, Message, Pending, Planning
from nudges.kinds.campaign import CampaignPosts
from nudges.kinds.follow_up import FollowUps
from nudges.kinds.one_on_one import OneOnOnePrompts
from nudges.kinds.pulse import Pulses
from nudges.kinds.step import Steps

KINDS: list[Kind] = [
    Steps(),
    FollowUps(),
    CampaignPosts(),
    Pulses(),
    OneOnOnePrompts(),
]


def personal_names(kinds: Sequence[Kind] | None = None) -> tuple[str, ...]:
    """The outbox kinds sent to one person (counted by the weekly cap, cancelled by 'Stop nudges')."""
    return tuple(kind.name for kind in (KINDS if kinds is None else kinds) if kind.personal)


def capped_names(kinds: Sequence[Kind] | None = None) -> tuple[str, ...]:
    """The personal kinds under the learning caps (one a day, `max_per_week`); a kind with `capped = False`
    (the manager's 1:1 prompt) is neither held back by them nor counted towards them."""
    chosen = KINDS if kinds is None else kinds
    return tuple(kind.name for kind in chosen if kind.personal and getattr(kind, "capped", True))


__all__ = ["KINDS", "Kind", "Message", "Pending", "Planning", "capped_names", "personal_names"]
