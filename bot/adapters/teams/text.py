"""Neutral text (`bot.markup`) as Teams markdown: every span escaped, people as `<at>` mentions.

Teams renders a subset of markdown in messages and Adaptive Card TextBlocks. What users and
lessons wrote never becomes markdown or a mention: emphasis, code and link characters are
backslash-escaped, so are `<` and `>` (no `<at>` of our text's making) and list or heading
markers at the start of a line, and `{{` is broken up (Adaptive Card text functions such as
`{{DATE(…)}}`). Links are http(s) only. A person is a
mention (`<at>name</at>` plus an entity) only for a Teams id (`29:…`) or an Entra object id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.markup import Span, spans_of

_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")
_LINE_START = re.compile(r"^(\s*)([-+#]|\d+(?=\.))", re.MULTILINE)
_URL = re.compile(r"^https?://[^\s<>()\[\]]+$", re.IGNORECASE)
_TEAMS_ID = re.compile(r"^(29:[\w\-.:]{1,300}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$")


def escape(text: str) -> str:
    """Text shown as typed: markdown characters backslash-escaped, no `<at>`, no `{{…}}` functions."""
    escaped = _SPECIAL.sub(r"\\\1", text.replace("\r", "")).replace("{{", "{\u200b{")
    return _LINE_START.sub(_line_start, escaped)


def _line_start(match: re.Match[str]) -> str:
    """`- item`, `# title` → `\\- item`, `\\# title`; `1. one` → `1\\. one` (no list, no heading)."""
    lead, marker = match.group(1), match.group(2)
    return f"{lead}{marker}\\" if marker[0].isdigit() else f"{lead}\\{marker}"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for `[label](url)`, or None."""
    return url if url and len(url) <= 2000 and _URL.match(url) else None


def is_person_id(value: str | None) -> bool:
    return bool(value and _TEAMS_ID.match(value))


@dataclass
class Rendered:
    """Markdown text and the mention entities Teams needs for the `<at>` tags in it."""

    text: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)


def _styled(text: str, bold: bool, italic: bool) -> str:
    inner = escape(text)
    stripped = inner.strip()
    if not stripped or not (bold or italic):
        return inner
    markers = ("**" if bold else "") + ("_" if italic else "")
    head, tail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
    return f"{head}{markers}{stripped}{markers[::-1]}{tail}"


def span(part: Span, entities: list[dict[str, Any]]) -> str:
    """One span as Teams markdown; a mention adds its entity to `entities`."""
    if part.person is not None:
        name = part.text or "someone"
        if not is_person_id(part.person):
            return escape(name)
        tag = f"<at>{escape(name)}</at>"
        entities.append({"type": "mention", "text": tag, "mentioned": {"id": part.person, "name": name}})
        return tag
    if part.url is not None and safe_url(part.url):
        label = f"[{escape(part.text)}]({part.url})"
        return f"**{label}**" if part.bold else label
    if part.code:
        return "`" + part.text.replace("`", "\u02cb").replace("\n", " ") + "`"
    return _styled(part.text, part.bold, part.italic)


def render(value: str | None) -> Rendered:
    """Reply text (`bot.markup.Text` or a plain `str`) as Teams markdown, every span escaped."""
    out = Rendered()
    out.text = "".join(span(part, out.entities) for part in spans_of(value))
    return out


def markdown(value: str | None) -> str:
    """Just the markdown (mentions become `<at>` tags; use `render` to get their entities)."""
    return render(value).text
