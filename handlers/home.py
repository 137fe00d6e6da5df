"""A learner's home: pathways and progress, recent answers, lessons to rate; for admins, numbers and gaps."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import HomeView, PathwayProgress, RecentAnswer
from bot.report.sections import home_figures
from handlers.gaps import current_clusters, home_line
from handlers.one_on_ones import team_members
from handlers.sharing import home_sharing
from storage.content import get_content
from storage.enrolments import completed_steps, count_active_enrolments, enrolments_for
from storage.pathways import active_steps
from storage.reports import headline_numbers, recent_answers

RECENT = 5
TO_RATE = 5
HOME_GAPS = 5  # the top open gap clusters on an admin's home


def _percent(part: int | float, whole: int | float) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def home_view(*, session: Session, bot: LearnBot, caller: Caller) -> HomeView:
    """Everything the person's home shows, on whichever platform they open it, as neutral data."""
    person_id = caller.person_id
    pathways = []
    for enrolment, pathway in enrolments_for(session=session, user_id=person_id):
        assert enrolment.id is not None
        steps = active_steps(session=session, pathway_id=pathway.id)
        done = completed_steps(session=session, enrolment_id=enrolment.id)
        upcoming = next((step for step in steps if step not in done), None)
        item = get_content(session=session, content_id=upcoming) if upcoming else None
        pillar = bot.pillar_names.get(pathway.pillar_id)
        pathways.append(
            PathwayProgress(
                pathway.id,
                pathway.title,
                pillar,
                len(done & set(steps)),
                len(steps),
                item.title if item else None,
            )
        )
    answers = recent_answers(session=session, user_id=person_id, limit=RECENT + TO_RATE)
    as_recent = [
        RecentAnswer(a.question.id or 0, a.question.text, a.item.id, a.item.title, a.item.url, a.verdict)
        for a in answers
    ]
    to_rate = tuple(r for r, a in zip(as_recent, answers, strict=True) if not a.rated)[:TO_RATE]
    admin = caller.is_admin
    headline: tuple[tuple[str, str], ...] = ()
    gaps: tuple[str, ...] = ()
    gaps_total = 0
    if admin:
        numbers = headline_numbers(session=session, days=7)
        headline = (
            ("Questions (7 days)", str(numbers["asked"])),
            ("Answered", _percent(numbers["answered"], numbers["asked"])),
            ("Found helpful", _percent(numbers["helpful"], numbers["verdicts"])),
            ("Learners on pathways", str(count_active_enrolments(session=session))),
        )
        headline += home_figures(session=session, now=bot.clock.now())  # from the L&D report
        clusters = current_clusters(session=session, bot=bot)  # open gap clusters, most asked first
        gaps, gaps_total = tuple(home_line(c) for c in clusters[:HOME_GAPS]), len(clusters)
    return HomeView(
        user_id=caller.who.user_id,
        pathways=tuple(pathways),
        recent=tuple(as_recent[:RECENT]),
        to_rate=to_rate,
        is_admin=admin,
        headline=headline,
        gaps=gaps,
        gaps_total=gaps_total,
        sharing=home_sharing(session=session, caller=caller),
        team=team_members(session=session, caller=caller, now=bot.clock.now()),
        is_manager=caller.is_manager,
    )
