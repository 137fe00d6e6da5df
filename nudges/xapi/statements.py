"""Learning events read from stored rows, and the xAPI 1.0.3 statement each one becomes.

Events, by where they are stored (each with a key that names it, so its statement id is stable):

    asked        a Question                    the learner asked; object: the question
    answered     its AnswerShown at rank 0     learnbot (an Agent) answered that question with a lesson
    experienced  StepProgress.started_at       the learner started a pathway step's lesson
    completed    StepProgress.completed_at     the learner completed it
    applied      StepProgress.applied_at       the learner said they applied it ("Applied it")
    rated        Rating (updated_at), and Feedback helpful / not helpful on an answer
    shared       StepProgress.share_with_manager  the learner shared their takeaway with their manager

Texts a learner typed (questions, takeaways, comments) are never put into a statement: an LRS
cannot be made to forget them when the learner deletes their data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import String, cast, exists, literal, true
from sqlmodel import Session, col, select

from bot.config import XapiConfig
from nudges.clock import as_utc
from storage.models import (
    AnswerShown,
    ContentItem,
    Enrolment,
    Feedback,
    Identity,
    Pathway,
    Person,
    Question,
    Rating,
    StepProgress,
    XapiStatement,
)

VERSION = "1.0.3"
ADL = "http://adlnet.gov/expapi/verbs/"
# Standard verb IRIs: ADL's vocabulary where it has the verb; "rated" is the xAPI registry's
# (id.tincanapi.com, ADL has none); "applied" has no registered IRI, so it is learnbot's own,
# under the configured IRI base (documented in docs/ARCHITECTURE.md).
VERB_IRIS = {
    "asked": ADL + "asked",
    "answered": ADL + "answered",
    "experienced": ADL + "experienced",
    "completed": ADL + "completed",
    "shared": ADL + "shared",
    "rated": "http://id.tincanapi.com/verb/rated",
}
VERBS = ("asked", "answered", "experienced", "completed", "applied", "rated", "shared")
LESSON_TYPE = "http://adlnet.gov/expapi/activities/lesson"
QUESTION_TYPE = "http://adlnet.gov/expapi/activities/question"
PATHWAY_TYPE = "http://adlnet.gov/expapi/activities/course"
# The platform's own address is the account's home page; other platforms get one under the IRI base.
HOME_PAGES = {"slack": "https://slack.com", "teams": "https://teams.microsoft.com"}


@dataclass(frozen=True)
class Event:
    """One learning event: `key` names it for good (e.g. "completed:step:12"), so its statement id is too."""

    verb: str
    key: str
    user_id: int
    at: dt.datetime
    content_id: str | None = None
    question_id: int | None = None
    pathway_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict, compare=False)


def statement_id(iri_base: str, key: str) -> str:
    """The statement id for an event: a UUIDv5 of the key in a namespace of the IRI base."""
    return str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, iri_base), key))


def timestamp(when: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as stored and sent."""
    return as_utc(when).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- events from stored rows ------------------------------------------------------------------


def unrecorded_events(
    *, session: Session, now: dt.datetime, since: dt.datetime | None = None, limit: int | None = None
) -> list[Event]:
    """Events whose statements are not recorded yet (at or after `since`; at most `limit`, the rest
    are found next time).

    Rows are matched against recorded statements by event key in SQL, not by a time watermark, so
    a row committed late, or stamped by another clock, is still found. A takeaway's share is not
    timestamped where it is stored, so its statement is stamped with the sweep's time (`now`).
    """
    events: list[Event] = []
    sources = (_questions, _answers, _steps, _ratings, _verdicts)
    for source in sources:
        left = None if limit is None else limit - len(events)
        if left is not None and left <= 0:
            break
        events += source(session, since, now, left)
    return events if limit is None else events[:limit]


def _cap(query: Any, limit: int | None) -> Any:
    return query if limit is None else query.limit(limit)


def _key(*parts: Any) -> Any:
    """An event key built in SQL ("asked:question:" || id …), to match against recorded keys."""
    expression: Any = literal("", String)
    for part in parts:
        expression = expression + (literal(part, String) if isinstance(part, str) else cast(part, String))
    return expression


