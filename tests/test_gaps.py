"""Content gaps: similar unanswered and "Not helpful" questions grouped into clusters that L&D can page
through, send to the experts once, and see close when a lesson that answers them is indexed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, inspect
from sqlmodel import Session, select

from bot.adapters.console import ConsoleChat
from bot.app import open_bot, prepare
from bot.config import SearchSettings, Settings
from bot.events import Action
from bot.router import Router
from content_index.gaps import LEXICAL_THRESHOLD, SEMANTIC_THRESHOLD, GapCluster, gap_clusters
from content_index.library import library_documents, new_index
from content_index.semantic import unavailable_reason
from storage.db import make_engine
from storage.models import AnswerShown, ContentItem, Feedback, OutboxMessage, Person, Question
from tests.conftest import write_config

needs_semantic = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

# The tuning fixture: rewordings of one need, in topics that must stay apart (two "password" topics
# share a word). Both thresholds were chosen on it; HELD_BACK was not looked at while choosing.
TOPICS = {
    "canteen": [
        "what's on the canteen menu today",
        "canteen menu for today?",
        "what is for lunch in the canteen today",
        "what's on the canteen menu today",
        "today's canteen lunch menu",
    ],
    "parking": [
        "where can I park my car at the office",
        "is there parking at the office",
        "how do I get a parking space at HQ",
        "office car park spaces",
    ],
    "travel": [
        "how do I claim travel expenses",
        "submit an expense claim for a train ticket",
        "how to get reimbursed for travel costs",
    ],
    "laptop": [
        "how do I request a new laptop",
        "my laptop is broken, how do I get a replacement",
        "order a new laptop from IT",
    ],
    "wifi": ["what is the wifi password for guests"],
    "pension": ["who do I ask about my pension"],
    "email": ["how do I reset my email password"],
}
HELD_BACK = {
    "canteen": "what's for lunch at the canteen today",
    "parking": "can I park at the office",
    "laptop": "request a replacement laptop",
}


def _people(session: Session, n: int) -> list[int]:
    people = [Person(display_name=f"Person {i}") for i in range(n)]
    session.add_all(people)
    session.flush()
    return [p.id for p in people if p.id is not None]


def _interleaved(topics: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The questions as they would arrive: topics mixed, each topic's first question first."""
    out = []
    for rank in range(max(len(v) for v in topics.values())):
        out += [(topic, texts[rank]) for topic, texts in topics.items() if rank < len(texts)]
    return out


def seed(session: Session) -> dict[int, str]:
    """The fixture as stored gap questions (one per hour, from four people); returns question id → topic.

    The travel questions were answered but marked Not helpful; the parking ones were a Not sure
    choice that showed the meeting-room lesson."""
    people = _people(session, 4)
    topic_of: dict[int, str] = {}
    for n, (topic, text) in enumerate(_interleaved(TOPICS) + list(HELD_BACK.items())):
        question = Question(
            user_id=people[n % 4],
            platform="console",
            channel_id="dm",
            text=text,
            answered=topic == "travel",
            asked_at=START + dt.timedelta(hours=n),
        )
        session.add(question)
        session.flush()
        assert question.id is not None
        topic_of[question.id] = topic
        if topic == "travel":
            session.add(AnswerShown(question_id=question.id, content_id="submit-an-expense-claim"))
            session.add(
                Feedback(
                    user_id=question.user_id,
                    content_id="submit-an-expense-claim",
                    question_id=question.id,
                    verdict="not_helpful",
                )
            )
        if topic == "parking":
            session.add(AnswerShown(question_id=question.id, content_id="book-a-meeting-room"))
    session.flush()
    return topic_of


def grouping(clusters: list[GapCluster], topic_of: dict[int, str]) -> dict[str, set[int]]:
    """Topic → the clusters its questions landed in."""
    found: dict[str, set[int]] = {}
    for cluster in clusters:
        for question_id in cluster.question_ids:
            found.setdefault(topic_of[question_id], set()).add(cluster.id)
    return found


@pytest.fixture
def library_db(make_settings: Callable[..., Settings], db_url: str) -> str:
    """A database on SQLite or PostgreSQL holding the sample library (`learnbot index`)."""
    prepare(make_settings(database_url=db_url))
    return db_url


def test_the_schema_has_the_gap_and_pulse_tables(library_db: str) -> None:
    tables = set(inspect(make_engine(library_db)).get_table_names())
    assert {"gapcluster", "pulseanswer"} <= tables


