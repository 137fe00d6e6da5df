"""What people typed in Slack, as neutral text: mentions and channels become `@label` / `#label` fields.

Slack sends `<@U123|sam>` or `<@U123>` for a person, `<#C123|general>` for a channel, `<!here>`
for a broadcast, `<https://…|label>` for a link, and `&`, `<`, `>` typed by people as entities.
`parse` turns all of it into plain text plus `Mention` and `ChannelMention` fields; learnbot's
own mention is dropped. Only this adapter reads Slack syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.events import ChannelMention, Mention

_TOKEN = re.compile(r"<([^<>]*)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


@dataclass(frozen=True)
class Parsed:
    """A message's plain text and the people and channels it names."""

    text: str
    mentions: tuple[Mention, ...] = ()
    channels: tuple[ChannelMention, ...] = ()


def unescape(text: str) -> str:
    """Slack sends `&`, `<`, `>` as entities: turn them back before search and storage."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _no_name(user_id: str) -> str | None:
    return None


def parse(
    text: str,
    *,
    bot_user_id: str | None = None,
    drop_first_mention: bool = False,
    names: Callable[[str], str | None] = _no_name,
) -> Parsed:
    """Slack message text as neutral text; `names` gives a display name for `<@U…>` without one.

    `drop_first_mention` drops a leading mention when learnbot's own id is unknown (an app_mention).
    """
    mentions: list[Mention] = []
    channels: list[ChannelMention] = []
    out: list[str] = []
    dropped = False
    last = 0
    for token in _TOKEN.finditer(text):
        out.append(unescape(text[last : token.start()]))
        last = token.end()
        body = token.group(1)
        target, _, label = body.partition("|")
        label = unescape(label)
        if target.startswith("@"):
            user = target[1:]
            own = user == bot_user_id if bot_user_id else drop_first_mention and not (dropped or mentions)
            if own:
                dropped = True
                continue
            label = label.lstrip("@") or names(user) or user
            mentions.append(Mention(user, label))
            out.append(f"@{label}")
        elif target.startswith("#"):
            channel = target[1:]
            label = label.lstrip("#") or channel
            channels.append(ChannelMention(channel, label))
            out.append(f"#{label}")
        elif target.startswith("!"):
            name = target[1:].split("^", 1)[0]
            out.append(label or _SPECIAL.get(name, f"@{name}"))
        else:
            url = unescape(target)
            out.append(
                label
                if label and (url.startswith("mailto:") or label == url)
                else f"{label} ({url})"
                if label
                else url
            )
    out.append(unescape(text[last:]))
    plain = "".join(out)
    if dropped:
        plain = re.sub(r"[ \t]{2,}", " ", plain)
    return Parsed(plain.strip(), tuple(mentions), tuple(channels))


def mentions_bot(text: str, bot_user_id: str | None) -> bool:
    """Whether the raw Slack text @mentions learnbot (such messages arrive as an app_mention too)."""
    return bool(bot_user_id) and f"<@{bot_user_id}" in text
