"""Every nudge's wording, in one place, in neutral markup: a step, a reminder, a follow-up, a campaign post.

Adapters render and escape the spans for their platform, so titles and messages written by
admins go in as they are.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.config import Pillar
from bot.events import Button, Reply
from bot.markup import Span, Text, bold, bullets, italic
from content_index.cards import card_for
from nudges.clock import as_utc
from storage.models import Campaign, ContentItem, Pathway
from storage.sharing import SharedLearning


def step_reply(
    pathway: Pathway,
    item: ContentItem,
    *,
    pillar: str | None,
    imperative: str,
    number: int,
    total: int,
    enrolment_id: int,
    reminder: bool,
) -> Reply:
    """The next step: where it sits in the pathway, why it matters, the lesson, and the choices."""
    opener = "Still up for it? " if reminder else ""
    text = Text(f"{opener}Step {number} of {total} on your pathway ", bold(pathway.title), ".")
    reason = " — ".join(part for part in (pillar, imperative) if part)
    if reason:
        text += f"\nIt supports {reason}."
    value = f"{enrolment_id}|{item.id}"
    buttons = (
        Button("Start", "nudge_start", value, style="primary"),
        Button("Done", "nudge_done", value),
        Button("Snooze", "nudge_snooze", value),
        Button("Not now", "nudge_not_now", value),
        Button("Stop nudges", "nudge_stop", value, style="danger"),
    )
    return Reply(text=text, card=card_for(item, pillar_name=pillar, confidence=1.0), buttons=buttons)


def follow_up_reply(item: ContentItem, progress_id: int, completed: dt.datetime, zone: ZoneInfo) -> Reply:
    """'Did you get to apply X?' with Applied it / Not yet."""
    finished = as_utc(completed).astimezone(zone).strftime("%A")
    text = Text(
        "Did you get to apply ",
        bold(item.title),
        f"? You finished it on {finished}; using it at work is what makes it stick.",
    )
    value = str(progress_id)
    buttons = (
        Button("Applied it", "follow_up_applied", value, style="primary"),
        Button("Not yet", "follow_up_not_yet", value),
    )
    return Reply(text=text, buttons=buttons)


def announcement(campaign: Campaign, pathway: Pathway | None, pillar: str | None) -> Reply:
    """The channel post: the announcement, why the pathway matters, and Join / What's in it? buttons."""
    text = Text("📣 ", bold(campaign.title))
    if campaign.message:
        text += "\n" + campaign.message
    buttons: tuple[Button, ...] = ()
    if pathway is not None:
        reason = " — ".join(part for part in (pillar, pathway.imperative) if part)
        if pathway.title != campaign.title:
            every = f"one short step every {pathway.cadence_days} days"
            text += Text("\nThe pathway: ", bold(pathway.title), f", {every}.")
        if reason:
            text += f"\nWhy it matters: {reason}."
        value = f"{campaign.id}|{pathway.id}"
        buttons = (
            Button(f"Join {pathway.title}", "campaign_join", value, style="primary"),
            Button("What's in it?", "campaign_details", value),
        )
    return Reply(text=text, buttons=buttons)


# ---- the manager's 1:1 prompt ---------------------------------------------------------------------

DISCUSSED, NOT_THIS_TIME = "one_on_one_discussed", "one_on_one_not_this_time"


def meeting_words(start: dt.datetime, now: dt.datetime, zone: ZoneInfo) -> str:
    """'today at 14:00', 'tomorrow at 09:30' or 'on Monday 7 December at 09:30', in the manager's zone."""
    local, today = as_utc(start).astimezone(zone), as_utc(now).astimezone(zone).date()
    day = local.date()
    when = "today" if day == today else "tomorrow" if day == today + dt.timedelta(days=1) else ""
    return f"{when or f'on {day:%A} {day.day} {day:%B}'} at {local:%H:%M}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def suggested_questions(learning: SharedLearning, pillars: dict[str, Pillar], limit: int = 3) -> list[Text]:
    """Two or three questions tied to what the report shared: a takeaway, a lesson's pillar and its
    impact, the next step of a pathway. Built only from shared learning."""
    out: list[Text] = []
    for lesson in learning.takeaways[:1]:
        out.append(
            Text("You noted ", italic(f"“{lesson.takeaway}”"), ": what would help you do more of that?")
        )
    used: set[str] = set()
    for lesson in learning.takeaways + learning.lessons:
        pillar = pillars.get(lesson.pillar or "")
        if pillar is not None:
            goal = pillar.name + (f" ({_lower_first(pillar.imperative)})" if pillar.imperative else "")
            out.append(Text("How could what you learned in ", bold(lesson.title), f" help with {goal}?"))
            used.add(lesson.content_id)
            break
    fresh = sorted(
        learning.lessons, key=lambda lesson: (lesson.content_id in used, lesson.applied_at is None)
    )
    for lesson in fresh:  # another lesson than the one just asked about, if there is one
        if lesson.impact:
            out.append(
                Text(
                    "Where has ",
                    bold(lesson.title),
                    f" made a difference in your work so far? ({lesson.impact[0].rstrip('.')}.)",
                )
            )
            break
    for pathway in learning.pathways:
        if pathway.done < pathway.total and len(out) < limit:
            goal = pillars.get(pathway.pillar_id)
            towards = f", towards {goal.name}" if goal else ""
            out.append(
                Text(
                    "What would help with the next step on ",
                    bold(pathway.title),
                    f" ({pathway.done} of {pathway.total} done{towards})?",
                )
            )
            break
    return out[:limit]