@needs_semantic
def test_similar_questions_merge_into_one_cluster_and_topics_stay_apart(library_db: str) -> None:
    engine = make_engine(library_db)
    end = START + dt.timedelta(days=30)
    with Session(engine) as session:
        topic_of = seed(session)
        session.commit()
        clusters = gap_clusters(session=session, since=START, now=end)
    groups = grouping(clusters, topic_of)
    assert all(len(ids) == 1 for ids in groups.values()), groups  # each topic in one cluster
    assert len(clusters) == len(TOPICS)  # and no two topics share one (held-back questions included)

    canteen = next(c for c in clusters if topic_of[c.id] == "canteen")
    assert canteen.ref == f"G{canteen.id}" and canteen.id == min(canteen.question_ids)  # its first question
    assert clusters[0] == canteen  # the most asked first
    assert (canteen.questions, canteen.people, canteen.unanswered, canteen.not_helpful) == (6, 4, 6, 0)
    assert canteen.examples[0] == "what's on the canteen menu today"  # asked twice: the first example
    assert len(canteen.examples) == 3 and len(set(canteen.examples)) == 3
    asked = [START + dt.timedelta(hours=n) for n, (t, _) in enumerate(_interleaved(TOPICS)) if t == "canteen"]
    assert canteen.first_seen == asked[0] and canteen.last_seen > asked[-1]  # the held-back one came last
    assert canteen.status == "open" and canteen.nearest is None  # nothing was ever shown for it

    travel = next(c for c in clusters if topic_of[c.id] == "travel")
    assert (travel.questions, travel.unanswered, travel.not_helpful) == (3, 0, 3)
    parking = next(c for c in clusters if topic_of[c.id] == "parking")
    assert parking.nearest is not None and parking.nearest.content_id == "book-a-meeting-room"
    assert parking.nearest.title == "Book a meeting room or desk"

    # A later window counts only its own questions; the cluster keeps its id.
    with Session(engine) as session:
        later = gap_clusters(session=session, since=START + dt.timedelta(hours=10), now=end)
    again = next(c for c in later if c.id == canteen.id)
    assert again.questions < canteen.questions and again.first_seen > canteen.first_seen
    engine.dispose()


def test_the_lexical_tier_merges_rewordings_and_keeps_topics_apart(library_db: str) -> None:
    """Without the semantic tier (search.semantic: off) the token-set ratio of stemmed words decides."""
    engine = make_engine(library_db)
    with Session(engine) as session:
        topic_of = seed(session)
        session.commit()
        index = new_index(library_documents(session=session), SearchSettings(semantic="off"))
        clusters = gap_clusters(session=session, since=START, now=START + dt.timedelta(days=30), index=index)
    groups = grouping(clusters, topic_of)
    for cluster in clusters:  # no cluster mixes topics
        assert len({topic_of[q] for q in cluster.question_ids}) == 1, cluster.examples
    assert groups["wifi"] != groups["email"]  # "password" alone does not merge two needs
    canteen = next(c for c in clusters if c.id in groups["canteen"] and c.questions > 1)
    assert canteen.questions == 6  # every rewording (and the held-back one) joined the first question
    assert canteen.nearest is None  # no lesson is near the canteen menu
    engine.dispose()


def test_thresholds_are_documented_values() -> None:
    assert (SEMANTIC_THRESHOLD, LEXICAL_THRESHOLD) == (0.5, 0.65)


# ---- in chat --------------------------------------------------------------------------------------


def button(reply: str, label: str) -> str:
    found = re.search(rf"\[(\d+)\] {re.escape(label)}", reply)
    assert found, reply
    return found.group(1)


def questions(chat: ConsoleChat) -> list[Question]:
    with chat.router.bot.session() as session:
        return list(session.exec(select(Question).order_by(Question.id)))


