"""The 1:1 demo in the console: Sam shares one takeaway, keeps one private; Maria's prompt shows the first."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from bot.adapters.console import ConsoleChat
from bot.app import LearnBot
from bot.router import Router
from storage.models import Meeting, Person
from tests.conftest import ROOT
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at


def org_chart(bot: LearnBot, *, starts: list[str]) -> None:
    """What `learnbot org sync` and `learnbot one-on-ones scan` store for the console personas: Maria
    (maria@acme.example) manages Sam (sam@acme.example), and their weekly 1:1s."""
    with bot.session() as session:
        maria = Person(
            display_name="Maria", email="maria@acme.example", team="Support", timezone="Europe/London"
        )
        session.add(maria)
        session.flush()
        session.add(Person(display_name="Sam", email="sam@acme.example", team="Support", manager_id=maria.id))
        session.flush()
        sam = session.exec(select(Person).where(Person.email == "sam@acme.example")).one()
        assert maria.id is not None and sam.id is not None
        for start in starts:
            session.add(
                Meeting(
                    id=f"roster:maria@acme.example:sam@acme.example:{start[:10]}",
                    manager_id=maria.id,
                    report_id=sam.id,
                    start_at=at(start),
                    end_at=at(start) + dt.timedelta(minutes=30),
                    source="roster",
                )
            )


def test_maria_gets_a_prompt_with_sams_shared_takeaway_and_not_his_private_one(make_bot: MakeBot) -> None:
    nudges = {"default_timezone": "Europe/London", "max_per_week": 5, "follow_up_days": 1}
    bot = make_bot(at="2026-11-30T08:00:00Z", nudges=nudges)  # a Monday
    org_chart(bot, starts=["2026-11-23T15:00:00Z", "2026-12-07T15:00:00Z"])  # last week's 1:1 and next
    chat = ConsoleChat(Router(bot))

    def say(*lines: str) -> list[str]:
        return [chat.handle_line(line) for line in lines]

    say("/as manager", "/home", "/as learner", "/home")  # both have opened learnbot once
    say(
        "/as admin",
        "enrol console-learner in feedback-culture",
        "enrol console-learner in automate-the-boring-stuff",
    )
    say("/as learner", "/clock 2026-11-30 09:00", "1", "1")  # step 1 of the feedback pathway: Start, Done
    say("/clock 2026-12-01 09:00", "1", "1")  # step 1 of the automation pathway: Start, Done

    follow_up, applied, saved, shared = say(
        "/clock 2026-12-02 09:00", "1", "I ask for feedback in the first five minutes of a retro", "1"
    )
    assert "Did you get to apply Give useful feedback to a peer?" in follow_up
    assert "[1] Share with my manager   [2] Keep it private" in saved
    assert shared.startswith("learnbot ▸ Shared: Maria")
    assert "will see it in my note before your 1:1 on Monday 7 December at 15:00." in shared
    assert "Only takeaways you share will ever be shown to them." in shared
    follow_up, _, _, private = say(
        "/clock 2026-12-03 09:00", "1", "Honestly I still avoid pivots at month end", "2"
    )
    assert "Did you get to apply Summarise data with Excel pivot tables?" in follow_up
    assert "Kept private: only you can see it." in private
    sharing = say("sharing")[0]
    assert "(your manager) sees of your learning: in my note before each 1:1 with them" in sharing
    assert "• Takeaway 1, private: “Honestly I still avoid pivots at month end”" in sharing
    assert "• Takeaway 2, shared: “I ask for feedback in the first five minutes of a retro”" in sharing

    say("/as manager")
    prompt = say("/clock 2026-12-07 13:00")[0]
    lines = prompt.splitlines()
    assert "── Mon 07 Dec 2026 13:00 Europe/London · direct message to you ──" in lines
    mine = "\n".join(
        lines[lines.index("── Mon 07 Dec 2026 13:00 Europe/London · direct message to you ──") :]
    )
    assert mine.splitlines()[1] == (
        "Your 1:1 with Sam (learner) is today at 15:00. "
        "What Sam (learner) shared since your last 1:1 (Mon 23 Nov):"
    )
    assert (
        "• “I ask for feedback in the first five minutes of a retro” — Give useful feedback to a peer" in mine
    )
    assert "avoid pivots" not in mine  # the private takeaway
    assert (
        "• Summarise data with Excel pivot tables (completed and applied)" in mine
    )  # completions are shared
    assert "• Feedback that helps: 1 of 4 steps towards Growing our people" in mine
    assert "You could ask:\n• You noted “I ask for feedback in the first five minutes of a retro”" in mine
    assert lines[-1] == "[1] Discussed it   [2] Not this time"

    assert "Noted: you talked about Sam (learner)'s learning in your 1:1." in say("1")[0]
    with bot.session() as session:
        [answered] = session.exec(select(Meeting).where(col(Meeting.response).is_not(None)))
    assert answered.response == "discussed" and answered.id.endswith("2026-12-07")

    home, team = say("/home", "team")
    assert "Your team (only what each chose to share):" in home
    assert "takeaway: “I ask for feedback in the first five minutes of a retro”" in home
    assert "Sam (learner)" in team and "Takeaway: “I ask for feedback in the first five minutes" in team
    assert "avoid pivots" not in home and "avoid pivots" not in team


def test_the_demo_with_the_sample_roster(make_bot: MakeBot) -> None:
    """`learnbot org sync` and `learnbot one-on-ones scan` over samples/org, then the console: Sam's 1:1 with
    Maria is on Tuesdays at 10:00, so her prompt comes at 16:30 on Monday (08:00 is before working hours)."""
    from nudges.calendars import scan
    from nudges.org_sync import sync_org

    samples = ROOT / "samples" / "org"
    bot = make_bot(
        at="2026-11-25T08:00:00Z",  # a Wednesday
        nudges={"default_timezone": "Europe/London", "max_per_week": 5, "follow_up_days": 1},
        org={"source": "roster", "roster": str(samples / "roster.csv")},
        one_on_ones={"source": "roster", "roster": str(samples / "one_on_ones.csv"), "lookahead_days": 7},
    )
    sync_org(bot, None)
    assert at("2026-12-01T10:00:00Z") in [m.start_at for m in scan(bot, None).found]  # Sam's
    chat = ConsoleChat(Router(bot))

    def say(*lines: str) -> list[str]:
        return [chat.handle_line(line) for line in lines]

    say("/as manager", "/home", "/as learner", "/home")
    say("/as admin", "enrol console-learner in feedback-culture")
    say("/as learner", "/clock 2026-11-25 09:00", "1", "1")  # feedback step 1: Start, Done
    # the roster makes Sam a support agent: the first-contact pathway's step 1 comes on Thursday
    assert "Step 1 of 4 on your pathway Solve it on first contact." in say("/clock 2026-11-26 09:00")[0]
    say("1", "1")
    *_, shared = say(
        "/clock 2026-11-27 09:00", "1", "I ask for feedback in the first five minutes of a retro", "1"
    )
    assert "will see it in my note before your 1:1 on Tuesday 1 December at 10:00." in shared
    *_, private = say("/clock 2026-11-30 09:00", "1", "Honestly I still dread escalations", "2")
    assert "Kept private" in private

    say("/as manager")
    prompt = say("/clock 2026-11-30 17:00")[0]
    assert "── Mon 30 Nov 2026 16:30 Europe/London · direct message to you ──" in prompt
    assert (
        "Your 1:1 with Sam (learner) is tomorrow at 10:00. What Sam (learner) shared in the last 4 weeks:"
        in prompt
    )
    assert (
        "• “I ask for feedback in the first five minutes of a retro” — Give useful feedback to a peer"
        in prompt
    )
    assert "dread escalations" not in prompt
    assert "• Handle a customer escalation (completed and applied)" in prompt
    assert "Priya" not in prompt  # her 1:1 is on Wednesday: a prompt of its own, if she shares anything


def test_a_managers_help_promises_the_1_1_note_only_when_1_1s_are_read(make_bot: MakeBot) -> None:
    without = ConsoleChat(Router(make_bot()))
    without.handle_line("/as manager")
    told = without.handle_line("help")
    assert "team" in told and "before each 1:1" not in told

    roster = str(ROOT / "samples" / "org" / "one_on_ones.csv")
    with_one_on_ones = ConsoleChat(Router(make_bot(one_on_ones={"source": "roster", "roster": roster})))
    with_one_on_ones.handle_line("/as manager")
    assert "Before each 1:1 with one of them I'll send you a note" in with_one_on_ones.handle_line("help")
    with_one_on_ones.handle_line("/as learner")
    assert "before each 1:1" not in with_one_on_ones.handle_line("help")