def _new(key: Any) -> Any:
    return ~exists().where(col(XapiStatement.key) == key)


def _after(column: Any, since: dt.datetime | None) -> Any:
    return true() if since is None else col(column) >= since


def _questions(
    session: Session, since: dt.datetime | None, _now: dt.datetime, limit: int | None
) -> Iterable[Event]:
    query = select(Question).where(
        col(Question.user_id).is_not(None),
        _after(Question.asked_at, since),
        _new(_key("asked:question:", Question.id)),
    )
    for q in session.exec(_cap(query, limit)):
        assert q.id is not None and q.user_id is not None
        result = {"success": bool(q.answered)}
        yield Event("asked", f"asked:question:{q.id}", q.user_id, q.asked_at, question_id=q.id, result=result)


def _answers(
    session: Session, since: dt.datetime | None, _now: dt.datetime, limit: int | None
) -> Iterable[Event]:
    query = (
        select(AnswerShown, Question)
        .join(Question, col(Question.id) == col(AnswerShown.question_id))
        .where(
            AnswerShown.rank == 0,
            col(Question.answered).is_(True),
            col(Question.user_id).is_not(None),
            _after(AnswerShown.shown_at, since),
            _new(_key("answered:question:", Question.id, ":", AnswerShown.content_id)),
        )
    )
    for shown, q in session.exec(_cap(query, limit)):
        assert q.user_id is not None
        yield Event(
            "answered",
            f"answered:question:{q.id}:{shown.content_id}",
            q.user_id,
            shown.shown_at,
            content_id=shown.content_id,
            question_id=q.id,
            result={"confidence": round(float(shown.confidence), 3)},
        )


def _steps(
    session: Session, since: dt.datetime | None, now: dt.datetime, limit: int | None
) -> Iterable[Event]:
    moments = (
        ("experienced", StepProgress.started_at),
        ("completed", StepProgress.completed_at),
        ("applied", StepProgress.applied_at),
    )
    for verb, column in moments:
        query = (
            select(StepProgress, Enrolment)
            .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
            .where(
                col(column).is_not(None),
                _after(column, since),
                _new(_key(f"{verb}:step:", StepProgress.id)),
            )
        )
        for progress, enrolment in session.exec(_cap(query, limit)):
            yield Event(
                verb,
                f"{verb}:step:{progress.id}",
                enrolment.user_id,
                getattr(progress, column.key),
                content_id=progress.content_id,
                pathway_id=enrolment.pathway_id,
            )
    shared = (
        select(StepProgress, Enrolment)
        .join(Enrolment, col(Enrolment.id) == col(StepProgress.enrolment_id))
        .where(
            col(StepProgress.share_with_manager).is_(True),
            col(StepProgress.takeaway).is_not(None),
            _new(_key("shared:step:", StepProgress.id)),
        )
    )
    for progress, enrolment in session.exec(_cap(shared, limit)):
        yield Event(
            "shared",
            f"shared:step:{progress.id}",
            enrolment.user_id,
            now,
            content_id=progress.content_id,
            pathway_id=enrolment.pathway_id,
            result={"with": "manager"},
        )


def _ratings(
    session: Session, since: dt.datetime | None, _now: dt.datetime, limit: int | None
) -> Iterable[Event]:
    """A rating, and each change to its scores (a person rating again with other scores)."""
    key = _key("rated:rating:", Rating.id, ":", Rating.role_relevance, ":", Rating.strategic_clarity)
    query = select(Rating).where(_after(Rating.updated_at, since), _new(key))
    for rating in session.exec(_cap(query, limit)):
        yield Event(
            "rated",
            f"rated:rating:{rating.id}:{rating.role_relevance}:{rating.strategic_clarity}",
            rating.user_id,
            rating.updated_at,
            content_id=rating.content_id,
            result={"role_relevance": rating.role_relevance, "strategic_clarity": rating.strategic_clarity},
        )