def test_small_talk_and_bare_numbers_are_answered_kindly_and_never_logged(chat: ConsoleChat) -> None:
    replies = [chat.handle_line(line) for line in ["great", "how r u", "3", "thanks!", "hi there", "42"]]
    assert "Great!" in replies[0] and "I'm doing well" in replies[1]
    assert "There are no buttons to press right now" in replies[2] and "no buttons" in replies[5]
    assert "You're welcome" in replies[3] and replies[4].startswith("learnbot ▸ Hi!")
    chatter = [chat.handle_line(line) for line in ["hmm", "3 3", "all good", "np", "12:30"]]
    assert all("I'm here whenever you need me" in reply for reply in chatter), chatter
    assert not any("content gap" in reply for reply in replies + chatter)
    chat.handle_line("what's on the canteen menu today")
    assert [q.text for q in questions(chat)] == ["what's on the canteen menu today"]

    with chat.router.bot.session() as session:  # rows stored before the small-talk rule are not gaps either
        session.add(Question(platform="console", channel_id="dm", text="great", answered=False))
        session.add(Question(platform="console", channel_id="dm", text="3", answered=False))
    chat.handle_line("/as admin")
    gaps = chat.handle_line("gaps")
    assert "1 open content gap (questions I couldn't answer well, last 90 days)" in gaps
    assert "“what's on the canteen menu today”" in gaps
    assert "“great”" not in gaps and "“3”" not in gaps


def test_none_of_these_and_not_helpful_are_gaps(chat: ConsoleChat) -> None:
    choice = chat.handle_line("where can I park my car at the office")
    assert choice.startswith("learnbot ▸ Not sure")
    assert "I don't have a lesson for that yet" in chat.handle_line(button(choice, "None of these"))
    chat.handle_line("how do I give feedback to a peer")
    chat.handle_line("2")  # Not helpful: the next-best lesson
    chat.handle_line("2")  # Not helpful again
    chat.handle_line("/as admin")
    gaps = chat.handle_line("gaps")
    assert "2 open content gaps" in gaps
    assert "“where can I park my car at the office”" in gaps
    assert "Nearest lesson: Book a meeting room or desk" in gaps
    assert "“how do I give feedback to a peer”" in gaps


TWELVE = [
    "what's on the canteen menu today",
    "where can I park my car at the office",
    "who do I ask about my pension",
    "what is the wifi password for guests",
    "my laptop screen is cracked, where do I get it fixed",
    "when is the next fire drill",
    "am I allowed to take the company van home at the weekend",
    "is there a discount for the gym near the office",
    "who waters the plants on the third floor",
    "what date is the christmas party",
    "where can I lock up my bike",
    "the printer on floor 2 is out of toner " + "and nobody knows who orders it, " * 60,
]


def seed_twelve(chat: ConsoleChat) -> None:
    """Twelve different needs, the first asked most, just after the library was indexed."""
    with chat.router.bot.session() as session:
        indexed = session.exec(select(func.max(ContentItem.updated_at))).one()
        assert indexed is not None
        start = indexed.replace(tzinfo=dt.UTC) if indexed.tzinfo is None else indexed
        people = _people(session, 3)
        for n, text in enumerate(TWELVE):
            for repeat in range(len(TWELVE) - n):  # the first is asked most: a clear order
                session.add(
                    Question(
                        user_id=people[repeat % 3],
                        platform="console",
                        channel_id="dm",
                        text=text,
                        answered=False,
                        asked_at=start + dt.timedelta(milliseconds=(n * 20 + repeat) * 5 + 1),
                    )
                )


@needs_semantic
def test_gaps_pages_through_the_true_total_and_clips_long_questions(chat: ConsoleChat) -> None:
    seed_twelve(chat)
    refused = chat.handle_line("gaps 2")
    assert "Only L&D admins can see content gaps" in refused
    assert questions(chat) and all(q.text != "gaps 2" for q in questions(chat))  # not logged as a question

    chat.handle_line("/as admin")
    chat.handle_line("/clock +1h")  # an hour after they were asked
    first = chat.handle_line("gaps")
    assert "12 open content gaps (questions I couldn't answer well, last 90 days)" in first
    assert "Page 1 of 3:" in first
    assert "“what's on the canteen menu today”" in first
    assert "12 questions from 3 people" in first
    assert "[6] More (2 of 3)" in first  # five Send buttons, then More
    second = chat.handle_line(button(first, "More (2 of 3)"))
    assert "Page 2 of 3:" in second and "“what date is the christmas party”" not in first
    assert "“when is the next fire drill”" in second
    third = chat.handle_line("gaps 3")
    assert "Page 3 of 3:" in third and "More" not in third
    assert third.count("question from") + third.count("questions from") == 2
    printer = next(line for line in third.splitlines() if "printer" in line)
    assert len(printer.strip()) <= 125 and printer.strip().endswith("…”")
    assert "There are only 3 pages of gaps (12 open)" in chat.handle_line("gaps 4")


