"""Every table of the report, computed for one period from storage (and the modules of other features).

Our own metrics come from `storage.analytics`. The audit, gap clusters, ratings and the purpose
pulse come from the modules that own them; each is read through a small adapter that turns a
missing module (or a failure inside it) into a "no data yet" section, so the report never fails
because one part is absent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session

from bot.app import LearnBot
from bot.report.model import Chart, Column, Report, Table
from bot.report.render import show
from nudges.kinds import personal_names
from storage import analytics
from storage.models import utcnow

log = logging.getLogger(__name__)

# Personal kinds that are not learning nudges: the manager's 1:1 prompt and the purpose pulse question.
NOT_LEARNING_NUDGES = ("one_on_one", "pulse")


def build_report(*, bot: LearnBot, session: Session, since: dt.datetime, until: dt.datetime) -> Report:
    """The report for [since, until): headline figures first, then one table per metric."""
    if since >= until:
        raise ValueError(f"the report period must start before it ends (since {since}, until {until})")
    review_after = bot.config.content.review_after_days
    period = f"{since:%d %b %Y} to {(until - dt.timedelta(seconds=1)):%d %b %Y}"
    kinds = learning_nudge_kinds()
    week = weekly_active(session, since, until, period)
    questions = question_table(session, since, until, period)
    nudges = analytics.nudge_responses(session=session, since=since, until=until, kinds=kinds)
    applying = analytics.learning_to_applying(session=session, since=since, until=until)
    meetings = analytics.one_on_ones(session=session, since=since, until=until)
    tables = [
        week,
        questions,
        nudge_table(nudges, period, kinds),
        pathway_table(session, since, until, period),
        applying_table(applying, period),
        one_on_one_table(meetings, period),
        optional("why_audit", lambda: why_table(session, since, until, period, review_after)),
        stale_table(session, until, review_after),
        optional("gap_clusters", lambda: gaps_table(bot, session, since, until, period)),
        optional("ratings_by_lesson", lambda: ratings_table(session, since, "lesson", period)),
        optional("ratings_by_pillar", lambda: ratings_table(session, since, "pillar", period)),
        optional("purpose_pulse", lambda: pulse_table(session, since, until, period)),
    ]
    total = questions.rows[-1]
    headline = headline_table(
        active=analytics.active_learners(session=session, since=since, until=until),
        asked=total[1],
        answer_rate=total[3],
        helpful_rate=total[6],
        nudges=nudges,
        applying=applying,
        meetings=meetings,
        period=period,
    )
    return Report(bot.config.organisation, since, until, bot.clock.now(), headline, tables)


# ---- our own metrics -------------------------------------------------------------------------


def headline_table(
    *,
    active: int,
    asked: int,
    answer_rate: float | None,
    helpful_rate: float | None,
    nudges: analytics.NudgeResponses,
    applying: analytics.Applying,
    meetings: analytics.OneOnOnes,
    period: str,
) -> Table:
    """The figures an L&D lead reads first; each is explained in its own table below."""
    rows: list[tuple[Any, ...]] = [
        ("Active learners", active, "people"),
        ("Questions asked", asked, "questions"),
        ("Answer rate", answer_rate, "fraction"),
        ("Helpful rate", helpful_rate, "fraction"),
        ("Nudge response rate", analytics.rate(nudges.responded, nudges.learners_nudged), "fraction"),
        ("Median days from learning to applying", applying.median, "days"),
        ("1:1 prompts sent", meetings.prompts_sent, "prompts"),
        ("Discussed-it rate", meetings.discussed_rate, "fraction"),
    ]
    return Table(
        "summary",
        "At a glance",
        f"Headline figures for {period}; each is explained in its section below.",
        (Column("metric", "Metric"), Column("value", "Value", "number"), Column("unit", "Unit")),
        rows,
    )


def weekly_active(session: Session, since: dt.datetime, until: dt.datetime, period: str) -> Table:
    extra = _rating_clicks(session, since)
    rows = analytics.weekly_active_learners(session=session, since=since, until=until, extra=extra)
    return Table(
        "weekly_active_learners",
        "Weekly active learners",
        f"Distinct people who asked a question, clicked (Helpful, Not helpful, a rating, a campaign "
        f"button) or progressed on a pathway (joined, started, completed or applied a step), per ISO "
        f"week, {period}. The first and last weeks may be partial.",
        (
            Column("week", "ISO week"),
            Column("week_starts", "Week starts", "date"),
            Column("active_learners", "Active learners", "int"),
            Column("asked", "Asked", "int"),
            Column("clicked", "Clicked", "int"),
            Column("progressed", "Progressed", "int"),
        ),
        [(r.week, r.starts, r.learners, r.asked, r.clicked, r.progressed) for r in rows],
        Chart("week", ("active_learners",), "Active learners per week", "learners"),
    )


def _rating_clicks(session: Session, since: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """Ratings are clicks too (kept in their own table once it exists)."""
    try:
        from storage.ratings import ratings_for
    except ImportError:
        return []
    return [(r.user_id, r.updated_at) for r in ratings_for(session=session, since=since)]


def question_table(session: Session, since: dt.datetime, until: dt.datetime, period: str) -> Table:
    rows = analytics.question_stats(session=session, since=since, until=until)
    return Table(
        "questions",
        "Questions, answers and helpfulness",
        f"Questions asked per ISO week, {period}; answered = a lesson was given as the answer; answer "
        "rate = answered / asked; helpful rate = Helpful / (Helpful + Not helpful) clicks given that "
        "week. The last row is the whole period.",
        (
            Column("week", "ISO week"),
            Column("asked", "Asked", "int"),
            Column("answered", "Answered", "int"),
            Column("answer_rate", "Answer rate", "rate"),
            Column("helpful", "Helpful", "int"),
            Column("not_helpful", "Not helpful", "int"),
            Column("helpful_rate", "Helpful rate", "rate"),
        ),
        [
            (r.label, r.asked, r.answered, r.answer_rate, r.helpful, r.not_helpful, r.helpful_rate)
            for r in rows
        ],
        Chart(
            "week",
            ("asked", "answered"),
            "Questions asked and answered per week",
            "questions",
            exclude=("total",),
        ),
    )


def nudge_table(nudges: analytics.NudgeResponses, period: str, kinds: Sequence[str]) -> Table:
    rows: list[tuple[Any, ...]] = [
        ("nudges sent", nudges.nudges_sent, None),
        ("learners nudged", nudges.learners_nudged, None),
        *nudges.rows(),
    ]
    return Table(
        "nudge_responses",
        "Nudge response rate",
        f"Learners sent a learning nudge ({', '.join(kinds)}) delivered {period}, and the share of them "
        "who then started a step, marked one done, snoozed or stopped nudges in the same period. "
        "Snoozed and stopped read each learner's latest nudge preference.",
        (
            Column("measure", "Measure"),
            Column("learners", "Count", "int"),
            Column("share_of_nudged", "Share of learners nudged", "rate"),
        ),
        rows,
        Chart("measure", ("share_of_nudged",), "Share of nudged learners who…", "", True, True),
        missing=None if nudges.nudges_sent else f"No nudges were delivered {period}.",
    )


def pathway_table(session: Session, since: dt.datetime, until: dt.datetime, period: str) -> Table:
    rows = analytics.pathways_by_pillar(session=session, since=since, until=until)
    return Table(
        "pathways_by_pillar",
        "Pathway enrolment, progress and completion by pillar",
        f"Enrolments active or completed at the end of the period, grouped by the pathway's pillar; "
        f"joined and steps completed count {period}; progress = the mean share of a pathway's steps "
        "each enrolled learner has completed; completion rate = enrolments with every step done / "
        "enrolled.",
        (
            Column("pillar", "Pillar id"),
            Column("name", "Pillar"),
            Column("pathways", "Pathways", "int"),
            Column("enrolled", "Enrolled", "int"),
            Column("joined", "Joined in period", "int"),
            Column("steps_completed", "Steps completed", "int"),
            Column("average_progress", "Average progress", "rate"),
            Column("completed", "Completed", "int"),
            Column("completion_rate", "Completion rate", "rate"),
        ),
        [
            (
                r.pillar,
                r.name,
                r.pathways,
                r.enrolled,
                r.joined,
                r.steps_completed,
                r.average_progress,
                r.completed,
                r.completion_rate,
            )
            for r in rows
        ],
        Chart(
            "name",
            ("average_progress", "completion_rate"),
            "Progress and completion by pillar",
            "",
            percent=True,
        ),
    )


def applying_table(applying: analytics.Applying, period: str) -> Table:
    median = applying.median
    note = (
        f"Median: {median:.1f} days over {len(applying.days)} steps applied."
        if median is not None
        else "Nobody pressed Applied it in this period yet."
    )
    return Table(
        "learning_to_applying",
        "Time from learning to applying",
        f"Days from completing a pathway step to pressing Applied it on its follow-up, for steps "
        f"applied {period}.",
        (Column("days", "Days to apply"), Column("steps", "Steps", "int")),
        applying.buckets(),
        Chart("days", ("steps",), "Days from completing a step to applying it", "steps"),
        notes=(note,),
    )


def one_on_one_table(meetings: analytics.OneOnOnes, period: str) -> Table:
    sent = meetings.prompts_sent
    rows: list[tuple[Any, ...]] = [
        ("1:1 prompts sent", sent, None),
        ("1:1s held", meetings.meetings, None),
        ("Discussed it", meetings.discussed, meetings.discussed_rate),
        ("Not this time", meetings.not_this_time, analytics.rate(meetings.not_this_time, sent)),
    ]
    empty = not (sent or meetings.meetings or meetings.discussed or meetings.not_this_time)
    return Table(
        "one_on_ones",
        "1:1 prompts",
        f"Prompts sent to managers before a 1:1 (outbox kind one_on_one delivered {period}), 1:1s that "
        "took place, and the managers' answers given in the period; the discussed-it rate is "
        "Discussed it / prompts sent.",
        (
            Column("measure", "Measure"),
            Column("count", "Count", "int"),
            Column("share_of_prompts", "Share of prompts sent", "rate"),
        ),
        rows,
        missing=f"No 1:1 prompts or 1:1s {period}." if empty else None,
    )


def stale_table(session: Session, now: dt.datetime, review_after: int) -> Table:
    rows = analytics.stale_content(session=session, now=now, review_after_days=review_after)
    undated = analytics.undated_content(session=session)
    return Table(
        "stale_content",
        "Stale content",
        f"Active lessons whose `reviewed` date is more than {review_after} days before the end of the "
        "period (content.review_after_days in app.yaml), oldest review first.",
        (
            Column("content_id", "Lesson id"),
            Column("title", "Title"),
            Column("pillar", "Pillar"),
            Column("reviewed", "Reviewed", "date"),
            Column("days_since_review", "Days since review", "int"),
        ),
        [(r.content_id, r.title, r.pillar, r.reviewed, r.days_since) for r in rows],
        notes=(f"{undated} active lessons have no review date in their source.",) if undated else (),
    )


# ---- other features' modules, through adapters ------------------------------------------------

TITLES = {
    "why_audit": "The “why” audit: the top 20% most-used lessons",
    "gap_clusters": "Content gaps",
    "ratings_by_lesson": "Ratings by lesson",
    "ratings_by_pillar": "Ratings by pillar",
    "purpose_pulse": "Purpose pulse",
}


class NotYet(Exception):
    """The module that computes a section is not installed yet; the message says which."""


def optional(name: str, compute: Callable[[], Table]) -> Table:
    """The section, or a "no data yet" one when its module is missing or fails (the rest still renders)."""
    try:
        return compute()
    except NotYet as exc:
        why = str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken part must not stop the whole report
        log.exception("report section %s failed", name)
        why = f"could not be computed ({type(exc).__name__}); see the log"
    return Table(name, TITLES[name], why, (), missing=f"No data yet: {why}.")


def generic_rows(items: Sequence[Any], skip: tuple[str, ...] = ()) -> tuple[tuple[Column, ...], list[tuple]]:
    """Columns and rows from dataclasses (or dicts) another module returns, in its field order."""
    if not items:
        return (), []
    first = items[0]
    if dataclasses.is_dataclass(first):
        keys = [f.name for f in dataclasses.fields(first)]
        values = [[getattr(item, key) for key in keys] for item in items]
    else:
        keys = list(first)
        values = [[item.get(key) for key in keys] for item in items]
    keep = [i for i, key in enumerate(keys) if key not in skip]
    columns = tuple(Column(keys[i], keys[i].replace("_", " ").capitalize(), _kind(values, i)) for i in keep)
    rows = [tuple(_flat(row[i]) for i in keep) for row in values]
    return columns, rows


def _kind(values: list[list[Any]], at: int) -> Any:
    seen = [row[at] for row in values if row[at] is not None]
    if seen and all(isinstance(v, bool) for v in seen):
        return "text"
    if seen and all(isinstance(v, int) for v in seen):
        return "int"
    if seen and all(isinstance(v, int | float) for v in seen):
        return "number"
    if seen and all(isinstance(v, dt.date) for v in seen):
        return "date"
    return "text"


def _flat(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def why_table(
    session: Session, since: dt.datetime, until: dt.datetime, period: str, review_after: int
) -> Table:
    try:
        from storage.audit import why_audit
    except ImportError:
        raise NotYet("the why audit (storage/audit.py) is not installed") from None
    rows = why_audit(session=session, since=since, now=until, review_after_days=review_after)
    columns, values = generic_rows(rows)
    return Table(
        "why_audit",
        TITLES["why_audit"],
        f"The fifth of the active library used most {period} (answers shown, pathway steps completed "
        "and started), with their average ratings (all time), pillar and impact tag. Flags: no_impact "
        "(no impact tag), weak_clarity (average strategic clarity below 3 from at least 3 ratings), "
        f"past_review (reviewed more than {review_after} days ago, or never).",
        columns,
        values,
        missing=None if values else f"No lesson was used {period}.",
    )


def gaps_table(bot: LearnBot, session: Session, since: dt.datetime, until: dt.datetime, period: str) -> Table:
    try:
        from content_index.gaps import gap_clusters
    except ImportError:
        raise NotYet("gap clustering (content_index/gaps.py) is not installed") from None
    clusters = gap_clusters(session=session, since=since, now=until, index=bot.index, threshold=bot.threshold)
    rows = [
        (
            c.id,
            c.examples[0] if c.examples else "",
            c.status,
            c.questions,
            c.people,
            c.first_seen,
            c.last_seen,
            " | ".join(c.examples[1:]),
            c.nearest.title if c.nearest else None,
            c.nearest.confidence if c.nearest else None,
            c.closed_by_title or c.closed_by,
        )
        for c in clusters
    ]
    return Table(
        "gap_clusters",
        TITLES["gap_clusters"],
        f"Questions {period} that got no lesson, or whose answer was marked Not helpful, grouped by "
        "similarity: how many questions and people, first and last seen, three examples, the nearest "
        "lesson; a cluster closes when a lesson now answers it. Open clusters first.",
        (
            Column("cluster", "Cluster"),
            Column("topic", "First question"),
            Column("status", "Status"),
            Column("questions", "Questions", "int"),
            Column("people", "People", "int"),
            Column("first_seen", "First seen", "date"),
            Column("last_seen", "Last seen", "date"),
            Column("examples", "More examples"),
            Column("nearest_lesson", "Nearest lesson"),
            Column("nearest_confidence", "Confidence", "number"),
            Column("closed_by", "Closed by"),
        ),
        rows,
        Chart("topic", ("questions", "people"), "The ten largest content gaps", "", horizontal=True, limit=10)
        if rows
        else None,
        missing=None if rows else f"No content gaps {period}.",
    )


def ratings_table(session: Session, since: dt.datetime, by: str, period: str) -> Table:
    try:
        from storage.ratings import summary_by_lesson, summary_by_pillar
    except ImportError:
        raise NotYet("ratings (storage/ratings.py) are not installed") from None
    summary = summary_by_lesson if by == "lesson" else summary_by_pillar
    rows = summary(session=session, since=since)
    key = "Lesson" if by == "lesson" else "Pillar"
    columns = (
        Column("key", f"{key} id"),
        *((Column("title", "Title"),) if by == "lesson" else ()),
        Column("ratings", "Ratings", "int"),
        Column("role_relevance", "Relevance to my role (avg 1-5)", "number"),
        Column("strategic_clarity", "Strategic clarity (avg 1-5)", "number"),
        Column("comments", "Comments", "int"),
    )
    values = [
        (
            r.key or "(no pillar)",
            *((r.title,) if by == "lesson" else ()),
            r.count,
            r.role_relevance,
            r.strategic_clarity,
            r.comments,
        )
        for r in rows
    ]
    chart = Chart(
        "key",
        ("role_relevance", "strategic_clarity"),
        f"Average ratings by {by}",
        "average score (1-5)",
        horizontal=True,
    )
    name = f"ratings_by_{by}"
    return Table(
        name,
        TITLES[name],
        f"Ratings given or changed {period}, per {by}: how relevant learners find it to their role and "
        "how clearly it shows which company goal it serves (1-5 each), averaged; comments counted.",
        columns,
        values,
        chart if by == "pillar" and values else None,
        missing=None if values else f"No ratings {period}.",
    )


def pulse_table(session: Session, since: dt.datetime, until: dt.datetime, period: str) -> Table:
    try:
        from storage.pulse import pulse_summary
    except ImportError:
        raise NotYet("the purpose pulse (storage/pulse.py) is not installed") from None
    summary = pulse_summary(session=session, since=since, now=until)
    rows: list[tuple[Any, ...]] = [
        (f"quarter {p.period}", p.people, p.mean, _distribution(p.distribution)) for p in summary.periods
    ]
    rows += [(f"activity: {b.band}", b.people, b.mean, None) for b in summary.bands]
    rho = summary.correlation
    note = (
        f"Correlation of score with learning activity ({summary.method}, {summary.answers} answers): "
        f"{rho:+.2f}."
        if rho is not None
        else f"Too few answers for a correlation (at least {summary.min_group} people are needed)."
    )
    return Table(
        "purpose_pulse",
        TITLES["purpose_pulse"],
        f"Answers {period} to “How clearly do you see how your learning connects to our goals?” (1-5): "
        f"per quarter, and by learning activity in the {summary.activity_days} days before answering "
        "(questions asked, steps completed, lessons applied: none, 1-3, 4 or more). Groups smaller "
        f"than {summary.min_group} people show no mean; no individual answer is ever shown.",
        (
            Column("group", "Group"),
            Column("people", "People", "int"),
            Column("mean_score", "Mean score (1-5)", "number"),
            Column("distribution", "Answers 1 / 2 / 3 / 4 / 5"),
        ),
        rows if summary.answers else [],
        Chart("group", ("mean_score",), "Mean pulse score by group", "mean score (1-5)", horizontal=True)
        if summary.answers
        else None,
        missing=None if summary.answers else f"No pulse answers {period} (the pulse is off by default).",
        notes=(note,) if summary.answers else (),
    )


def _distribution(counts: dict[int, int] | None) -> str | None:
    return " / ".join(str(counts.get(score, 0)) for score in range(1, 6)) if counts else None


# ---- the admins' Home ------------------------------------------------------------------------


def latest(now: dt.datetime) -> dt.datetime:
    """The end of a period "until now": the later of the bot's clock and the system clock.

    Rows are stamped by the system clock; a console's manual clock (seconds only) may be just behind it.
    """
    return max(now, utcnow())


def learning_nudge_kinds() -> list[str]:
    """The personal outbox kinds that are learning nudges (their answers are the nudge response rate)."""
    return [kind for kind in personal_names() if kind not in NOT_LEARNING_NUDGES]


def home_figures(*, session: Session, now: dt.datetime) -> tuple[tuple[str, str], ...]:
    """Headline figures from the report for an admin's Home, as (label, shown value) pairs."""
    now = latest(now)
    week, month = now - dt.timedelta(days=7), now - dt.timedelta(days=30)
    nudged = analytics.nudge_responses(session=session, since=month, until=now, kinds=learning_nudge_kinds())
    median = analytics.learning_to_applying(session=session, since=month, until=now).median
    return (
        ("Active learners (7 days)", str(analytics.active_learners(session=session, since=week, until=now))),
        ("Nudges answered (30 days)", show(analytics.rate(nudged.responded, nudged.learners_nudged), "rate")),
        ("Days to apply (median, 30 days)", show(median, "days")),
        ("Full report", "type report in a DM with me"),
    )
