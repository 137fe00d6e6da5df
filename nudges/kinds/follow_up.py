"""Follow-ups: "Did you get to apply it?" some days after a step is done, asked at most twice.

The key is `follow-up:<progress>:<n>`, n the how-many-th time it is asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from nudges.clock import as_utc
from nudges.hours import zone_named
from nudges.kinds.base import Message, Pending, Planning
from nudges.kinds.step import active_pathways, lessons
from nudges.messages import follow_up_reply
from storage.models import Enrolment, Person, StepProgress

NAME = "follow_up"
MAX_FOLLOW_UPS = 2


class FollowUps:
    """A finished step's 'did you apply it?' question, with Applied it / Not yet."""

    name = NAME
    personal = True
    priority = 0  # asked before a new step due at the same moment

    def pending(self, planning: Planning) -> Iterable[Pending]:
        pathways = active_pathways(planning.session)
        query = (
            select(StepProgress, Enrolment, Person)
            .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
            .join(Person, col(Person.id) == col(Enrolment.user_id))
            .where(
                col(StepProgress.follow_up_at).is_not(None),
                col(StepProgress.applied_at).is_(None),
                col(Enrolment.status).in_(["active", "completed"]),
                col(Person.active).is_(True),
            )
        )
        for progress, enrolment, person in planning.session.exec(query):
            if enrolment.pathway_id in pathways and progress.follow_ups < MAX_FOLLOW_UPS:
                assert progress.follow_up_at is not None
                yield Pending(NAME, as_utc(progress.follow_up_at), person, progress.content_id, progress)

    def messages(self, planning: Planning, due: Sequence[Pending]) -> list[Message]:
        items = lessons(planning.session, (p.subject for p in due))
        default = planning.config.nudges.default_timezone
        out: list[Message] = []
        updates: list[dict[str, Any]] = []
        for pending in due:
            progress: StepProgress = pending.data
            item = items.get(pending.subject)
            if item is None or progress.id is None or pending.person is None:
                continue
            zone = zone_named(pending.person.timezone, default)
            reply = follow_up_reply(item, progress.id, progress.completed_at or planning.now, zone)
            count = progress.follow_ups + 1
            updates.append({"id": progress.id, "follow_ups": count, "follow_up_at": None})
            out.append(Message(f"follow-up:{progress.id}:{count}", reply, pending))
        if updates:
            planning.session.execute(update(StepProgress), sorted(updates, key=lambda r: r["id"]))
        return out
