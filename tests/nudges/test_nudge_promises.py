"""Finding 21: every reply that promises a nudge later is kept; the clock moves and the nudge arrives.

Driven through the console chat (the same flow as Slack) with `/clock`, which moves the manual
clock forward and stops at every moment something falls due on the way.
"""

from __future__ import annotations

import re

from bot.adapters.console import ConsoleChat
from bot.router import Router
from tests.nudges.conftest import MakeBot

STEP_1 = "Step 1 of 4 on your pathway Feedback that helps."
DELIVERED = re.compile(r"── (\w{3} \d\d \w{3} \d{4} \d\d:\d\d) Europe/London · direct message to you ──")


def _enrolled(make_bot: MakeBot) -> ConsoleChat:
    """Sam on feedback-culture; step 1 arrives on Monday 30 November at nine."""
    chat = ConsoleChat(Router(make_bot(at="2026-11-23T12:00:00Z")))
    for line in [
        "/clock 2026-11-27 18:00",
        "/as admin",
        "enrol console-learner in feedback-culture",
        "/as learner",
    ]:
        chat.handle_line(line)
    first = chat.handle_line("/clock +3d")
    assert DELIVERED.findall(first) == ["Mon 30 Nov 2026 09:00"] and STEP_1 in first
    return chat


def _deliveries(output: str) -> list[str]:
    return DELIVERED.findall(output)


def test_snooze_three_times_and_the_step_comes_back_when_each_reply_says(make_bot: MakeBot) -> None:
    chat = _enrolled(make_bot)  # Monday 30 November, 18:00
    snoozed = chat.handle_line("3")
    assert "back tomorrow, in working hours" in snoozed
    again = chat.handle_line("/clock +1d")
    assert _deliveries(again) == ["Tue 01 Dec 2026 09:00"] and STEP_1 in again
    assert "back tomorrow" in chat.handle_line("3")
    again = chat.handle_line("/clock +1d")
    assert _deliveries(again) == ["Wed 02 Dec 2026 09:00"]
    # Three nudges in three days: max_per_week (3) holds the next until a week after the first.
    third = chat.handle_line("3")
    assert "back on Monday, in working hours" in third
    assert _deliveries(chat.handle_line("/clock 2026-12-06 23:00")) == []
    back = chat.handle_line("/clock 2026-12-07 18:00")
    assert _deliveries(back) == ["Mon 07 Dec 2026 09:00"] and STEP_1 in back


def test_snooze_on_a_friday_promises_monday_and_keeps_it(make_bot: MakeBot) -> None:
    chat = ConsoleChat(Router(make_bot(at="2026-11-23T12:00:00Z")))
    for line in [
        "/clock 2026-12-03 18:00",
        "/as admin",
        "enrol console-learner in feedback-culture",
        "/as learner",
    ]:
        chat.handle_line(line)
    assert _deliveries(chat.handle_line("/clock 2026-12-04 12:00")) == ["Fri 04 Dec 2026 09:00"]
    assert "back on Monday, in working hours" in chat.handle_line("3")
    assert _deliveries(chat.handle_line("/clock 2026-12-07 12:00")) == ["Mon 07 Dec 2026 09:00"]


def test_not_now_after_a_reminder_and_a_snooze_checks_back_in_seven_days(make_bot: MakeBot) -> None:
    chat = _enrolled(make_bot)
    reminder = chat.handle_line("/clock 2026-12-07 18:00")  # ignored for a week: the one reminder
    assert _deliveries(reminder) == ["Mon 07 Dec 2026 09:00"] and "Still up for it?" in reminder
    assert "back tomorrow" in chat.handle_line("3")
    assert _deliveries(chat.handle_line("/clock +1d")) == ["Tue 08 Dec 2026 09:00"]
    not_now = chat.handle_line("4")
    assert "I'll check back about Give useful feedback to a peer in 7 days" in not_now
    assert _deliveries(chat.handle_line("/clock 2026-12-14 23:00")) == []
    back = chat.handle_line("/clock 2026-12-15 18:00")
    assert _deliveries(back) == ["Tue 15 Dec 2026 09:00"] and STEP_1 in back


def test_an_ignored_step_gets_one_reminder_then_learnbot_waits(make_bot: MakeBot) -> None:
    """README: "one reminder if ignored, then learnbot waits"."""
    chat = _enrolled(make_bot)
    later = chat.handle_line("/clock +30d")
    assert _deliveries(later) == ["Mon 07 Dec 2026 09:00"]
    assert "Still up for it?" in later


def test_not_yet_on_a_follow_up_asks_again_when_it_said(make_bot: MakeBot) -> None:
    chat = _enrolled(make_bot)
    assert "In 3 days I'll ask whether you got to use it." in chat.handle_line("2")  # Done, Monday 18:00
    asked = chat.handle_line("/clock 2026-12-04 12:00")
    assert "── Fri 04 Dec 2026 09:00" in asked and "Did you get to apply" in asked
    not_yet = chat.handle_line("2")
    assert "again in 3 days" in not_yet  # Friday + 3 days: Monday, from the start of working hours
    again = chat.handle_line("/clock 2026-12-08 18:00")
    assert "── Mon 07 Dec 2026 09:00" in again and "Did you get to apply" in again
    assert "── Tue 08 Dec 2026 09:00" in again and "Step 2 of 4" in again  # one nudge a day: the step waits
