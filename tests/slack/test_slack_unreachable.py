"""When Slack breaks mid-conversation: a post whose connection dropped after Slack processed it is
not sent again (finding 4, the reply side), and with Slack unreachable every question is still
recorded but not counted as answered when the answer never arrived (finding 19)."""

from __future__ import annotations

from storage.models import Person, Question
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, rows, texts

PEER = "how do I give feedback to a peer"


def test_a_post_whose_connection_dropped_is_not_sent_again(slack: SlackApp, fake: FakeSlack) -> None:
    fake.drop("chat.postMessage")  # Slack posts it, then the connection breaks before the answer
    slack.mention(PEER, ts="70.1", event_id="Ev-dropped")
    slack.finish()
    [posted] = fake.called("chat.postMessage")  # before: retried, so the answer appeared twice
    assert "Give useful feedback to a peer" in texts(posted.params["blocks"])


def test_idempotent_calls_are_still_retried_after_a_dropped_connection(
    slack: SlackApp, fake: FakeSlack
) -> None:
    fake.drop("users.info")
    slack.dm(PEER, event_id="Ev-retried")
    slack.finish()
    assert len(fake.called("users.info")) == 2
    [person] = rows(slack, Person)
    assert person.email == "u0learner@example.com"  # the retry got the profile


def _unreachable(slack: SlackApp) -> None:
    """From now on every Web API call is refused at the TCP level (nothing listens there)."""
    slack.adapter.app.client.base_url = "http://127.0.0.1:9/api/"


def test_with_slack_unreachable_a_new_persons_question_is_recorded_as_a_gap(slack: SlackApp) -> None:
    _unreachable(slack)
    assert slack.dm(PEER, user="U0NEW", event_id="Ev-new") == 200
    slack.finish()
    [question] = rows(slack, Question)  # before: nothing at all (users.info raised first)
    assert (question.text, question.answered) == (PEER, False)


def test_with_slack_unreachable_an_undelivered_answer_is_not_counted_answered(
    slack: SlackApp, fake: FakeSlack
) -> None:
    slack.dm(PEER, event_id="Ev-known")  # known, while Slack is up
    slack.finish()
    _unreachable(slack)
    assert slack.dm("make a pivot table in excel", event_id="Ev-lost") == 200
    slack.finish()
    first, second = sorted(rows(slack, Question), key=lambda q: q.id or 0)
    assert first.answered is True
    assert (second.text, second.answered) == ("make a pivot table in excel", False)  # before: True
    assert second.user_id == first.user_id