def _verdicts(
    session: Session, since: dt.datetime | None, _now: dt.datetime, limit: int | None
) -> Iterable[Event]:
    """Helpful / Not helpful on an answer, and a change of mind (1-5 ratings live in the rating table)."""
    query = select(Feedback).where(
        col(Feedback.verdict).in_(("helpful", "not_helpful")),
        col(Feedback.user_id).is_not(None),
        _after(Feedback.created_at, since),
        _new(_key("rated:feedback:", Feedback.id, ":", Feedback.verdict)),
    )
    for feedback in session.exec(_cap(query, limit)):
        assert feedback.user_id is not None
        yield Event(
            "rated",
            f"rated:feedback:{feedback.id}:{feedback.verdict}",
            feedback.user_id,
            feedback.created_at,
            content_id=feedback.content_id,
            question_id=feedback.question_id,
            result={"helpful": feedback.verdict == "helpful"},
        )


# ---- statements -------------------------------------------------------------------------------


@dataclass
class _Lookups:
    """What the statements of one batch of events refer to, loaded once."""

    people: dict[int, Person]
    identities: dict[int, Identity]  # each person's first identity
    lessons: dict[str, ContentItem]
    pathways: dict[str, Pathway]


def _lookups(session: Session, events: Sequence[Event]) -> _Lookups:
    user_ids = sorted({e.user_id for e in events})
    content_ids = sorted({e.content_id for e in events if e.content_id})
    pathway_ids = sorted({e.pathway_id for e in events if e.pathway_id})
    people: dict[int, Person] = {}
    identities: dict[int, Identity] = {}
    lessons: dict[str, ContentItem] = {}
    pathways: dict[str, Pathway] = {}
    for start in range(0, max(len(user_ids), len(content_ids), len(pathway_ids)), 500):
        users = user_ids[start : start + 500]
        if users:
            people.update((p.id, p) for p in session.exec(select(Person).where(col(Person.id).in_(users))))
            query = select(Identity).where(col(Identity.person_id).in_(users)).order_by(col(Identity.id))
            for identity in session.exec(query):
                identities.setdefault(identity.person_id, identity)
        contents = content_ids[start : start + 500]
        if contents:
            lessons.update(
                (c.id, c) for c in session.exec(select(ContentItem).where(col(ContentItem.id).in_(contents)))
            )
        paths = pathway_ids[start : start + 500]
        if paths:
            pathways.update(
                (p.id, p) for p in session.exec(select(Pathway).where(col(Pathway.id).in_(paths)))
            )
    return _Lookups(people, identities, lessons, pathways)  # type: ignore[arg-type]


