"""Block Kit rendering on its own: escaping, cutting to Slack's limits, and views Slack would accept."""

from __future__ import annotations

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.adapters.slack import blocks as kit
from bot.adapters.slack import mrkdwn, views
from bot.events import AnswerCard, Button, Catalogue, HomeView, PathwayProgress, RecentAnswer, Reply


def _valid(blocks: list[dict]) -> None:
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


def test_escaping_neutralises_mentions_links_and_entities() -> None:
    assert mrkdwn.escape("<!here> & <https://x|y>") == "&lt;!here&gt; &amp; &lt;https://x|y&gt;"
    assert mrkdwn.clip(mrkdwn.escape("a" * 8 + "&b"), 10) == "aaaaaaaa…"  # never half an entity
    assert mrkdwn.safe_url("javascript:alert(1)") is None
    assert mrkdwn.safe_url("https://x.example/a?b=1&c=<2>|3") == "https://x.example/a?b=1&amp;c=%3C2%3E%7C3"
    assert mrkdwn.mention("U0ABC") == "<@U0ABC>" and mrkdwn.mention("<!channel>") == "&lt;!channel&gt;"


def test_a_huge_card_is_cut_with_a_link_to_read_more() -> None:
    card = AnswerCard(
        content_id="x",
        title="T" * 400,
        summary="word " * 2000,
        pillar="P" * 50,
        impact="I",
        duration_minutes=5,
        url="https://learn.example.com/x",
    )
    reply = Reply(
        text="Here", card=card, buttons=tuple(Button(f"B{n}", "rate", "v" * 3000) for n in range(30))
    )
    blocks = kit.reply_blocks(reply)
    _valid(blocks)
    header = next(b for b in blocks if b["type"] == "header")
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")
    summary = next(b for b in blocks if b.get("block_id") == "lb_card_summary")["text"]["text"]
    assert len(summary) <= 3000 and summary.endswith("<https://learn.example.com/x|Read more>")
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5]
    assert all(len(e["value"]) == 2000 for b in actions for e in b["elements"])
    assert len({e["action_id"] for b in actions for e in b["elements"]}) == 30


def test_home_and_browse_views_stay_within_limits() -> None:
    recent = tuple(RecentAnswer(n, "q<" * 200, f"c{n}", "title & co", "https://x.example") for n in range(60))
    home = HomeView(
        user_id="U1",
        pathways=tuple(PathwayProgress(f"p{n}", "Path", "Pillar", 1, 4, "Next") for n in range(40)),
        recent=recent,
        to_rate=recent,
        is_admin=True,
        headline=(("Questions (7 days)", "3"),),
        gaps=("<!channel> gap",) * 5,
    )
    view = views.home_view(home)
    assert len(view["blocks"]) == 100
    View(**view).validate_json()
    cards = tuple(AnswerCard(f"c{n}", "A" * 300, "s" * 900, url="https://x.example") for n in range(10))
    modal = views.browse_modal(
        Catalogue(query="q" * 600, pillar="p1", pillars=(("p1", "Pillar"),), cards=cards)
    )
    View(**modal).validate_json()
    assert modal["blocks"][1]["elements"][0]["initial_option"]["value"] == "p1"
