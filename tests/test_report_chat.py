"""`report` in chat: an admin in a DM gets the report written and told where it is; nobody else does."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from bot.adapters.console import ConsoleChat


def test_an_admin_types_report_and_is_told_where_the_page_and_csvs_are(chat: ConsoleChat) -> None:
    chat.handle_line("how do i make a pivot table in excel")
    chat.handle_line("what's on the canteen menu today")
    chat.handle_line("/as admin")
    reply = chat.handle_line("report")
    assert "Your learning report for the last 30 days is ready: open" in reply
    assert "• Questions asked: 2" in reply and "• Answer rate: 50%" in reply  # the headline, in chat
    [page] = re.findall(r"\S+/report\.html", reply)
    page_path = Path(page.strip("`"))
    assert page_path.is_file() and "Learning report" in page_path.read_text(encoding="utf-8")
    with (page_path.parent / "questions.csv").open(encoding="utf-8") as handle:
        total = list(csv.DictReader(handle))[-1]
    assert (total["week"], total["asked"], total["answered"]) == (
        "total",
        "2",
        "1",
    )  # the two questions above


def test_report_takes_a_period_and_refuses_a_bad_one(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    assert "for the last 56 days is ready" in chat.handle_line("report 8w")
    refused = chat.handle_line("report lots")
    assert "I can report on a period like report 30d or report 8w" in refused and "'lots'" in refused


def test_a_learner_typing_report_gets_no_report(chat: ConsoleChat, tmp_path: Path) -> None:
    reply = chat.handle_line("report")
    assert "learning report" not in reply
    assert not (tmp_path / "reports").exists()


def test_the_admin_home_shows_the_report_headline(chat: ConsoleChat) -> None:
    chat.handle_line("how do i make a pivot table in excel")
    chat.handle_line("/as admin")
    home = chat.handle_line("/home")
    assert "Active learners (7 days) 1" in home
    assert "Full report type report in a DM with me" in home
