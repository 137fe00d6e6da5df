"""Teams text and cards from neutral replies: every span escaped, mentions only for real ids, any reply
rendered generically, and the same reading as the console's transcript (the test language)."""

from __future__ import annotations

from bot.adapters.console import ConsoleChat, render_reply
from bot.adapters.teams import cards, text
from bot.adapters.teams.activities import incoming, who
from bot.events import AnswerCard, Button, Incoming, Reply
from bot.markup import Text, bold, code, italic, link, mention
from tests.teams.fake_connector import card_text, readable


def test_user_and_lesson_text_never_becomes_markdown_a_mention_or_a_card_function() -> None:
    typed = "**bold** _x_ [click](http://evil.example) <at>everyone</at> {{DATE(2026-01-01T00:00:00Z)}} `c`"
    rendered = text.render(Text(typed))
    assert rendered.entities == []
    assert readable(rendered.text) == typed.replace("{{", "{{")  # reads exactly as typed
    assert "<at>" not in rendered.text and "{{" not in rendered.text and "[click](" not in rendered.text
    assert text.markdown("- not a list\n1. not a list either\n# not a heading") == (
        "\\- not a list\n1\\. not a list either\n\\# not a heading"
    )


def test_styles_links_and_mentions_render_as_teams_writes_them() -> None:
    rendered = text.render(
        Text(
            bold("Feedback *week*"),
            " ",
            italic("now"),
            " ",
            code("a`b"),
            " ",
            link("https://learn.example.com/x", "the lesson"),
            " ",
            link("javascript:alert(1)", "bad link"),
            " by ",
            mention("00000000-0000-4000-8000-00000000a001", "Ana"),
            " and ",
            mention("<!channel>", "everyone"),
        )
    )
    assert rendered.text == (
        "**Feedback \\*week\\*** _now_ `a\u02cbb` [the lesson](https://learn.example.com/x) bad link "
        "by <at>Ana</at> and everyone"
    )
    assert rendered.entities == [
        {
            "type": "mention",
            "text": "<at>Ana</at>",
            "mentioned": {"id": "00000000-0000-4000-8000-00000000a001", "name": "Ana"},
        }
    ]


def test_any_reply_renders_generically_so_new_buttons_need_no_teams_code() -> None:
    reply = Reply(
        text="Your 1:1 with Sam is tomorrow.",
        buttons=(
            Button("Discussed it", "one_on_one_discussed", "m-7", style="primary"),
            Button("Not this time", "one_on_one_not_this_time", "m-7", style="danger"),
        ),
    )
    card = cards.reply_card(reply)
    assert [(a["title"], a["verb"], a["data"]["value"], a.get("style")) for a in card["actions"]] == [
        ("Discussed it", "lb:one_on_one_discussed", "m-7", "positive"),
        ("Not this time", "lb:one_on_one_not_this_time", "m-7", "destructive"),
    ]
    assert cards.kept(card["actions"][0]["data"]["keep"]).text == reply.text
    assert cards.needs_card(Reply(text="just words")) is False


def test_the_teams_card_reads_like_the_console_transcript(chat: ConsoleChat) -> None:
    said = Incoming(
        platform="console", user_id="console-learner", text="how do I give feedback to a peer", channel_id="d"
    )
    [reply] = chat.router.on_message(said)
    console = render_reply(reply)
    teams = readable(card_text(cards.reply_card(reply))).splitlines()
    assert teams[0] == console[0].split("  · ")[0]  # the title
    why = next(line for line in console if line.startswith("Why it matters:"))
    assert why in teams and reply.card.url in console
    assert f"⏱ {reply.card.duration_minutes} min · [Open the lesson]({reply.card.url})" in teams
    assert console[-1] == "   ".join(
        f"[{n}] {b}" for n, b in enumerate(["Helpful", "Not helpful", "Rate", "Add to my pathway"], 1)
    )
    assert [a["title"] for a in cards.reply_card(reply)["actions"]] == [
        "Helpful",
        "Not helpful",
        "Rate",
        "Add to my pathway",
    ]


def test_a_curated_lesson_says_who_curated_it_on_teams_too() -> None:
    card = AnswerCard("c1", "VPN on a new laptop", "Install the client.", curated_by="Maria", validated_by=4)
    assert "Curated by Maria · validated by 4 colleagues" in card_text(cards.reply_card(Reply(card=card)))


def test_a_group_chat_mention_names_other_people_and_drops_learnbots_own() -> None:
    activity = {
        "type": "message",
        "id": "1",
        "text": "<at>learnbot</at> what should <at>Ola Other</at> read about feedback?",
        "from": {"id": "29:a", "aadObjectId": "aad-a", "name": "Ana"},
        "recipient": {"id": "28:bot", "name": "learnbot"},
        "conversation": {"id": "19:group@thread.v2", "conversationType": "groupChat", "tenantId": "t"},
        "entities": [
            {
                "type": "mention",
                "text": "<at>learnbot</at>",
                "mentioned": {"id": "28:bot", "name": "learnbot"},
            },
            {
                "type": "mention",
                "text": "<at>Ola Other</at>",
                "mentioned": {"id": "29:b", "aadObjectId": "aad-b"},
            },
        ],
    }
    said = incoming(activity, who(activity))
    assert said.text == "what should @Ola Other read about feedback?"
    assert [(m.user_id, m.label) for m in said.mentions] == [("aad-b", "Ola Other")]
    assert said.is_direct is False and said.thread_id == "1" and said.reach is None
