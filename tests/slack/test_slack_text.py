"""Slack text both ways, on their own: neutral replies rendered (escaped, inert), Slack syntax parsed in,
and the campaign form's submission read as structured data."""

from __future__ import annotations

import datetime as dt
import json

from slack_sdk.models.blocks import Block

from bot.adapters.slack import blocks as kit
from bot.adapters.slack import forms, mrkdwn
from bot.adapters.slack.syntax import parse
from bot.events import AnswerCard, Button, ChannelMention, Mention, Reply
from bot.markup import Text, bold, code, italic, link, mention
from tests.slack_harness import texts

TYPED = "<!channel> read <http://evil.example|click> *bold* _now_ <@U0BOSS> & co"
CARD = AnswerCard(
    content_id="x",
    title="<!here> *Free* pizza <http://evil.example|click>",
    summary="Ping <!channel> and <@U0BOSS>: <http://evil.example|click> for *bold* ~news~",
    pillar="<#C0ALL> pillar",
    impact="*big*",
    duration_minutes=3,
    url="https://learn.example.com/x?a=1&b=<2>",
)
DANGEROUS = ("<!channel>", "<!here>", "<@U0BOSS>", "<http://evil", "<#C0ALL>", "*bold*", "*big*", "~news~")


def test_neutral_spans_become_mrkdwn_and_only_safe_things_become_syntax() -> None:
    text = Text(
        "Step ",
        bold("1 of *4*"),
        " on ",
        italic("your_pathway"),
        ": ",
        code("a`b <c>"),
        " ",
        link("https://x.example/a b", "open <it>"),
        " ",
        link("javascript:alert(1)", "not a link"),
        " by ",
        mention("U0SAM", "sam"),
        " and ",
        mention("<!channel>", "everyone"),
    )
    assert mrkdwn.render(text) == (
        "Step *1 of 4* on _yourpathway_: `aˋb &lt;c&gt;` <https://x.example/a%20b|open &lt;it&gt;> "
        "not a link by <@U0SAM> and everyone"
    )
    assert mrkdwn.render(Text(bold(" spaced "), "x")) == " *spaced* x"  # Slack ignores `* spaced*`
    assert mrkdwn.render("plain *str* & <b>") == "plain ∗str∗ &amp; &lt;b&gt;"
    assert mrkdwn.render("snake_case stays, _edges_ do not") == "snake_case stays, ＿edges＿ do not"


def test_one_neutral_reply_with_injection_attempts_on_slack_and_on_the_console() -> None:
    reply = Reply(
        text=Text("You asked about ", bold("*bold* <!here>"), ". ", link("https://ok.example", "<@U0BOSS>")),
        quote=TYPED,
        card=CARD,
        buttons=(Button("<!channel>", "rate", "<@U0BOSS>"),),
    )
    blocks = kit.reply_blocks(reply)
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    mrkdwn_texts = json.dumps([b for b in blocks if b["type"] in ("section", "context")])
    for dangerous in DANGEROUS:
        assert dangerous not in mrkdwn_texts, dangerous
        assert dangerous not in kit.fallback_text(reply), dangerous
    shown = texts(blocks)
    assert "You asked about *bold &lt;!here&gt;*. <https://ok.example|&lt;@U0BOSS&gt;>" in shown
    assert (
        "> &lt;!channel&gt; read &lt;http://evil.example|click&gt; ∗bold∗ ＿now＿ &lt;@U0BOSS&gt; &amp; co"
        in shown
    )
    assert (
        "Ping &lt;!channel&gt; and &lt;@U0BOSS&gt;: &lt;http://evil.example|click&gt; for ∗bold∗ ∼news∼"
        in shown
    )
    assert "*Why it matters:* &lt;#C0ALL&gt; pillar — ∗big∗" in shown
    assert "<https://learn.example.com/x?a=1&amp;b=%3C2%3E|Open the lesson>" in shown
    header = blocks[2]  # text, quote, then the card's header: plain_text, which Slack never parses
    assert header["text"] == {"type": "plain_text", "text": CARD.title, "emoji": True}

    from bot.adapters.console import render_reply

    console = "\n".join(render_reply(reply))
    assert "You asked about *bold* <!here>." in console  # plain text: the span's words, as written
    assert TYPED in console  # what people typed, as typed: a terminal pings nobody
    assert CARD.title in console and CARD.summary in console
    assert "&lt;" not in console and "&amp;" not in console  # no Slack escaping on a terminal


