"""A manager's side of 1:1s: Discussed it / Not this time under a prompt, and `team` (each direct report's
shared learning, from `bot.access.team_learning`: only what they chose to share, only their own reports)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from bot.access import IN_PRIVATE, Caller, team_learning
from bot.app import LearnBot
from bot.events import Action, Incoming, Reply, TeamMember
from bot.markup import Text, bold, bullets, code, italic
from nudges.messages import DISCUSSED, NOT_THIS_TIME
from storage.meeting_prompts import respond
from storage.models import Meeting, Person
from storage.sharing import SharedLearning

TEAM_DAYS = 30  # `team` and Home show lessons and ratings from the last 30 days; shared takeaways all
NOT_YOURS = "That 1:1 prompt was for someone else's meeting, so I left it alone."
GONE = "I can't find that 1:1 any more (the calendar may have changed), so there was nothing to record."
NOT_A_MANAGER = Text(
    code("team"),
    " shows what your direct reports chose to share with you, and the org chart lists nobody reporting "
    "to you. Ask me anything else, or type ",
    code("sharing"),
    " to see what your own manager sees.",
)
RECORDED = {
    DISCUSSED: "Noted: you talked about {name}'s learning in your 1:1. Thanks for making it count.",
    NOT_THIS_TIME: "Noted: not this time. Nothing changes for {name}.",
}
RESPONSES = {DISCUSSED: "discussed", NOT_THIS_TIME: "not_this_time"}


def on_response(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Discussed it / Not this time: stored on the meeting; only the meeting's manager may answer."""
    meeting = session.get(Meeting, action.value) if action.value else None
    if meeting is None or action.name not in RESPONSES:
        return [Reply(text=GONE, ephemeral=True)]
    if meeting.manager_id != caller.person_id:
        return [Reply(text=NOT_YOURS, ephemeral=True)]
    respond(session=session, meeting=meeting, response=RESPONSES[action.name], now=bot.clock.now())
    report = session.get(Person, meeting.report_id)
    name = (report.display_name or report.email if report else None) or "your report"
    return [Reply(text=RECORDED[action.name].format(name=name), replace_message=True)]


def team_members(*, session: Session, caller: Caller, now: dt.datetime) -> tuple[TeamMember, ...]:
    """Each direct report's shared learning as neutral data (Home, console /home and `team`)."""
    recent = now - dt.timedelta(days=TEAM_DAYS)
    everything = {r.id: learning for r, learning in team_learning(session=session, viewer=caller)}
    lately = team_learning(session=session, viewer=caller, since=recent)
    return tuple(_member(report, learning, everything[report.id]) for report, learning in lately)


def _member(report: Person, recent: SharedLearning, ever: SharedLearning) -> TeamMember:
    return TeamMember(
        name=report.display_name or report.email or f"person {report.id}",
        lessons=tuple(lesson.title for lesson in recent.lessons),
        takeaways=tuple((lesson.takeaway or "", lesson.title) for lesson in ever.takeaways),
        pathways=tuple((p.title, p.done, p.total) for p in recent.pathways),
        ratings=tuple((r.title, r.role_relevance, r.strategic_clarity) for r in recent.ratings),
    )


def show_team(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`team`: for managers, each direct report's shared learning; others are told what it is for.
    Only in private: typed in a channel, it answers privately 'ask me in a direct message'."""
    if not incoming.is_direct:
        return [Reply(text=IN_PRIVATE, ephemeral=True)]
    members = team_members(session=session, caller=caller, now=bot.clock.now())
    if not members:
        return [Reply(text=NOT_A_MANAGER)]
    text = Text(f"What your team chose to share with you (lessons from the last {TEAM_DAYS} days):")
    for member in members:
        lines: list[Text] = []
        if member.lessons:
            lines.append(Text("Completed: ", ", ".join(member.lessons)))
        for title, done, total in member.pathways:
            lines.append(Text(bold(title), f": {done} of {total} steps"))
        for takeaway, title in member.takeaways:
            lines.append(Text("Takeaway: ", italic(f"“{takeaway}”"), " — ", title))
        for title, relevance, clarity in member.ratings:
            lines.append(Text("Rated ", title, f": relevance {relevance}/5, strategic clarity {clarity}/5"))
        if not lines:
            lines.append(Text("Nothing shared yet."))
        text += Text("\n", bold(member.name), "\n", bullets(lines))
    return [Reply(text=text)]
