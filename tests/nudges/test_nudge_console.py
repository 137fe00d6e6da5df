"""The pathway demo as a console transcript, admins' pathway edits, `learnbot tick` and `nudges status`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.adapters.console import PERSONAS, ConsoleChat
from bot.app import LearnBot, prepare
from bot.cli import main
from bot.config import Settings
from bot.events import Incoming
from bot.router import Router
from nudges.pathways import sync_from_config
from storage.models import StepProgress
from storage.pathways import pathway_steps
from tests.conftest import write_config
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import person


def transcript(chat: ConsoleChat, lines: list[str]) -> list[str]:
    return [chat.handle_line(line) for line in lines]


def test_demo_step_at_nine_follow_up_and_a_campaign_in_a_channel(make_bot: MakeBot) -> None:
    chat = ConsoleChat(Router(make_bot(at="2026-11-23T12:00:00Z")))
    out = transcript(
        chat,
        [
            "/clock 2026-11-27 18:00",
            "/as admin",
            "enrol console-learner in feedback-culture",
            "/as learner",
            "/clock +3d",
        ],
    )
    assert out[0] == "(the clock says Fri 27 Nov 2026 18:00 Europe/London)"
    assert "Enrolled Sam (learner) in feedback-culture" in out[2]
    step = out[4].splitlines()
    assert step[0] == "(the clock says Mon 30 Nov 2026 18:00 Europe/London)"
    assert step[1] == "── Mon 30 Nov 2026 09:00 Europe/London · direct message to you ──"
    assert step[2] == "Step 1 of 4 on your pathway Feedback that helps."
    assert (
        step[3] == "It supports Growing our people — Everyone gives and receives useful feedback every week."
    )
    assert "Why it matters: Growing our people — Builds the feedback culture" in out[4]
    assert step[-1] == "[1] Start   [2] Done   [3] Snooze   [4] Not now   [5] Stop nudges"

    started, done = transcript(chat, ["1", "1"])
    assert "Enjoy Give useful feedback to a peer!" in started and started.endswith("[1] Done")
    assert "Next up: Receive feedback without getting defensive" in done
    assert "In 3 days I'll ask whether you got to use it." in done

    follow_up, applied, takeaway, shared = transcript(
        chat, ["/clock 2026-12-04 12:00", "1", "I asked for feedback in the first minute of our retro", "1"]
    )
    # Done at 18:00 on Monday: three days on is Thursday evening, after hours, so Friday at nine.
    assert "── Fri 04 Dec 2026 09:00 Europe/London · direct message to you ──" in follow_up
    assert "Did you get to apply Give useful feedback to a peer? You finished it on Monday" in follow_up
    assert follow_up.endswith("[1] Applied it   [2] Not yet")
    assert "What's one thing you took away" in applied
    assert "> I asked for feedback in the first minute of our retro" in takeaway
    assert "only takeaways you share will ever be shown to them" in shared
    with chat.router.bot.session() as session:
        [progress] = session.exec(select(StepProgress))
    assert progress.takeaway == "I asked for feedback in the first minute of our retro"
    assert progress.share_with_manager and progress.applied_at and progress.completed_at

    out = transcript(
        chat,
        [
            "/as admin",
            "announce feedback-culture in #general at 2026-12-07 10:00: Feedback week starts today!",
            "/as manager",
            "/channel general",
            "/clock 2026-12-07 10:00",
            "1",
            "/as admin",
            "/dm",
            "campaigns",
        ],
    )
    assert "will post in #general at Mon 07 Dec 2026 10:00 Europe/London" in out[1]
    landed = out[4]
    assert "── Mon 07 Dec 2026 09:00 Europe/London · direct message to console-learner ──" in landed
    assert "Step 2 of 4 on your pathway" in landed and "[1] Start" not in landed  # Sam's buttons, not Maria's
    assert "── Mon 07 Dec 2026 10:00 Europe/London · in #general ──\n📣 Feedback that helps" in landed
    assert landed.endswith("[1] Join Feedback that helps   [2] What's in it?")
    assert "You've joined Feedback that helps" in out[5]
    assert "1 posted, 0 waiting, 1 clicks, 1 joins" in out[8]


def test_the_console_clock_and_time_zone_commands(make_bot: MakeBot) -> None:
    chat = ConsoleChat(Router(make_bot(at="2026-11-23T12:00:00Z")))
    assert chat.handle_line("/clock") == "(the clock says Mon 23 Nov 2026 12:00 Europe/London)"
    assert chat.handle_line("/clock +90m") == "(the clock says Mon 23 Nov 2026 13:30 Europe/London)"
    assert chat.handle_line("/clock 2026-11-01 09:00") == "(the clock only moves forward)"
    assert "can't read 'soon'" in chat.handle_line("/clock soon")
    assert "unknown time zone 'Mars/Olympus'" in chat.handle_line("/tz Mars/Olympus")
    assert "in Pacific/Auckland" in chat.handle_line("/tz Pacific/Auckland")
    assert chat.handle_line("/clock") == "(the clock says Tue 24 Nov 2026 02:30 Pacific/Auckland)"


def test_admin_pathway_edits_are_kept_over_app_yaml_until_reset(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url)
    router = Router(bot)

    def admin(text: str) -> str:
        [reply] = router.on_message(
            Incoming(platform="console", user_id="console-admin", text=text, channel_id="dm")
        )
        return reply.text + "\n" + (reply.quote or "")

    assert "4. write-a-clear-status-update" in admin("pathway feedback-culture")
    assert "2. run-a-retrospective" in admin("pathway feedback-culture add run-a-retrospective at 2")
    assert "1. receive-feedback-well" in admin("pathway feedback-culture move receive-feedback-well to 1")
    admin("pathway feedback-culture remove hard-conversations")
    edited = [
        "receive-feedback-well",
        "give-peer-feedback",
        "run-a-retrospective",
        "write-a-clear-status-update",
    ]
    with bot.session() as session:
        sync_from_config(session=session, config=bot.config)  # what `learnbot index` does on every run
        assert pathway_steps(session=session, pathway_id="feedback-culture") == edited
    shown = admin("pathway feedback-culture")
    assert "steps edited in chat by console-admin" in shown
    assert "no lesson with id `no-such-lesson`" in admin("pathway feedback-culture add no-such-lesson")
    assert "already step 2" in admin("pathway feedback-culture add give-peer-feedback")
    assert "between 1 and 4" in admin("pathway feedback-culture move give-peer-feedback to 9")
    assert "no running pathway called `nope`" in admin("pathway nope add give-peer-feedback")
    assert "feedback-culture: Feedback that helps (4 steps, 0 learners, steps edited in chat" in admin(
        "pathways"
    )

    assert "back to the steps in app.yaml" in admin("pathway feedback-culture reset")
    with bot.session() as session:
        assert pathway_steps(session=session, pathway_id="feedback-culture") == [
            "give-peer-feedback",
            "receive-feedback-well",
            "hard-conversations",
            "write-a-clear-status-update",
        ]

    learner = Incoming(
        platform="console",
        user_id="console-learner",
        text="pathway feedback-culture reset",
        channel_id="dm",
    )
    [reply] = router.on_message(learner)  # not an admin: just a question like any other
    assert "back to the steps" not in reply.text


@pytest.fixture
def cli_bot(tmp_path: Path) -> tuple[list[str], Settings]:
    config = write_config(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", config_path=config)
    prepare(settings)
    return ["--config", str(config), "--data-dir", str(tmp_path / "data")], settings


def test_learnbot_tick_at_a_time_and_nudges_status(
    cli_bot: tuple[list[str], Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    flags, settings = cli_bot
    from bot.app import open_bot

    bot: LearnBot = open_bot(settings)
    person(bot, PERSONAS["learner"].user_id)  # they have talked to learnbot in the console
    Router(bot).on_message(
        Incoming(
            platform="console",
            user_id=PERSONAS["admin"].user_id,
            text="enrol console-learner in feedback-culture",
            channel_id="d",
        )
    )
    bot.engine.dispose()

    assert main([*flags, "tick", "--at", "2026-11-28T10:00:00Z"]) == 0  # a Saturday: nothing
    quiet = capsys.readouterr().out
    assert "planned 0 steps" in quiet and "next nudge due 2026-11-30T09:00:00Z" in quiet
    assert main([*flags, "nudges", "status", "--at", "2026-11-28T10:00:00Z"]) == 0
    status = capsys.readouterr().out
    assert "nothing queued" in status and "next nudge the planner will send: 2026-11-30 09:00 UTC" in status

    assert main([*flags, "tick", "--at", "2026-11-30T09:00:00Z"]) == 0
    sent = capsys.readouterr().out
    assert "── 2026-11-30 09:00 UTC · console · DM console-learner ──" in sent
    assert "Step 1 of 4 on your pathway Feedback that helps." in sent
    assert "planned 1 steps and 0 follow-ups" in sent and "sent 1, retrying 0, failed 0" in sent
    assert main([*flags, "nudges", "status", "--json", "--at", "2026-11-30T09:00:00Z"]) == 0
    assert '"sent": 1' in capsys.readouterr().out
    assert main([*flags, "tick", "--at", "yesterday"]) == 2
    assert "not an ISO time" in capsys.readouterr().err


def test_a_step_due_now_arrives_now_when_the_clock_moves(make_bot: MakeBot) -> None:
    chat = ConsoleChat(Router(make_bot(at="2026-11-24T11:00:00Z")))  # a Tuesday, in working hours
    chat.handle_line("/home")  # the learner has been here: an admin can name them
    chat.handle_line("/as admin")
    chat.handle_line("enrol console-learner in feedback-culture")
    chat.handle_line("/as learner")
    moved = chat.handle_line("/clock +2h")
    assert "── Tue 24 Nov 2026 11:00 Europe/London · direct message to you ──" in moved
