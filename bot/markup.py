"""Neutral rich text: what handlers and nudges write, and every adapter renders in its own syntax.

A `Text` is a `str` (its plain reading, so `"done" in reply.text` works) that also keeps
`spans`: runs of text that are plain, bold, italic, code, a link, or a mention of a person.
Nothing here is markup to parse: text from users and lessons goes into spans as it is, and
each adapter escapes it for its platform (Slack mrkdwn, Teams card text, console plain text),
so nobody can smuggle a `<!channel>` or a disguised link through a lesson title or a question.
Line breaks are newlines; a list is lines that start with "• ".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Span:
    """A run of text with one style; `url` makes it a link, `person` a mention (a platform user id)."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    url: str | None = None
    person: str | None = None


Part = str | Span


class Text(str):
    """Rich text that reads as plain text; join parts with `Text(a, b, …)` or `+`."""

    spans: tuple[Span, ...]

    def __new__(cls, *parts: Part) -> Text:
        spans = tuple(_spans(parts))
        self = super().__new__(cls, "".join(span.text for span in spans))
        self.spans = spans
        return self

    def __add__(self, other: object) -> Text:  # type: ignore[override]
        if not isinstance(other, str | Span):
            return NotImplemented
        return Text(self, other)

    def __radd__(self, other: object) -> Text:
        if not isinstance(other, str | Span):
            return NotImplemented
        return Text(other, self)

    def __reduce__(self) -> Any:
        return (Text, tuple(self.spans))


def _spans(parts: Iterable[Part]) -> Iterable[Span]:
    for part in parts:
        if isinstance(part, Text):
            yield from part.spans
        elif isinstance(part, Span):
            if part.text:
                yield part
        elif part:
            yield Span(str(part))


def spans_of(value: str | None) -> tuple[Span, ...]:
    """The spans of any reply text: a plain `str` is one plain span."""
    if not value:
        return ()
    return value.spans if isinstance(value, Text) else (Span(value),)


def bold(text: str) -> Span:
    return Span(str(text), bold=True)


def italic(text: str) -> Span:
    return Span(str(text), italic=True)


def code(text: str) -> Span:
    return Span(str(text), code=True)


def link(url: str | None, label: str) -> Span:
    """A link; without a URL it is just the label."""
    return Span(str(label), url=url or None)


def mention(person: str, name: str | None = None) -> Span:
    """A mention of a person by their user id on the platform the reply goes to; `name` is the fallback."""
    return Span(name or person, person=person)


def bullets(lines: Iterable[Part | Text]) -> Text:
    """A list: one '• ' line per item."""
    out: list[Part] = []
    for number, line in enumerate(lines):
        out += (["\n"] if number else []) + ["• ", line]
    return Text(*out)


def to_json(value: str | None) -> list[dict[str, Any]] | str | None:
    """Reply text for the outbox payload: spans as dicts (a plain `str` stays a string)."""
    if value is None or not isinstance(value, Text):
        return value
    return [{k: v for k in _FIELDS if (v := getattr(span, k)) not in (None, False)} for span in value.spans]


def from_json(value: Any) -> str:
    """The text stored by `to_json`."""
    if isinstance(value, list):
        return Text(*(Span(**_known(item)) for item in value if isinstance(item, Mapping)))
    return str(value or "")


_FIELDS = tuple(field.name for field in fields(Span))


def _known(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in _FIELDS if key in item}
