"""The manager's 1:1 prompt: when it goes, once per occurrence, moved and cancelled, what it shows."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from bot.app import LearnBot
from bot.config import NudgePolicy
from bot.events import Action
from bot.router import Router
from nudges.hours import window_for
from nudges.kinds.one_on_one import NAME, last_working_moment, prompt_time
from nudges.outbox import payload_reply
from nudges.pathways import complete_step
from nudges.planner import plan
from nudges.scheduler import run_tick
from storage.enrolments import enrol
from storage.models import Meeting, MeetingPrompt, OutboxMessage, Person, StepProgress
from storage.sharing import set_sharing
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at, console, person

LONDON = window_for(NudgePolicy(default_timezone="Europe/London"), None)
TWO_HOURS = dt.timedelta(hours=2)


def team(bot: LearnBot, *, manager_zone: str | None = None) -> tuple[Person, Person]:
    """Maria manages Sam (as the org sync stores it); both have talked to learnbot in the console."""
    maria = person(bot, "console-manager", timezone=manager_zone)
    sam = person(bot, "console-learner")
    with bot.session() as session:
        for who, name in ((maria, "Maria"), (sam, "Sam")):
            row = session.get(Person, who.id)
            assert row is not None
            row.display_name = name
            if who is sam:
                row.manager_id = maria.id
            session.add(row)
    return maria, sam


def meeting(bot: LearnBot, manager: Person, report: Person, start: str, *, id: str = "roster:m:s:1") -> str:
    """A 1:1 as the calendar scan stores it (upserted by its stable occurrence id)."""
    assert manager.id is not None and report.id is not None
    with bot.session() as session:
        row = session.get(Meeting, id) or Meeting(
            id=id, manager_id=manager.id, report_id=report.id, start_at=at(start), source="roster"
        )
        row.start_at, row.end_at = at(start), at(start) + dt.timedelta(minutes=30)
        session.add(row)
    return id


def move(bot: LearnBot, meeting_id: str, *, start: str | None = None, status: str | None = None) -> None:
    with bot.session() as session:
        row = session.get(Meeting, meeting_id)
        assert row is not None
        if start:
            row.start_at = at(start)
        if status:
            row.status = status
        session.add(row)


def learned(
    bot: LearnBot,
    learner: Person,
    lesson: str,
    *,
    when: str,
    takeaway: str | None = None,
    share: bool = False,
) -> None:
    """The learner finishes and applies a lesson of the feedback pathway, with a takeaway (shared or not)."""
    assert learner.id is not None
    with bot.session() as session:
        enrolment, _ = enrol(
            session=session, user_id=learner.id, pathway_id="feedback-culture", joined_by="self", now=at(when)
        )
        complete_step(session=session, enrolment=enrolment, content_id=lesson, now=at(when), follow_up_days=3)
        [progress] = session.exec(
            select(StepProgress).where(
                StepProgress.enrolment_id == enrolment.id, StepProgress.content_id == lesson
            )
        )
        progress.applied_at = at(when)
        progress.takeaway, progress.share_with_manager = takeaway, share
        session.add(progress)


def prompts(bot: LearnBot) -> list[OutboxMessage]:
    with bot.session() as session:
        return list(
            session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == NAME).order_by(col(OutboxMessage.id))
            )
        )


def delivered_text(bot: LearnBot, until: str) -> list[tuple[dt.datetime, str]]:
    """What reached Maria (the manager) when the clock reached `until`."""
    sender = console(bot)
    run_tick(bot, {"console": sender}, at=at(until))
    return [(when, m.reply.text) for when, m in sender.delivered if m.to.user_id == "console-manager"]


# ---- when ------------------------------------------------------------------------------------------


def test_two_hours_before_inside_working_hours_else_the_last_working_hour_before() -> None:
    lead, now = TWO_HOURS, at("2026-11-27T08:00:00Z")
    assert prompt_time(at("2026-11-30T14:00:00Z"), lead=lead, window=LONDON, now=now) == at(
        "2026-11-30T12:00:00Z"
    )
    # Monday 09:30: two hours before is 07:30 Monday, so Friday at 16:30 (the last working hour)
    assert prompt_time(at("2026-11-30T09:30:00Z"), lead=lead, window=LONDON, now=now) == at(
        "2026-11-27T16:30:00Z"
    )
    # Tuesday 19:00 (a late call): 17:00 is inside working hours
    assert prompt_time(at("2026-12-01T19:00:00Z"), lead=lead, window=LONDON, now=now) == at(
        "2026-12-01T17:00:00Z"
    )
    # Tuesday 20:00: 18:00 is after hours, so 16:30 the same day
    assert prompt_time(at("2026-12-01T20:00:00Z"), lead=lead, window=LONDON, now=now) == at(
        "2026-12-01T16:30:00Z"
    )


def test_found_late_it_goes_at_the_next_working_moment_before_the_meeting_or_not_at_all() -> None:
    lead = TWO_HOURS
    # found at 13:00 for a 14:00 1:1: now
    assert prompt_time(
        at("2026-11-30T14:00:00Z"), lead=lead, window=LONDON, now=at("2026-11-30T13:00:00Z")
    ) == at("2026-11-30T13:00:00Z")
    # found at 22:00 for 09:30 tomorrow: 09:00 tomorrow, still before it
    assert prompt_time(
        at("2026-12-01T09:30:00Z"), lead=lead, window=LONDON, now=at("2026-11-30T22:00:00Z")
    ) == at("2026-12-01T09:00:00Z")
    # found at 22:00 for 08:00 tomorrow: too late for a polite prompt
    assert (
        prompt_time(at("2026-12-01T08:00:00Z"), lead=lead, window=LONDON, now=at("2026-11-30T22:00:00Z"))
        is None
    )


def test_local_working_hours_across_zones_and_dst() -> None:
    policy = NudgePolicy(default_timezone="Europe/London")
    auckland = window_for(policy, "Pacific/Auckland")  # UTC+13 in November
    # Monday 10:00 in Auckland is Sunday 21:00 UTC: 08:00 there is before opening, so Friday 16:30 there
    slot = last_working_moment(at("2026-11-29T21:00:00Z") - TWO_HOURS, auckland)
    assert slot == at("2026-11-27T03:30:00Z")
    # London across the spring change: a Monday 11:00 BST 1:1 is prompted at 09:00 BST (08:00 UTC)
    slot = last_working_moment(at("2026-03-30T10:00:00Z") - TWO_HOURS, LONDON)
    assert slot == at("2026-03-30T08:00:00Z")
    # and the Friday before the autumn change: 16:30 BST is 15:30 UTC
    slot = last_working_moment(at("2026-10-26T09:30:00Z") - TWO_HOURS, LONDON)
    assert slot == at("2026-10-23T15:30:00Z")


# ---- once per occurrence; moved; cancelled ------------------------------------------------------------


def test_one_prompt_per_occurrence_however_often_calendars_are_read(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url, at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    meeting_id = meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    for minute in ("11:59", "12:00", "12:01", "12:30"):
        meeting(bot, maria, sam, "2026-11-30T14:00:00Z")  # the scan upserts the same occurrence again
        with bot.session() as session:
            plan(session=session, config=bot.config, now=at(f"2026-11-30T{minute}:00Z"))
    [row] = prompts(bot)
    assert row.due_at.replace(tzinfo=dt.UTC) == at("2026-11-30T12:00:00Z")
    assert row.idempotency_key == f"one-on-one:{meeting_id}:20261130T140000Z" and row.user_id == maria.id
    with bot.session() as session:
        decision = session.get(MeetingPrompt, meeting_id)
        assert decision is not None and decision.outcome == "queued"


def test_a_moved_meeting_moves_its_prompt_and_a_cancelled_one_takes_it_back(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    meeting_id = meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    with bot.session() as session:
        plan(session=session, config=bot.config, now=at("2026-11-30T12:00:00Z"))  # queued, not yet sent
    move(bot, meeting_id, start="2026-12-01T15:00:00Z")  # moved to Tuesday before it went out
    with bot.session() as session:
        plan(session=session, config=bot.config, now=at("2026-11-30T12:01:00Z"))
    (first,) = prompts(bot)
    assert first.status == "cancelled" and "moved" in (first.last_error or "")
    sent = delivered_text(bot, "2026-12-01T13:00:00Z")
    assert [when for when, _ in sent] == [at("2026-12-01T13:00:00Z")]
    assert "Your 1:1 with Sam is today at 15:00." in sent[0][1]

    # a second occurrence, queued, then cancelled: taken back, never sent
    learned(bot, sam, "receive-feedback-well", when="2026-12-03T10:00:00Z")
    other = meeting(bot, maria, sam, "2026-12-08T14:00:00Z", id="roster:m:s:2")
    with bot.session() as session:
        plan(session=session, config=bot.config, now=at("2026-12-08T12:00:00Z"))
    move(bot, other, status="cancelled")
    assert delivered_text(bot, "2026-12-08T12:05:00Z") == []
    assert [row.status for row in prompts(bot)] == ["cancelled", "sent", "cancelled"]


def test_a_meeting_moved_after_its_prompt_went_out_gets_no_second_one(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    meeting_id = meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    assert len(delivered_text(bot, "2026-11-30T12:00:00Z")) == 1
    move(bot, meeting_id, start="2026-11-30T16:00:00Z")
    assert delivered_text(bot, "2026-11-30T14:00:00Z") == []
    assert [row.status for row in prompts(bot)] == ["sent"]


def test_the_prompt_is_not_held_back_by_the_learning_caps_nor_counts_towards_them(make_bot: MakeBot) -> None:
    """Three 1:1s on one Monday: three prompts though nudges are one a day; Maria's own step still comes."""
    bot = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    assert maria.id is not None
    reports = [sam, person(bot, "U-ana"), person(bot, "U-raj")]
    with bot.session() as session:
        for report, name in zip(reports[1:], ("Ana", "Raj"), strict=True):
            row = session.get(Person, report.id)
            assert row is not None
            row.manager_id, row.display_name = maria.id, name
            session.add(row)
        enrol(
            session=session,
            user_id=maria.id,
            pathway_id="automate-the-boring-stuff",
            joined_by="self",
            now=at("2026-11-27T08:00:00Z"),
        )
    for number, (report, hour) in enumerate(zip(reports, (11, 14, 16), strict=True)):
        learned(
            bot, report, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True
        )
        meeting(bot, maria, report, f"2026-11-30T{hour}:00:00Z", id=f"roster:m:{number}:1")
    sender = console(bot)
    for hour in ("09", "12", "14"):
        run_tick(bot, {"console": sender}, at=at(f"2026-11-30T{hour}:00:00Z"))
    to_maria = [
        (when, m.reply.text.splitlines()[0])
        for when, m in sender.delivered
        if m.to.user_id == "console-manager"
    ]
    assert [(when, line[:24]) for when, line in to_maria] == [
        (at("2026-11-30T09:00:00Z"), "Step 1 of 4 on your path"),
        (at("2026-11-30T09:00:00Z"), "Your 1:1 with Sam is tod"),
        (at("2026-11-30T12:00:00Z"), "Your 1:1 with Ana is tod"),
        (at("2026-11-30T14:00:00Z"), "Your 1:1 with Raj is tod"),
    ]