def test_an_admin_sends_a_cluster_to_the_experts_once_through_the_outbox(chat: ConsoleChat) -> None:
    chat.handle_line("what's on the canteen menu today")
    chat.handle_line("canteen menu for today?")
    chat.handle_line("/as admin")
    gaps = chat.handle_line("gaps")
    ref = re.search(r"G(\d+) · 2 questions from 1 person", gaps)
    assert ref, gaps
    sent = chat.handle_line(button(gaps, f"Send G{ref.group(1)} to the experts"))
    assert f"Sending G{ref.group(1)} to #learning-experts for the experts." in sent
    assert "· in #learning-experts ──" in sent
    assert f"A content gap from L&D (G{ref.group(1)}): 2 questions from 1 person" in sent
    assert "> what's on the canteen menu today" in sent and "> canteen menu for today?" in sent
    listed = chat.handle_line("gaps")
    assert "Sent to the experts in #learning-experts on" in listed and "Send G" not in listed

    router = chat.router

    def click(user: str) -> str:
        action = Action(
            platform="console", user_id=user, name="gaps_send", value=ref.group(1), channel_id=f"dm-{user}"
        )
        return router.on_action(action)[0].text

    assert "was already sent to #learning-experts on" in click("console-admin")
    assert "Only L&D admins can send content gaps" in click("console-learner")
    with router.bot.session() as session:
        rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "gap_sme")))
    assert [(row.idempotency_key, row.channel_id, row.status) for row in rows] == [
        (f"gap-sme:{ref.group(1)}", "learning-experts", "sent")
    ]
    assert chat.handle_line("/clock +1h").count("#learning-experts") == 0  # nothing more was posted


CANTEEN_LESSON = """---
id: canteen-menu
title: What's on the canteen menu today
summary: Where to find today's canteen menu, lunch specials and opening times.
skills: [canteen, lunch, menu]
pillar: people-growth
audience: [everyone]
duration_minutes: 1
url: https://intranet.example.com/canteen
---
# What's on the canteen menu today

The canteen menu for today and the week is on the intranet's Canteen page, updated every morning by 9.
Lunch is served 12:00-14:00; the specials are on the board by the tills.
"""


def test_a_cluster_closes_when_a_lesson_that_answers_it_is_indexed(
    make_settings: Callable[..., Settings], db_url: str, tmp_path: Path
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    config = _with_source(write_config(tmp_path, search={"refresh_seconds": 0}), extra)
    settings = make_settings(config_path=config, database_url=db_url)
    prepare(settings)
    chat = ConsoleChat(Router(open_bot(settings)))
    chat.handle_line("what's on the canteen menu today")
    chat.handle_line("what is for lunch in the canteen today")
    chat.handle_line("/as admin")
    assert "1 open content gap" in chat.handle_line("gaps")

    (extra / "canteen-menu.md").write_text(CANTEEN_LESSON)
    prepare(settings)  # learnbot index
    assert chat.handle_line("gaps").startswith("learnbot ▸ No open content gaps in the last 90 days")
    with chat.router.bot.session() as session:
        [cluster] = gap_clusters(
            session=session,
            since=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1),
        )
    assert (cluster.status, cluster.closed_by, cluster.questions) == ("closed", "canteen-menu", 2)
    assert cluster.closed_by_title == "What's on the canteen menu today" and cluster.closed_at is not None
    with chat.router.bot.session() as session:
        lesson = session.get(ContentItem, "canteen-menu")
        assert lesson is not None
        indexed = (
            lesson.updated_at.replace(tzinfo=dt.UTC)
            if lesson.updated_at.tzinfo is None
            else lesson.updated_at
        )
    assert cluster.closed_at == indexed  # closed when the lesson that answers it was indexed
    chat.handle_line("/as learner")
    assert "What's on the canteen menu today" in chat.handle_line("canteen menu for today?")
    chat.router.bot.engine.dispose()