def one_on_one_reply(
    *,
    report: str,
    meeting_id: str,
    start: dt.datetime,
    since: dt.datetime | None,
    now: dt.datetime,
    zone: ZoneInfo,
    learning: SharedLearning,
    pillars: dict[str, Pillar],
) -> Reply:
    """Before a 1:1: what the report completed, applied and chose to share since the last one, their
    pathway progress, and questions to ask; with Discussed it / Not this time."""
    parts: list[str | Span] = ["Your 1:1 with ", bold(report), f" is {meeting_words(start, now, zone)}."]
    period = (
        f"since your last 1:1 ({as_utc(since).astimezone(zone):%a %d %b})" if since else "in the last 4 weeks"
    )
    buttons = (
        Button("Discussed it", DISCUSSED, meeting_id, style="primary"),
        Button("Not this time", NOT_THIS_TIME, meeting_id),
    )
    if learning.is_empty:
        parts.append(f" Nothing new from their learning {period}: maybe ask what they'd like to learn next.")
        return Reply(text=_merged(Text(*parts)), buttons=buttons)
    parts.append(f" What {report} shared {period}:")
    if learning.lessons:
        done = [
            Text(bold(lesson.title), " (completed and applied)" if lesson.applied_at else " (completed)")
            for lesson in learning.lessons
        ]
        parts += ["\nLessons:\n", bullets(done)]
    if learning.takeaways:
        said = [Text(italic(f"“{lesson.takeaway}”"), " — ", lesson.title) for lesson in learning.takeaways]
        parts += ["\nTakeaways they chose to share:\n", bullets(said)]
    if learning.pathways:
        progress = []
        for pathway in learning.pathways:
            pillar = pillars.get(pathway.pillar_id)
            towards = f" towards {pillar.name}" if pillar else ""
            progress.append(Text(bold(pathway.title), f": {pathway.done} of {pathway.total} steps{towards}"))
        parts += ["\nPathways:\n", bullets(progress)]
    if learning.ratings:
        rated = [
            Text(
                bold(r.title), f": relevance {r.role_relevance}/5, strategic clarity {r.strategic_clarity}/5"
            )
            for r in learning.ratings
        ]
        parts += ["\nLessons they rated:\n", bullets(rated)]
    questions = suggested_questions(learning, pillars)
    if questions:
        parts += ["\nYou could ask:\n", bullets(questions)]
    return Reply(text=_merged(Text(*parts)), buttons=buttons)


def _merged(text: Text) -> Text:
    """The same text with neighbouring spans of one style joined: a smaller outbox payload."""
    runs: list[tuple[tuple[bool, bool, bool, str | None, str | None], list[str]]] = []
    for span in text.spans:
        style = (span.bold, span.italic, span.code, span.url, span.person)
        if runs and runs[-1][0] == style and span.url is None and span.person is None:
            runs[-1][1].append(span.text)
        else:
            runs.append((style, [span.text]))
    return Text(*(Span("".join(parts), *style) for style, parts in runs))


PULSE_ENDS = {1: "not at all", 5: "very clearly"}


def pulse_reply(question: str, period: str, last_day: dt.date) -> Reply:
    """The purpose pulse: one 1-5 question with its ends explained, changeable until its period ends."""
    text = Text(
        bold(question),
        "\n1 = not at all, 5 = very clearly. One tap is enough; you can change your answer until "
        f"{last_day:%A} {last_day.day} {last_day:%B}. L&D only ever sees answers in groups of five or more.",
    )
    buttons = tuple(
        Button(f"{n} · {PULSE_ENDS[n]}" if n in PULSE_ENDS else str(n), "pulse_answer", f"{period}|{n}")
        for n in range(1, 6)
    )
    return Reply(text=text, buttons=buttons)