# ---- what it shows ---------------------------------------------------------------------------------


def test_shared_takeaways_show_private_ones_never_and_completions_only_when_shared(
    make_bot: MakeBot, db_url: str
) -> None:
    bot = make_bot(db_url, at="2026-11-23T08:00:00Z")
    maria, sam = team(bot)
    meeting(bot, maria, sam, "2026-11-23T14:00:00Z", id="roster:m:s:prev")  # last week's 1:1
    learned(bot, sam, "give-peer-feedback", when="2026-11-20T10:00:00Z", takeaway="Old news", share=True)
    learned(
        bot, sam, "receive-feedback-well", when="2026-11-25T10:00:00Z", takeaway="Breathe first", share=True
    )
    learned(
        bot, sam, "hard-conversations", when="2026-11-26T10:00:00Z", takeaway="My private note", share=False
    )
    meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    [(_, text)] = delivered_text(bot, "2026-11-30T12:00:00Z")
    assert "Your 1:1 with Sam is today at 14:00. What Sam shared since your last 1:1 (Mon 23 Nov):" in text
    assert "“Breathe first” — Receive feedback without getting defensive" in text
    assert "My private note" not in text and "Old news" not in text
    assert "Prepare for a difficult conversation (completed and applied)" in text  # completions are shared
    assert "Feedback that helps: 3 of 4 steps towards Growing our people" in text
    assert "You could ask:\n• You noted “Breathe first”: what would help you do more of that?" in text
    assert (
        "How could what you learned in Receive feedback without getting defensive help with Growing our "
        "people (every manager runs great 1:1s" in text
    )

    with bot.session() as session:
        set_sharing(session=session, user_id=sam.id or 0, completions=False, now=at("2026-11-30T12:00:00Z"))
    meeting(bot, maria, sam, "2026-12-07T14:00:00Z", id="roster:m:s:next")
    learned(
        bot,
        sam,
        "write-a-clear-status-update",
        when="2026-12-02T10:00:00Z",
        takeaway="Lead with the ask",
        share=True,
    )
    learned(bot, sam, "give-peer-feedback", when="2026-12-02T10:00:00Z")
    [(_, text)] = delivered_text(bot, "2026-12-07T12:00:00Z")
    assert "“Lead with the ask”" in text
    assert "Lessons:" not in text and "Pathways:" not in text and "steps towards" not in text