def _with_source(config: Path, folder: Path) -> Path:
    """app.yaml with one more markdown source (a folder an expert adds lessons to)."""
    import yaml

    data = yaml.safe_load(config.read_text())
    data["content_sources"] = [s for s in data["content_sources"] if s["name"] != "extra"]
    data["content_sources"].append({"name": "extra", "type": "markdown", "path": str(folder)})
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def test_in_slack_the_send_button_posts_the_cluster_in_the_experts_channel_once(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Signed Slack requests to the real Bolt app; the outbox delivers through the Slack sender."""
    from bot.wiring import slack_sender
    from nudges.scheduler import run_tick
    from tests.fake_slack import FakeSlack
    from tests.slack_harness import SlackApp, buttons, posted_message, slack_settings, texts

    with FakeSlack() as fake:
        settings = slack_settings(make_settings(write_config(tmp_path, admins=["U0ADMIN"])), fake)
        prepare(settings)
        app = SlackApp.start(settings, fake)
        try:
            app.dm("what's on the canteen menu today", user="U0LEARNER", event_id="Ev-gap-1")
            fake.wait_for("chat.postMessage")
            app.dm("gaps", user="U0ADMIN", ts="2.0001", event_id="Ev-gaps")
            [_, listing] = fake.wait_for("chat.postMessage", 2)
            shown = texts(listing.params["blocks"])
            assert "1 open content gap" in shown and "what's on the canteen menu today" in shown
            assert buttons(listing.params["blocks"]) == ["Send G1 to the experts"]

            status, _, _ = app.click(posted_message(listing), "Send G1 to the experts", user="U0LEARNER")
            assert status == 200
            app.finish()
            status, _, _ = app.click(posted_message(listing), "Send G1 to the experts", user="U0ADMIN")
            assert status == 200
            app.finish()
            bot = app.adapter.router.bot
            result = run_tick(bot, {"slack": slack_sender(settings)}, at=bot.clock.now())
            assert result.dispatch.sent == 1
            [post] = [c for c in fake.called("chat.postMessage") if c.params["channel"] == "learning-experts"]
            assert "*A content gap from L&amp;D (G1)*: 1 question from 1 person" in texts(
                post.params["blocks"]
            )
            assert "what's on the canteen menu today" in texts(post.params["blocks"])

            app.click(posted_message(listing), "Send G1 to the experts", user="U0ADMIN")  # again
            app.finish()
            assert run_tick(bot, {"slack": slack_sender(settings)}, at=bot.clock.now()).dispatch.sent == 0
            said = "\n".join(
                texts(c.params.get("blocks") or []) + str(c.params.get("text") or "")
                for c in fake.calls
                if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
            ).replace("&amp;", "&")
            assert "Only L&D admins can send content gaps to the experts." in said
            assert "Sending G1 to #learning-experts for the experts." in said
            assert "G1 was already sent to #learning-experts on" in said
        finally:
            app.stop()


@needs_semantic
def test_cluster_ids_survive_new_questions_and_a_restart(library_db: str) -> None:
    """Deterministic and stable: the same clusters from scratch (a new process) and after more questions."""
    import content_index.gaps as gaps

    engine = make_engine(library_db)
    end = START + dt.timedelta(days=30)
    with Session(engine) as session:
        topic_of = seed(session)
        session.commit()
        before = gap_clusters(session=session, since=START, now=end)
        gaps._CLUSTERINGS.clear()  # what a restarted process starts with
        assert gap_clusters(session=session, since=START, now=end) == before
        later = START + dt.timedelta(days=3)
        session.add(
            Question(platform="console", text="is there parking at HQ", answered=False, asked_at=later)
        )
        session.commit()
        after = gap_clusters(session=session, since=START, now=end)
    assert sorted(c.id for c in after) == sorted(c.id for c in before)
    parking = next(c for c in before if topic_of[c.id] == "parking")
    assert next(c for c in after if c.id == parking.id).questions == parking.questions + 1
    engine.dispose()


def test_a_question_asked_just_after_indexing_is_dated_after_the_lessons(
    make_settings: Callable[..., Settings],
) -> None:
    # The console's clock stands still from when the chat opens; rounded down to the second it was
    # earlier than lessons indexed a moment before, so a gap could close on a lesson already there.
    settings = make_settings()
    prepare(settings)
    bot = open_bot(settings)
    with bot.session() as session:
        indexed = session.exec(select(func.max(ContentItem.updated_at))).one()
    assert indexed is not None
    just_after = indexed.replace(tzinfo=dt.UTC) + dt.timedelta(microseconds=1)

    class RealClock:  # the real time, read the moment after the last lesson was indexed
        def now(self) -> dt.datetime:
            return just_after

    bot.clock = RealClock()
    chat = ConsoleChat(Router(bot))
    chat.handle_line("what's on the canteen menu today")
    with bot.session() as session:
        [asked] = session.exec(select(Question.asked_at)).all()
    assert asked.replace(tzinfo=None) > indexed.replace(tzinfo=None)
    bot.engine.dispose()
