"""Where to message a person: the platform they chose, else the one they used last, among those with a sender.

A stored conversation reference (refreshed at every contact) is how learnbot reaches someone.
On a platform whose sender can open a direct conversation from a user id alone (Slack's
conversations.open, the console) the person's identity there serves too; a sender that needs
an earlier contact (Teams: a conversation from an install) says so with `needs_reference = True`.
Someone with neither on any registered platform is unreachable: their nudges wait, and
`nudges status` counts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlmodel import Session, col, select

from bot.events import ConversationRef
from storage.models import Identity, Person
from storage.people import Reference, choose_reference, references

CHUNK = 5000  # ids per IN (...) list; SQLite allows 32766 parameters


def needs_reference(sender: Any) -> bool:
    """Whether this platform can only reach people who contacted learnbot there before."""
    return bool(getattr(sender, "needs_reference", False))


def _utc(when: dt.datetime | None) -> dt.datetime:
    when = when or dt.datetime.min
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def candidates(
    session: Session, person_ids: Collection[int], senders: Mapping[str, Any] | None
) -> dict[int, list[Reference]]:
    """Each person's usable references, most recently used first (stored ones, then bare identities)."""
    ids = sorted(set(person_ids))
    out: dict[int, list[Reference]] = {}
    for chunk in _chunks(ids):
        out.update(references(session=session, person_ids=chunk))
    open_by_id = None if senders is None else {p for p, s in senders.items() if not needs_reference(s)}
    if open_by_id is None or open_by_id:
        missing = [  # people with no stored reference yet on some platform an identity can reach
            i for i in ids if open_by_id is None or not open_by_id <= {r.platform for r in out.get(i, ())}
        ]
        for chunk in _chunks(missing):
            query = select(Identity).where(col(Identity.person_id).in_(chunk))
            if open_by_id is not None:
                query = query.where(col(Identity.platform).in_(sorted(open_by_id)))
            for identity in session.exec(query):
                known = out.setdefault(identity.person_id, [])
                if any(ref.platform == identity.platform for ref in known):
                    continue  # the stored reference knows more (the DM channel, a thread)
                data = {"workspace": identity.workspace} if identity.workspace else {}
                seen = identity.last_seen_at or identity.created_at
                person_id, user_id = identity.person_id, identity.platform_user_id
                known.append(Reference(person_id, identity.platform, user_id, None, data, seen))
    for refs in out.values():
        refs.sort(key=lambda ref: _utc(ref.updated_at), reverse=True)
    return out


def addresses(
    session: Session, people: Iterable[Person], senders: Mapping[str, Any] | None
) -> dict[int, ConversationRef]:
    """Where each of these people gets nudges now; someone missing from the answer is unreachable.

    `senders` (platform → sender) are the platforms this process can deliver on; None means any.
    """
    wanted = {person.id: person for person in people if person.id is not None}
    refs = candidates(session, wanted, senders)
    out: dict[int, ConversationRef] = {}
    for person_id, person in wanted.items():
        known = refs.get(person_id, [])
        platforms = {ref.platform for ref in known} if senders is None else set(senders)
        chosen = choose_reference(person, known, platforms)
        if chosen is not None:
            out[person_id] = ConversationRef(
                chosen.platform, chosen.platform_user_id or "", chosen.channel_id, data=dict(chosen.data)
            )
    return out