class StatementBuilder:
    """Turns events into xAPI statements under one app.yaml `xapi` section."""

    def __init__(self, config: XapiConfig) -> None:
        self.config = config
        self.base = config.iri_base

    def rows(self, session: Session, events: Sequence[Event]) -> list[dict[str, Any]]:
        """One `xapistatement` row (id, key, user_id, verb, object, timestamp, statement) per event."""
        found = _lookups(session, events)
        rows = []
        for event in events:
            statement = self.statement(event, found)
            rows.append(
                {
                    "id": statement["id"],
                    "key": event.key,
                    "user_id": event.user_id,
                    "verb": event.verb,
                    "object": statement["object"]["id"],
                    "timestamp": as_utc(event.at),
                    "statement": statement,
                }
            )
        return rows

    def statement(self, event: Event, found: _Lookups) -> dict[str, Any]:
        lesson = found.lessons.get(event.content_id or "")
        pathway = found.pathways.get(event.pathway_id or "")
        learner = self.actor(
            found.people.get(event.user_id), found.identities.get(event.user_id), event.user_id
        )
        extensions: dict[str, Any] = {}
        pillar = (pathway.pillar_id if pathway else None) or (lesson.pillar if lesson else None)
        if pillar:
            extensions[self.iri("extensions", "pillar")] = self.iri("pillars", pillar)
        if event.pathway_id:
            extensions[self.iri("extensions", "pathway")] = self.iri("pathways", event.pathway_id)
        context: dict[str, Any] = {"platform": "learnbot", "language": "en"}
        if pathway is not None:
            context["contextActivities"] = {"parent": [self.pathway(pathway)]}
        result: dict[str, Any] = {}
        if event.verb == "asked":
            actor, target = learner, self.question(event.question_id)
            result = {"success": event.result["success"]}
        elif event.verb == "answered":  # learnbot answered; the asker's statement is referenced
            actor, target = self.bot(), self.question(event.question_id)
            context["statement"] = {
                "objectType": "StatementRef",
                "id": statement_id(self.base, f"asked:question:{event.question_id}"),
            }
            context["contextActivities"] = {"other": [self.lesson(event.content_id or "", lesson)]}
            result = {
                "response": self.lesson_iri(event.content_id or "", lesson),
                "extensions": {self.iri("extensions", "confidence"): event.result["confidence"]},
            }
        else:
            actor, target = learner, self.lesson(event.content_id or "", lesson)
            result = self.result(event)
        if extensions:
            context["extensions"] = extensions
        verb_iri = VERB_IRIS.get(event.verb) or self.iri("verbs", event.verb)
        statement: dict[str, Any] = {
            "id": statement_id(self.base, event.key),
            "actor": actor,
            "verb": {"id": verb_iri, "display": {"en-US": event.verb}},
            "object": target,
            "context": context,
            "timestamp": timestamp(event.at),
            "version": VERSION,
        }
        if result:
            statement["result"] = result
        return statement

    def result(self, event: Event) -> dict[str, Any]:
        if event.verb == "completed":
            return {"completion": True}
        if event.verb == "rated" and "helpful" in event.result:
            helpful = bool(event.result["helpful"])
            return {"success": helpful, "response": "helpful" if helpful else "not helpful"}
        if event.verb == "rated":
            return {
                "extensions": {
                    self.iri("extensions", "role-relevance"): event.result["role_relevance"],
                    self.iri("extensions", "strategic-clarity"): event.result["strategic_clarity"],
                }
            }
        if event.verb == "shared":
            return {"extensions": {self.iri("extensions", "shared-with"): event.result["with"]}}
        return {}

    # ---- the parts -------------------------------------------------------------------------

    def iri(self, *parts: str) -> str:
        return "/".join([self.base, *(quote(part, safe="") for part in parts)])

    def actor(self, person: Person | None, identity: Identity | None, user_id: int) -> dict[str, Any]:
        """The learner: an account on their platform, or the SHA-1 of their email when app.yaml asks
        (falling back to the account when no email is known)."""
        email = (person.email if person else None) or (identity.email if identity else None)
        if self.config.actor == "mbox_sha1sum" and email:
            digest = hashlib.sha1(f"mailto:{email.strip().lower()}".encode()).hexdigest()  # noqa: S324 - xAPI's IFI
            return {"objectType": "Agent", "mbox_sha1sum": digest}
        if identity is not None:
            home = HOME_PAGES.get(identity.platform) or self.iri("platforms", identity.platform)
            return {"objectType": "Agent", "account": {"homePage": home, "name": identity.platform_user_id}}
        return {"objectType": "Agent", "account": {"homePage": self.iri("people"), "name": str(user_id)}}

    def bot(self) -> dict[str, Any]:
        return {
            "objectType": "Agent",
            "name": "learnbot",
            "account": {"homePage": self.base, "name": "learnbot"},
        }

    def lesson_iri(self, content_id: str, lesson: ContentItem | None) -> str:
        url = lesson.url if lesson else None
        if url and urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname and " " not in url:
            return url
        return self.iri("lessons", content_id)

    def lesson(self, content_id: str, lesson: ContentItem | None) -> dict[str, Any]:
        definition: dict[str, Any] = {"type": LESSON_TYPE}
        if lesson is not None and lesson.title.strip():
            definition["name"] = {"en-US": lesson.title.strip()}
        return {"objectType": "Activity", "id": self.lesson_iri(content_id, lesson), "definition": definition}

    def question(self, question_id: int | None) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": self.iri("questions", str(question_id)),
            "definition": {"type": QUESTION_TYPE},
        }

    def pathway(self, pathway: Pathway) -> dict[str, Any]:
        definition: dict[str, Any] = {"type": PATHWAY_TYPE}
        if pathway.title.strip():
            definition["name"] = {"en-US": pathway.title.strip()}
        return {"objectType": "Activity", "id": self.iri("pathways", pathway.id), "definition": definition}