def test_slack_mentions_and_channels_become_neutral_fields() -> None:
    parsed = parse("<@UBOT> enrol <@U0SAM|sam> in feedback-culture", bot_user_id="UBOT")
    assert parsed.text == "enrol @sam in feedback-culture"
    assert parsed.mentions == (Mention("U0SAM", "sam"),)

    names = {"U0LEE": "Lee"}.get
    parsed = parse(
        "tell <@U0LEE> and <@U0KIM> in <#C0GEN|general> and <#C0X|> &lt;b&gt; &amp; <!here>", names=names
    )
    assert parsed.text == "tell @Lee and @U0KIM in #general and #C0X <b> & @here"
    assert parsed.mentions == (Mention("U0LEE", "Lee"), Mention("U0KIM", "U0KIM"))
    assert parsed.channels == (ChannelMention("C0GEN", "general"), ChannelMention("C0X", "C0X"))

    link_text = parse(
        "see <https://a.example/x|the guide> or <https://b.example> <mailto:a@b.example|a@b.example>"
    )
    assert link_text.text == "see the guide (https://a.example/x) or https://b.example a@b.example"
    assert parse("<@UBOT|learnbot>  how do I   x", drop_first_mention=True).text == "how do I x"


def _form(**values: object) -> dict:
    state = {
        "lb_c_pathway": {"pathway": {"selected_option": {"value": "feedback-culture"}}},
        "lb_c_channels": {"channels": {"selected_conversations": ["C0GENERAL", "C0SALES"]}},
        "lb_c_message": {"message": {"value": "Feedback week\nstarts <!channel>"}},
        "lb_c_at": {"at": {"selected_date_time": None}},
        "lb_c_cron": {"cron": {"value": None}},
        "lb_c_tz": {"tz": {"value": "Europe/Paris"}},
    }
    for block, value in values.items():
        action = next(iter(state[block]))
        key = next(iter(state[block][action]))
        state[block] = {action: {key: value}}
    return {"state": {"values": state}, "private_metadata": json.dumps({"zone": "Europe/London"})}


def test_the_campaign_form_becomes_an_announcement_or_errors_by_field() -> None:
    now = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC).timestamp()
    once = int(dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC).timestamp())
    announcement, errors = forms.announcement(_form(lb_c_at=once), now=now)
    assert errors == {} and announcement is not None
    assert announcement.pathway_id == "feedback-culture"
    assert announcement.channels == (
        ChannelMention("C0GENERAL", "C0GENERAL"),
        ChannelMention("C0SALES", "C0SALES"),
    )
    assert announcement.message == "Feedback week\nstarts <!channel>"  # as typed; escaped when posted
    assert (announcement.at, announcement.timezone, announcement.cron) == (
        dt.datetime(2026, 12, 1, 9, 0),  # 08:00 UTC is 09:00 in Paris: a local time in its zone
        "Europe/Paris",
        None,
    )
    weekly, _ = forms.announcement(_form(lb_c_cron="0 9 * * mon", lb_c_tz=None), now=now)
    assert weekly is not None and (weekly.cron, weekly.timezone, weekly.at) == (
        "0 9 * * mon",
        "Europe/London",
        None,
    )

    bad = _form(lb_c_channels=[], lb_c_cron="every monday", lb_c_tz="Mars/Olympus", lb_c_message=" ")
    assert forms.announcement(bad, now=now) == (
        None,
        {
            "lb_c_channels": "Pick at least one channel.",
            "lb_c_message": "Write what the announcement should say.",
            "lb_c_tz": "Use a time zone name like Europe/London.",
            "lb_c_cron": "A cron has five fields like 0 9 * * mon, without quotes.",
        },
    )
    _, errors = forms.announcement(_form(lb_c_at=once, lb_c_cron="0 9 * * mon"), now=now)
    assert errors == {"lb_c_cron": "Give either a time to post once or a schedule, not both."}
    _, errors = forms.announcement(_form(lb_c_at=int(now) - 60), now=now)
    assert errors == {"lb_c_at": "That time has already passed; leave it empty to post now."}
