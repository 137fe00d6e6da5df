"""Sharing controls and the manager's view: `sharing`, `team`, the prompt's buttons, and who sees what."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.app import LearnBot
from bot.events import Action, Incoming, Reply
from bot.router import Router
from nudges.clock import ManualClock
from storage.models import Meeting, Person, SharingPreference, StepProgress
from storage.sharing import set_sharing, shared_learning, sharing_of
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at, person
from tests.nudges.test_one_on_one_prompt import learned, meeting, team


def say(bot: LearnBot, user: str, text: str) -> Reply:
    [reply] = Router(bot).on_message(
        Incoming(platform="console", user_id=user, text=text, channel_id=f"dm-{user}")
    )
    return reply


def press(bot: LearnBot, user: str, reply: Reply, label: str) -> Reply:
    [button] = [b for b in reply.buttons if b.label == label]
    action = Action(
        platform="console", user_id=user, name=button.name, value=button.value, channel_id=f"dm-{user}"
    )
    [answer] = Router(bot).on_action(action)
    return answer


def click(bot: LearnBot, user: str, name: str, value: str) -> Reply:
    action = Action(platform="console", user_id=user, name=name, value=value, channel_id=f"dm-{user}")
    [answer] = Router(bot).on_action(action)
    return answer


def test_sharing_preferences_default_and_change_on_both_databases(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url)
    sam = person(bot, "console-learner")
    assert sam.id is not None
    with bot.session() as session:
        assert sharing_of(session=session, user_id=sam.id) == sharing_of(session=session, user_id=-1)
        default = sharing_of(session=session, user_id=sam.id)
        assert default.completions and not default.ratings
        set_sharing(session=session, user_id=sam.id, ratings=True, now=at("2026-11-27T18:00:00Z"))
    with bot.session() as session:
        set_sharing(session=session, user_id=sam.id, completions=False, now=at("2026-11-27T18:01:00Z"))
    with bot.session() as session:
        stored = session.get(SharingPreference, sam.id)
        assert stored is not None and (stored.completions, stored.ratings) == (False, True)


def test_sharing_in_chat_shows_and_changes_each_choice(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    learned(
        bot, sam, "receive-feedback-well", when="2026-11-27T10:00:00Z", takeaway="Pause first", share=False
    )
    view = say(bot, "console-learner", "sharing")
    assert "Here's what Maria (your manager) sees of your learning" in view.text
    assert "• Lessons you complete and your pathway progress: shared" in view.text
    assert "• How you rate lessons: not shared" in view.text
    assert "• Takeaway 1, private: “Pause first” — Receive feedback without getting defensive" in view.text
    assert "• Takeaway 2, shared: “Ask early” — Give useful feedback to a peer" in view.text
    assert [b.label for b in view.buttons] == [
        "Stop sharing completions",
        "Share ratings",
        "Share 1",
        "Make 2 private",
    ]

    view = press(bot, "console-learner", view, "Make 2 private")  # the learner un-shares a takeaway
    assert view.text.startswith("Saved. ") and "Takeaway 2, private: “Ask early”" in view.text
    view = press(bot, "console-learner", view, "Stop sharing completions")
    assert "• Lessons you complete and your pathway progress: not shared" in view.text
    view = press(bot, "console-learner", view, "Share ratings")
    assert "• How you rate lessons: shared" in view.text

    with bot.session() as session:
        learning = shared_learning(session=session, report_ids=[sam.id or 0])[sam.id or 0]
    assert learning.lessons == [] and learning.takeaways == [] and learning.pathways == []
    assert "Nothing shared yet." in say(bot, "console-manager", "team").text


def test_nobody_can_change_someone_elses_takeaway_and_bad_values_are_refused(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    _, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=False)
    with bot.session() as session:
        [progress] = session.exec(select(StepProgress)).all()
    person(bot, "U-mallory")
    answer = click(bot, "U-mallory", "sharing_takeaway", f"{progress.id}|on")
    assert answer.text == "That takeaway isn't one of yours, so I left it alone." and answer.ephemeral
    for value in ("x|on", f"{progress.id}|maybe", ""):
        assert (
            "I couldn't tell what to change" in click(bot, "console-learner", "sharing_takeaway", value).text
        )
    assert "I couldn't tell what to change" in click(bot, "console-learner", "sharing_ratings", "yes").text
    with bot.session() as session:
        stored = session.get(StepProgress, progress.id)
        assert stored is not None and not stored.share_with_manager


def test_share_promises_the_note_only_when_a_manager_and_a_1_1_are_known(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    loner = person(bot, "U-loner")
    learned(bot, loner, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Alone", share=False)
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=False)

    def share(user: str) -> str:
        with bot.session() as session:
            progress = session.exec(select(StepProgress)).all()
        mine = {p.takeaway: p.id for p in progress}
        return click(
            bot, user, "takeaway_share", str(mine["Alone" if user == "U-loner" else "Ask early"])
        ).text

    assert "I don't know who your manager is yet, so nobody sees it for now" in share("U-loner")
    no_meeting = share("console-learner")
    assert no_meeting.startswith("Shared: Maria sees it when they look at their team's learning.")
    assert "1:1" not in no_meeting
    meeting(bot, maria, sam, "2026-12-02T10:00:00Z")
    assert "Maria will see it in my note before your 1:1 on Wednesday 2 December at 10:00." in share(
        "console-learner"
    )


def test_team_is_for_managers_and_shows_only_their_own_reports(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url, at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    lee = person(bot, "console-admin")  # manages Ana, in another team
    ana = person(bot, "U-ana")
    with bot.session() as session:
        row = session.get(Person, ana.id)
        assert row is not None
        row.manager_id, row.display_name = lee.id, "Ana"
        session.add(row)
    learned(bot, ana, "hard-conversations", when="2026-11-27T10:00:00Z", takeaway="Ana's secret", share=True)

    mine = say(bot, "console-manager", "team").text
    assert "Sam" in mine and "Takeaway: “Ask early” — Give useful feedback to a peer" in mine
    assert "Ana" not in mine and "secret" not in mine
    theirs = say(bot, "console-admin", "team").text
    assert "Ana's secret" in theirs and "Ask early" not in theirs
    refused = say(bot, "console-learner", "team").text
    assert refused.startswith("team shows what your direct reports chose to share with you")
    assert "Ask early" not in refused
    home = Router(bot).home(
        Incoming(platform="console", user_id="console-manager", text="", channel_id="d").who
    )
    assert [member.name for member in home.team] == ["Sam"] and home.is_manager
    assert home.team[0].takeaways == (("Ask early", "Give useful feedback to a peer"),)
    learner_home = Router(bot).home(
        Incoming(platform="console", user_id="console-learner", text="", channel_id="d").who
    )
    assert learner_home.team == () and learner_home.sharing is not None
    assert learner_home.sharing.manager == "Maria" and learner_home.sharing.takeaways_shared == 1


def test_the_prompt_buttons_store_the_answer_for_that_manager_only(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url, at="2026-11-30T08:00:00Z")
    maria, sam = team(bot)
    meeting_id = meeting(bot, maria, sam, "2026-11-30T14:00:00Z")
    person(bot, "console-admin")
    stranger = click(bot, "console-admin", "one_on_one_discussed", meeting_id)
    assert stranger.text == "That 1:1 prompt was for someone else's meeting, so I left it alone."
    assert stranger.ephemeral
    gone = click(bot, "console-manager", "one_on_one_discussed", "roster:no-such-meeting")
    assert "I can't find that 1:1 any more" in gone.text
    assert isinstance(bot.clock, ManualClock)
    bot.clock.set(at("2026-11-30T15:00:00Z"))
    answer = click(bot, "console-manager", "one_on_one_not_this_time", meeting_id)
    assert answer.text == "Noted: not this time. Nothing changes for Sam." and answer.replace_message
    with bot.session() as session:
        stored = session.get(Meeting, meeting_id)
        assert stored is not None and stored.response == "not_this_time"
        assert stored.responded_at is not None
        assert stored.responded_at.replace(tzinfo=dt.UTC) == at("2026-11-30T15:00:00Z")


def test_team_and_sharing_typed_in_a_channel_answer_privately(make_bot: MakeBot) -> None:
    bot = make_bot(at="2026-11-30T08:00:00Z")
    _, sam = team(bot)
    learned(bot, sam, "give-peer-feedback", when="2026-11-26T10:00:00Z", takeaway="Ask early", share=True)
    for user, text in (("console-manager", "team"), ("console-learner", "sharing")):
        incoming = Incoming(
            platform="console", user_id=user, text=text, channel_id="general", is_direct=False
        )
        [reply] = Router(bot).on_message(incoming)
        assert reply.ephemeral and "I only answer that in a direct message" in reply.text
        assert "Ask early" not in reply.text