def test_nothing_new_sends_nothing_unless_asked_to_suggest(make_bot: MakeBot) -> None:
    quiet = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(quiet)
    meeting(quiet, maria, sam, "2026-11-30T14:00:00Z")
    assert delivered_text(quiet, "2026-11-30T12:00:00Z") == []
    with quiet.session() as session:
        assert [d.outcome for d in session.exec(select(MeetingPrompt))] == ["nothing_new"]

    chatty = make_bot(at="2026-11-30T08:00:00Z", one_on_ones={"when_nothing_new": "suggest"})
    maria, sam = team(chatty)
    meeting(chatty, maria, sam, "2026-11-30T14:00:00Z")
    [(_, text)] = delivered_text(chatty, "2026-11-30T12:00:00Z")
    assert text == (
        "Your 1:1 with Sam is today at 14:00. Nothing new from their learning in the last 4 weeks: "
        "maybe ask what they'd like to learn next."
    )


def test_a_meeting_with_someone_who_no_longer_reports_to_them_shows_nothing(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    other = person(bot, "console-admin")
    with bot.session() as session:
        row = session.get(Person, sam.id)
        assert row is not None
        row.manager_id = other.id  # Sam moved to another team since the calendar was read
        session.add(row)
    assert delivered_text(bot, "2026-11-30T12:00:00Z") == []


def test_a_manager_who_stopped_nudges_gets_no_prompt_and_a_queued_one_is_cancelled(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    meeting(bot, maria, sam, "2026-12-01T14:00:00Z", id="roster:m:s:tue")
    with bot.session() as session:
        plan(session=session, config=bot.config, now=at("2026-11-30T12:00:00Z"))  # Monday's is queued
    stop = Action(platform="console", user_id="console-manager", name="nudge_stop", value="", channel_id="d")
    assert "no more nudges from me" in Router(bot).on_action(stop)[0].text
    assert delivered_text(bot, "2026-12-01T12:00:00Z") == []  # neither Monday's nor Tuesday's
    assert [row.status for row in prompts(bot)] == ["cancelled"]


def test_a_manager_in_auckland_is_prompted_in_her_working_hours_across_dst(
    make_bot: MakeBot, db_url: str
) -> None:
    """Her Monday 10:00 1:1 (Sunday 21:00 UTC): 08:00 Monday is before work, so Friday 16:30 in Auckland."""
    bot = make_bot(db_url, at="2026-11-26T00:00:00Z")
    maria, sam = team(bot, manager_zone="Pacific/Auckland")
    learned(bot, sam, "give-peer-feedback", when="2026-11-25T10:00:00Z", takeaway="Ask early", share=True)
    meeting(bot, maria, sam, "2026-11-29T21:00:00Z")
    for moment in ("2026-11-27T03:29:00Z", "2026-11-27T03:30:00Z", "2026-11-27T04:00:00Z"):
        with bot.session() as session:
            plan(session=session, config=bot.config, now=at(moment))
    [row] = prompts(bot)
    assert row.due_at.replace(tzinfo=dt.UTC) == at("2026-11-27T03:30:00Z")  # Fri 16:30 NZDT
    assert payload_reply(row.payload).text.startswith("Your 1:1 with Sam is on Monday 30 November at 10:00.")


def test_a_meeting_moved_beyond_the_lookahead_still_takes_its_queued_prompt_back(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    meeting_id = meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    with bot.session() as session:
        plan(session=session, config=bot.config, now=at("2026-11-30T12:00:00Z"))
    move(bot, meeting_id, start="2026-12-21T14:00:00Z")  # three weeks on: outside the 7-day lookahead
    assert delivered_text(bot, "2026-11-30T12:01:00Z") == []
    assert [row.status for row in prompts(bot)] == ["cancelled"]


def test_ratings_appear_only_when_the_report_shares_them(make_bot: MakeBot, db_url: str) -> None:
    from storage.ratings import upsert_rating

    bot = make_bot(db_url, at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    assert sam.id is not None
    with bot.session() as session:
        upsert_rating(
            session=session,
            user_id=sam.id,
            content_id="excel-xlookup",
            role_relevance=5,
            strategic_clarity=2,
            comment="my private comment",
            now=at("2026-11-27T10:00:00Z"),
        )
    meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    meeting(bot, maria, sam, "2026-12-01T14:00:00Z", id="roster:m:s:tue")
    assert delivered_text(bot, "2026-11-30T12:00:00Z") == []  # ratings are not shared by default: nothing new

    with bot.session() as session:
        set_sharing(session=session, user_id=sam.id, ratings=True, now=at("2026-11-30T13:00:00Z"))
        upsert_rating(
            session=session,
            user_id=sam.id,
            content_id="excel-xlookup",
            role_relevance=4,
            strategic_clarity=3,
            now=at("2026-11-30T13:00:00Z"),
        )
    [(_, text)] = delivered_text(bot, "2026-12-01T12:00:00Z")
    assert (
        "Lessons they rated:\n• Match data between sheets with XLOOKUP: relevance 4/5, strategic clarity 3/5"
        in text
    )
    assert "my private comment" not in text
