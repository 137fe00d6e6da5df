"""Everything stored about one person, found generically, exported as JSON or erased.

Tables are found from the schema itself (SQLModel metadata foreign keys to `person.id`), so a table
another part of learnbot adds later is exported and erased without changing this module. A row is
the person's when a column references them ("owned" when that column is `user_id`); a row that
references an owned row (progress on their enrolment, lessons shown for their question) is theirs too.

Erasing keeps anonymous counts. Decision: the person's rows are pointed at a tombstone, a new
person with no name, email, team or time zone, created for this one erasure, and the person row
itself is deleted. One tombstone per erasure keeps every count right (questions asked, distinct
learners, completions by pillar) while nothing ties the rows to anyone: the tombstone has no
identity, reference or link to the old id. Identities, conversation references and rows whose key
is the person (preferences, sharing, org membership) are deleted; free text and JSON in rows they
own (question text, takeaways, rating comments, outbox payloads, xAPI statements) are emptied;
then every text and JSON column of every table except lessons and people is searched for what
identified them (names, emails, platform ids, DM channels, their questions' and takeaways' text)
and each occurrence replaced by "[erased]".
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, cast, delete, func, insert, or_, select, update
from sqlmodel import Session, SQLModel

from storage.models import ConversationReference, Identity, NudgePreference, OutboxMessage, Person, utcnow
from storage.outbox import CANCELLED, PENDING
from storage.xapi import forget_person as forget_statements

ERASED = "[erased]"
MIN_TOKEN = 4  # shorter strings ("ok", a two-letter name) would erase unrelated text
# What they wrote is searched for elsewhere (a question quoted to the experts) only when it is long
# enough to be theirs: "help" or "excel pivot" in someone else's question is not about this person.
MIN_WRITTEN = 15
DELETED_TABLES = ("identity", "conversationreference")  # who they are and how to reach them
UNSEARCHED_TABLES = ("person", "contentitem")  # other people's names; lessons are not personal data
_CHUNK = 40  # tokens per query (SQLite limits expression depth)
# Text columns of owned rows that hold what the person wrote (searched for elsewhere when erasing).
WRITTEN = ("text", "comment", "takeaway", "note", "answer_text")


class PersonNotFound(LookupError):
    """No stored person matches what was given (an email, a person id, or platform:id)."""


@dataclass(frozen=True)
class Link:
    """A column of `table` that points at the person (`parent` None) or at a row of a table that does."""

    table: Table
    column: Column[Any]
    parent: Link | None = None

    @property
    def owned(self) -> bool:
        """The row belongs to the person (a `user_id`), rather than naming them (a manager, a curator)."""
        return self.column.name == "user_id" if self.parent is None else self.parent.owned


@dataclass
class Erasure:
    """What an erasure did, for the message and the CLI."""

    person_id: int
    tombstone_id: int
    deleted: dict[str, int] = field(default_factory=dict)
    kept_anonymous: dict[str, int] = field(default_factory=dict)
    scrubbed: dict[str, int] = field(default_factory=dict)


def find_person(*, session: Session, who: str) -> Person:
    """A person by email, person id, or `platform:id` (e.g. slack:U024BE7LH); raises PersonNotFound."""
    text = who.strip()
    person: Person | None = None
    if text.isdigit():
        person = session.get(Person, int(text))
    elif "@" in text and ":" not in text:
        person = (
            session.execute(select(Person).where(func.lower(Person.email) == text.lower())).scalars().first()
        )
        if person is None:
            found = (
                session.execute(select(Identity).where(func.lower(Identity.email) == text.lower()))
                .scalars()
                .first()
            )
            person = session.get(Person, found.person_id) if found else None
    elif ":" in text:
        platform, _, user_id = text.partition(":")
        found = (
            session.execute(
                select(Identity).where(
                    Identity.platform == platform.lower(), Identity.platform_user_id == user_id
                )
            )
            .scalars()
            .first()
        )
        person = session.get(Person, found.person_id) if found else None
    if person is None:
        raise PersonNotFound(
            f"no person matches {who!r}: give an email, a person id (a number) "
            "or platform:id (e.g. slack:U024BE7LH)"
        )
    return person


def links(metadata: Any = None) -> list[Link]:
    """Every column that points at a person, then every column that points at a row of such a table."""
    metadata = metadata or SQLModel.metadata
    person = metadata.tables["person"]
    direct = [
        Link(table, fk.parent)
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table is person and table is not person
    ]
    owned = {link.table.name: link for link in direct if link.owned and link.table.name not in DELETED_TABLES}
    second = [
        Link(table, fk.parent, owned[fk.column.table.name])
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name in owned and table.name not in owned and fk.column.primary_key
    ]
    return direct + second


def _rows(session: Session, link: Link, person_id: int) -> list[dict[str, Any]]:
    if link.parent is None:
        condition = link.column == person_id
    else:
        parent_pk = next(iter(link.parent.table.primary_key.columns))
        condition = link.column.in_(select(parent_pk).where(link.parent.column == person_id))
    result = session.execute(select(link.table).where(condition))
    return [dict(row._mapping) for row in result]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def export_person(*, session: Session, person_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """One JSON-ready object with everything stored about the person, table by table.

    `xapi_statements_sent` lists the learning statements already delivered to the LRS (those
    learnbot cannot take back), when the xAPI table exists.
    """
    session.flush()
    person_table = SQLModel.metadata.tables["person"]
    row = session.execute(select(person_table).where(person_table.c.id == person_id)).first()
    if row is None:
        raise PersonNotFound(f"no person with id {person_id}")
    tables: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[Any, ...]] = set()  # a row two of its columns point from (a meeting) is listed once
    for link in links():
        keys = [column.name for column in link.table.primary_key.columns]
        for found in _rows(session, link, person_id):
            key = (link.table.name, *(found[name] for name in keys))
            if key not in seen:
                seen.add(key)
                tables.setdefault(link.table.name, []).append({k: _json_value(v) for k, v in found.items()})
    out: dict[str, Any] = {
        "exported_at": (now or utcnow()).isoformat(),
        "person": {key: _json_value(value) for key, value in row._mapping.items()},
        "tables": {name: tables[name] for name in sorted(tables)},
    }
    if "xapistatement" in SQLModel.metadata.tables:
        out["xapi_statements_sent"] = [s for s in tables.get("xapistatement", []) if s.get("sent_at")]
    return out


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def identifying_strings(*, session: Session, person_id: int) -> set[str]:
    """What identifies the person in text: names, emails, platform ids, DM channels, what they wrote."""
    person = session.get(Person, person_id)
    found: set[str] = set()
    if person is not None:
        found |= {person.display_name or "", person.email or ""}
    for identity in session.execute(select(Identity).where(Identity.person_id == person_id)).scalars():
        found |= {identity.platform_user_id, identity.email or ""}
    refs = session.execute(
        select(ConversationReference).where(ConversationReference.user_id == person_id)
    ).scalars()
    for ref in refs:
        found |= {ref.platform_user_id or "", ref.channel_id or ""}
    for link in links():
        if not link.owned:
            continue
        for row in _rows(session, link, person_id):
            for name in WRITTEN:
                if isinstance(row.get(name), str) and len(row[name].strip()) >= MIN_WRITTEN:
                    found.add(row[name])
    return {text.strip() for text in found if text and len(text.strip()) >= MIN_TOKEN}


def erase_person(*, session: Session, person_id: int) -> Erasure:
    """Remove the person's personal data and keep anonymous counts (see the module docstring)."""
    session.flush()
    if session.get(Person, person_id) is None:
        raise PersonNotFound(f"no person with id {person_id}")
    tokens = identifying_strings(session=session, person_id=person_id)
    person_table = SQLModel.metadata.tables["person"]
    old = session.get(Person, person_id)
    assert old is not None
    tombstone = session.execute(
        insert(person_table).values(
            display_name=None,
            email=None,
            timezone=None,
            role=old.role,
            team=None,
            manager_id=None,
            preferred_platform=None,
            active=False,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]
    erasure = Erasure(person_id=person_id, tombstone_id=tombstone)
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    session.execute(  # nothing more is sent to them; what was queued goes with the rest
        update(outbox)
        .where(outbox.c.user_id == person_id, outbox.c.status == PENDING)
        .values(status=CANCELLED, last_error="cancelled: the person's data was erased")
    )
    forget_statements(session=session, user_id=person_id)  # unsent xAPI statements are never sent
    all_links = links()
    for link in [lk for lk in all_links if lk.parent is not None] + [
        lk for lk in all_links if lk.parent is None
    ]:
        _erase_link(session, link, person_id, erasure)
    session.execute(
        update(person_table).where(person_table.c.manager_id == person_id).values(manager_id=tombstone)
    )
    session.expunge_all()
    session.execute(delete(person_table).where(person_table.c.id == person_id))
    # The tombstone keeps their enrolments for the counts: no nudge kind may plan for it.
    session.execute(
        insert(NudgePreference.__table__).values(user_id=tombstone, opted_out=True, updated_at=utcnow())
    )  # type: ignore[attr-defined]
    _scrub(session, tokens, erasure)
    session.flush()
    return erasure


def _erase_link(session: Session, link: Link, person_id: int, erasure: Erasure) -> None:
    table = link.table
    if link.parent is None:
        condition = link.column == person_id
    else:
        parent_pk = next(iter(link.parent.table.primary_key.columns))
        condition = link.column.in_(select(parent_pk).where(link.parent.column == person_id))
    if link.parent is None and (table.name in DELETED_TABLES or link.column.primary_key):
        count = session.execute(delete(table).where(condition)).rowcount
        erasure.deleted[table.name] = erasure.deleted.get(table.name, 0) + (count or 0)
        return
    if link.owned:
        _empty_free_text(session, table, condition)
    if link.parent is None:
        count = session.execute(
            update(table).where(condition).values({link.column.name: erasure.tombstone_id})
        ).rowcount
        erasure.kept_anonymous[table.name] = erasure.kept_anonymous.get(table.name, 0) + (count or 0)


def _empty_free_text(session: Session, table: Table, condition: Any) -> None:
    """Free text (Text columns) and JSON documents in rows the person owns: what they wrote, what was sent."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key or column.foreign_keys:
            continue
        if isinstance(column.type, Text):
            values[column.name] = None if column.nullable else ""
        elif isinstance(column.type, JSON):
            values[column.name] = None if column.nullable else {}
    if values:
        session.execute(update(table).where(condition).values(values))


def _text_columns(table: Table) -> Iterator[Column[Any]]:
    """Text and JSON columns that are neither keys nor references (those are ids, not what someone wrote)."""
    for column in table.columns:
        if isinstance(column.type, String | JSON) and not column.foreign_keys and not column.primary_key:
            yield column


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _scrub(session: Session, tokens: set[str], erasure: Erasure) -> None:
    """Replace every remaining occurrence of the person's identifying strings in text and JSON columns."""
    if not tokens:
        return
    ordered = sorted(tokens, key=len, reverse=True)  # a whole question before a name inside it
    # Whole words only: erasing "Sam Lee" must not touch "Samantha" or "sleep".
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in ordered), re.IGNORECASE)
    json_forms = sorted({json.dumps(t)[1:-1] for t in ordered} | set(ordered), key=len, reverse=True)
    for table in SQLModel.metadata.sorted_tables:
        if table.name in UNSEARCHED_TABLES:
            continue
        pk = list(table.primary_key.columns)
        for column in _text_columns(table):
            is_json = isinstance(column.type, JSON)
            target = cast(column, Text) if is_json else column
            forms = json_forms if is_json else ordered
            for chunk in _chunks(forms, _CHUNK):
                condition = or_(*(target.ilike(_like(t), escape="\\") for t in chunk))
                for row in session.execute(select(*pk, column).where(condition)).all():
                    value = row[-1]
                    cleaned = _clean(value, pattern)
                    if cleaned == value:
                        continue
                    key = {c.name: row[i] for i, c in enumerate(pk)}
                    where = [c == key[c.name] for c in pk]
                    length = getattr(column.type, "length", None)
                    if column.unique and isinstance(cleaned, str):
                        cleaned = f"{ERASED}:{uuid.uuid4().hex}"  # still unique
                    if length and isinstance(cleaned, str):
                        cleaned = cleaned[:length]
                    session.execute(update(table).where(*where).values({column.name: cleaned}))
                    erasure.scrubbed[table.name] = erasure.scrubbed.get(table.name, 0) + 1


def _clean(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_clean(v, pattern) for v in value]
    if isinstance(value, dict):  # values only: keys are the document's structure, never what someone wrote
        return {k: _clean(v, pattern) for k, v in value.items()}
    return value
