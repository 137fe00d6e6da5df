"""Neutral text (`bot.markup`) as Slack mrkdwn: every span escaped, styles as Slack writes them.

What users and lessons wrote never becomes Slack syntax: `&`, `<`, `>` become entities (so no
`<!channel>`, `<@U…>` or disguised link), and in plain text the characters that would start
bold, italic, strike or code (`*`, `_` at a word edge, `~`, backtick) are swapped for look-alikes
(Slack has no escape for them). Links are http(s) only; a person is `<@U…>` only for a real user id.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.markup import Span, spans_of

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LOOKALIKE = str.maketrans({"*": "\u2217", "~": "\u223c", "`": "\u02cb"})


def escape(text: str) -> str:
    """Slack's three control characters as entities: what was typed shows as typed and does nothing."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inert(text: str) -> str:
    """Escaped, and with formatting characters swapped for look-alikes, so `*bold*` shows as typed."""
    return _EDGE_UNDERSCORE.sub("\uff3f", escape(text).translate(_LOOKALIKE))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut with '…' and never inside an `&amp;`-style entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for `<url|label>`: characters that would end the link are percent-encoded."""
    if not url or not re.match(r"^https?://", url, re.IGNORECASE) or len(url) > 2000:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._").replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """`<url|label>` with the label escaped; just the label when the URL is not a safe http(s) one."""
    target = safe_url(url)
    return f"<{target}|{escape(label)}>" if target else inert(label)


def is_user_id(value: str | None) -> bool:
    return bool(value and _USER_ID.match(value))


def mention(user_id: str | None, fallback: str | None = None) -> str:
    """`<@U123>` for a real Slack user id; anything else is shown as inert text."""
    if user_id and is_user_id(user_id):
        return f"<@{user_id}>"
    return inert(fallback or user_id or "someone")


def _styled(text: str, markers: str) -> str:
    """`*text*`, `_text_`, `*_text_*` or `` `text` ``: markers dropped inside, spaces kept outside."""
    if markers == "`":
        inner = escape(text).replace("`", "\u02cb")  # inside code nothing else is formatting
    else:
        inner = inert("".join(char for char in text if char not in markers))
    stripped = inner.strip()
    if not stripped:
        return inner
    head, tail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
    return f"{head}{markers}{stripped}{markers[::-1]}{tail}"


def span(part: Span) -> str:
    """One span as mrkdwn."""
    if part.person is not None:
        return mention(part.person, part.text)
    if part.url is not None:
        label = link(part.url, part.text)
        return f"*{label}*" if part.bold and label.startswith("<") else label
    if part.code:
        return _styled(part.text, "`")
    markers = ("*" if part.bold else "") + ("_" if part.italic else "")
    return _styled(part.text, markers) if markers else inert(part.text)


def render(value: str | None) -> str:
    """Reply text (`bot.markup.Text` or plain `str`) as mrkdwn, every span escaped."""
    return "".join(span(part) for part in spans_of(value))


def plain(value: str | None) -> str:
    """The text alone (no styles), escaped: for notifications and screen readers."""
    return escape(str(value or ""))
