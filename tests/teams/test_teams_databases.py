"""A Teams conversation with real-length ids on SQLite and PostgreSQL: a personal chat id longer than
100 characters is stored whole as the question's channel and the person's reference, and a click works."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.app import prepare
from bot.config import Settings
from storage.models import ConversationReference, Feedback, Question
from tests.conftest import write_config
from tests.teams.fake_connector import FakeConnector
from tests.teams.harness import LEARNER, TeamsApp, member, teams_settings

LONG_CHAT = (
    "a:1"
    + "mdcf8y7LfXKb3zjYyMvV9BMJK6gxLJIUyGO2J7g1e7I2vvSP5R-7sM5FXAvX6m1BHJzvT4eHsz1u_hFwl_BEkP0yOOWO3t5QeSH"
)


def test_a_teams_conversation_with_a_long_chat_id_is_stored_whole(db_url: str, tmp_path: Path) -> None:
    settings = teams_settings(
        Settings(data_dir=tmp_path / "data", config_path=write_config(tmp_path), database_url=db_url)
    )
    prepare(settings)
    with FakeConnector(members={f"29:{LEARNER}": member(LEARNER, "Ana", "ana@example.com")}) as fake:
        app = TeamsApp.start(settings, fake)
        try:
            chat = {"conversationType": "personal", "id": LONG_CHAT}
            message = {**app.base(LEARNER, chat), "type": "message", "text": "make a pivot table in excel"}
            assert app.send(message)[0] == 202
            [answer] = fake.wait_for(1)
            assert (
                answer.conversation == LONG_CHAT and "Summarise data with Excel pivot tables" in answer.text
            )
            status, body = app.click(answer.card, "Helpful", conversation=chat)
            assert status == 200 and "Glad it helped!" in str(body)
            app.finish()
            with app.router.bot.session() as session:
                [question] = session.exec(select(Question))
                [reference] = session.exec(select(ConversationReference))
                [feedback] = session.exec(select(Feedback))
            assert len(LONG_CHAT) > 100
            assert question.channel_id == LONG_CHAT and reference.channel_id == LONG_CHAT
            assert feedback.verdict == "helpful"
        finally:
            app.stop()
