"""The 'Save as micro-lesson' dialog: an Adaptive Card form prefilled from a Teams message, read back
as a neutral `LessonDraft`.

Teams sends the message (`messagePayload`) with the `composeExtension/fetchTask` invoke; its body is
HTML, read here as plain text (tags dropped by a parser, never by pattern; scripts and styles with
their content). Title is its first line, summary its text; the expert picks a pillar and may add an
impact tag, skills and audience. The link back (`linkToMessage`) and where the message was ride in
the Save button's data, since Teams sends only the form's values with the submission. A bad
submission comes back as the same form, with what was typed and the errors beside their fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from bot.adapters.teams.cards import SCHEMA, VERSION, attachment, clip
from bot.adapters.teams.text import escape, safe_url
from bot.events import LessonDraft

COMMAND = "saveLesson"  # the message extension's action command id (teams/manifest.json)
SUBMIT = "save_lesson"  # the Save button's `lb` in its data
DIALOG_TITLE = "Save as micro-lesson"
TITLE_MAX = 200
SUMMARY_MAX = 3000
SHORT_MAX = 200  # impact, skills, audience
FIRST_LINE = 150
WHOLE_FORM = "form"  # an error about the whole submission, shown above the fields
FIELDS = ("title", "summary", "pillar", "impact", "skills", "audience")
_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
_HIDDEN = {"script", "style", "template", "head", "title"}

Errors = dict[str, str]
Values = dict[str, str]


class _PlainText(HTMLParser):
    """HTML → the words a reader sees: block elements break lines, mentions read `@name`, emoji images
    their alt text; hidden elements say nothing. Entities are decoded by the parser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "at" and not self._hidden:
            self.parts.append("@")
        elif tag == "img" and not self._hidden:
            found = dict(attrs)
            if "emoji" in (found.get("itemtype") or "").lower() and found.get("alt"):
                self.parts.append(str(found["alt"]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # `<br/>` is one line break, not two

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def plain_text(body: dict[str, Any] | None) -> str:
    """A message body (`{contentType: html|text, content}`) as plain text, one line per line."""
    body = body if isinstance(body, dict) else {}
    content = str(body.get("content") or "")
    if str(body.get("contentType") or "html").lower() == "html":
        parser = _PlainText()
        parser.feed(content)
        parser.close()
        content = "".join(parser.parts)
    lines = (" ".join(line.split()) for line in content.replace("\r", "").split("\n"))
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def prefill(text: str) -> Values:
    """The form's starting values from a message: its first line (cut at a word) and its whole text."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > FIRST_LINE:
        first = first[:FIRST_LINE].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return {"title": first, "summary": text[:SUMMARY_MAX]}


@dataclass(frozen=True)
class Where:
    """The original message: its link, conversation and id (carried through the dialog)."""

    link: str | None = None
    conversation: str | None = None
    message: str | None = None

    def data(self) -> dict[str, str]:
        found = {"link": self.link, "conversation": self.conversation, "message": self.message}
        return {key: value for key, value in found.items() if value}


def _str(value: Any, limit: int = 2000) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def where_from(payload: dict[str, Any] | None, conversation: str | None, carried: Any = None) -> Where:
    """Where the message is: from Teams' `messagePayload` when the invoke has one, else from what the
    form carried; a link is kept only when it is http(s)."""
    payload = payload if isinstance(payload, dict) else {}
    carried = carried if isinstance(carried, dict) else {}
    link = payload.get("linkToMessage") or carried.get("link")
    return Where(
        link=safe_url(link) if isinstance(link, str) else None,
        conversation=_str(conversation, 300) or _str(carried.get("conversation"), 300),
        message=_str(payload.get("id"), 300) or _str(carried.get("message"), 300),
    )


def _label(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True}


def _error(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, "color": "Attention", "size": "Small"}


def form_card(
    values: Values, pillars: list[tuple[str, str]], where: Where, errors: Errors | None = None
) -> dict[str, Any]:
    """The form as an Adaptive Card: the values typed (or prefilled), each error under its field."""
    errors = errors or {}
    known = {pid for pid, _ in pillars}

    def text_input(name: str, label: str, limit: int, **extra: Any) -> dict[str, Any]:
        field = {"type": "Input.Text", "id": name, "label": label, "maxLength": limit, **extra}
        if values.get(name):
            field["value"] = values[name][:limit]
        return field

    pillar = {
        "type": "Input.ChoiceSet",
        "id": "pillar",
        "label": "Strategic pillar it serves",
        "style": "compact",
        "isRequired": True,
        "errorMessage": "Pick the pillar it serves.",
        "placeholder": "Pick a pillar",
        "choices": [{"title": clip(name, 75), "value": pid} for pid, name in pillars[:100]],
    }
    if values.get("pillar") in known:
        pillar["value"] = values["pillar"]
    fields = {
        "title": text_input(
            "title", "Title", TITLE_MAX, isRequired=True, errorMessage="Give the lesson a short title."
        ),
        "summary": text_input(
            "summary",
            "Summary: what someone learns from it",
            SUMMARY_MAX,
            isMultiline=True,
            isRequired=True,
            errorMessage="Say what someone learns from it.",
        ),
        "pillar": pillar,
        "impact": text_input("impact", "Impact: what it changes for the business (optional)", SHORT_MAX),
        "skills": text_input("skills", "Skills, comma-separated (optional)", SHORT_MAX),
        "audience": text_input(
            "audience", "Audience: roles it is for, comma-separated (empty = everyone)", SHORT_MAX
        ),
    }
    body: list[dict[str, Any]] = [
        {**_label("Save this message as a micro-lesson colleagues can find."), "isSubtle": True}
    ]
    if WHOLE_FORM in errors:
        body.append(_error(errors[WHOLE_FORM]))
    elif errors:
        body.append(_error("Nothing was saved yet: please fix what is marked below."))
    for name in FIELDS:
        body.append(fields[name])
        if name in errors:
            body.append(_error(errors[name]))
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "actions": [{"type": "Action.Submit", "title": "Save", "data": {"lb": SUBMIT, **where.data()}}],
    }


def dialog(card: dict[str, Any]) -> dict[str, Any]:
    """An invoke answer that opens (or keeps open) the dialog with this card."""
    info = {"title": DIALOG_TITLE, "width": "medium", "height": "large", "card": attachment(card)}
    return {"task": {"type": "continue", "value": info}}


def message(text: str) -> dict[str, Any]:
    """An invoke answer that shows a short message instead of a form."""
    return {"task": {"type": "message", "value": text}}


def _value(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _words(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def read(
    data: Any, pillars: list[tuple[str, str]], where: Where
) -> tuple[LessonDraft | None, Errors, Values]:
    """A submission as a draft (or the errors by field), and the values as typed, to show them again."""
    data = data if isinstance(data, dict) else {}
    values = {name: _value(data, name) for name in FIELDS}
    title = " ".join(values["title"].split())
    summary = values["summary"].strip()
    pillar = values["pillar"].strip()
    errors: Errors = {}
    if not title:
        errors["title"] = "Give the lesson a short title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title is {len(title)} characters long; keep it to {TITLE_MAX}."
    if not summary:
        errors["summary"] = "Say what someone learns from it."
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = f"The summary is {len(summary)} characters long; keep it to {SUMMARY_MAX}."
    names = dict(pillars)
    if not pillar:
        errors["pillar"] = "Pick the pillar it serves."
    elif pillar not in names:
        errors["pillar"] = (
            f"I don't know the pillar {pillar[:80]!r}. Pick one of: {', '.join(names.values())}."
        )
    for name in ("impact", "skills", "audience"):
        if len(values[name]) > SHORT_MAX:
            errors[name] = f"This is {len(values[name])} characters long; keep it to {SHORT_MAX}."
    if errors:
        return None, errors, values
    draft = LessonDraft(
        title=title,
        summary=summary,
        pillar=pillar,
        impact=" ".join(values["impact"].split()) or None,
        skills=_words(values["skills"]),
        audience=_words(values["audience"]),
        url=where.link,
        channel_id=where.conversation,
        message_id=where.message,
    )
    return draft, {}, values
