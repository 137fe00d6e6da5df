"""Rating in a Slack channel thread: the two scales, then the comment sent by DM (a thread reply is not
addressed to learnbot), stored with the one rating."""

from __future__ import annotations

from storage.models import Rating
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackApp, buttons, posted_message, rows, texts

PEER = "how do I give feedback to a peer"


def test_a_rating_in_a_channel_takes_its_comment_by_dm(slack: SlackApp, fake: FakeSlack) -> None:
    slack.mention(PEER, ts="1700000021.000100", event_id="Ev-rate-1")
    [answer] = fake.wait_for("chat.postMessage")
    message = posted_message(answer)
    slack.click(message, "Rate")
    [first] = fake.wait_for("chat.update")
    assert "1 = not relevant to my role … 5 = core to my role" in texts(first.params["blocks"])
    slack.click(message | {"blocks": first.params["blocks"]}, "3")
    [_, second] = fake.wait_for("chat.update", 2)
    ends = "1 = I can't tell which goal it serves … 5 = I can see exactly which goal it serves"
    assert ends in texts(second.params["blocks"])
    slack.click(message | {"blocks": second.params["blocks"]}, "2")
    [_, _, done] = fake.wait_for("chat.update", 3)
    said = texts(done.params["blocks"])
    assert "Send me a short comment in a direct message within 30 minutes, or press Skip." in said
    assert buttons(done.params["blocks"]) == ["Skip"]

    fake.reset()
    slack.dm("Useful, but I can't see which goal it serves", ts="1700000022.000100", event_id="Ev-rate-2")
    [thanks] = fake.wait_for("chat.postMessage")
    assert "Thanks, I've added your comment to your rating of *Give useful feedback to a peer*" in texts(
        thanks.params["blocks"]
    )
    [rating] = rows(slack, Rating)
    assert (rating.role_relevance, rating.strategic_clarity) == (3, 2)
    assert rating.comment == "Useful, but I can't see which goal it serves"
