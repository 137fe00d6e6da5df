"""What every content source yields: items with one metadata shape, and problems with a place.

Sources read files (Markdown, CSV, SCORM/cmi5 manifests, ...) and never touch storage;
the indexer compares what they yield with what is stored. A broken file becomes a
`SourceProblem` naming its path and line, and the source carries on with the next file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.ids import slugify

KNOWN_FIELDS = (
    "id",
    "title",
    "summary",
    "skills",
    "pillar",
    "impact",
    "audience",
    "duration_minutes",
    "url",
    "reviewed",
)


@dataclass(frozen=True)
class SourceProblem:
    """A file (or one record in it) that could not be read; everything else still is."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class ItemError(ValueError):
    """Raised while building one item; the source turns it into a `SourceProblem`."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class SourceItem:
    """One micro-lesson or catalogue entry, as a source sees it (before storage)."""

    id: str
    title: str
    source: str
    kind: str = "lesson"
    summary: str = ""
    body: str = ""
    skills: list[str] = field(default_factory=list)
    pillar: str | None = None
    impact: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    duration_minutes: int | None = None
    url: str | None = None
    reviewed: dt.date | None = None
    location: str = ""

    @property
    def content_hash(self) -> str:
        """Hash of everything a learner could see; unchanged hash means nothing to re-index."""
        data = asdict(self)
        data.pop("location")
        data["reviewed"] = self.reviewed.isoformat() if self.reviewed else None
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class ScanResult:
    """Everything a source found: the good items and the problems, never one instead of the other."""

    items: list[SourceItem] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    failed_sources: set[str] = field(default_factory=set)

    def extend(self, other: ScanResult) -> None:
        self.items.extend(other.items)
        self.problems.extend(other.problems)
        self.failed_sources |= other.failed_sources


def _as_list(value: Any, name: str, separator: str = ",") -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(separator) if part.strip()]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        out = []
        for part in value:
            if not isinstance(part, (str, int, float)):
                raise ItemError(f"'{name}' must be a list of text values, got {part!r}")
            if str(part).strip():
                out.append(str(part).strip())
        return out
    raise ItemError(f"'{name}' must be text or a list of text values, got {type(value).__name__}")


def _as_duration(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ItemError(f"'duration_minutes' must be a whole number of minutes, got {value!r}")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ItemError(f"'duration_minutes' must be a whole number of minutes, got {value!r}") from None
    if number < 0 or number != int(number):
        raise ItemError(f"'duration_minutes' must be a whole number of minutes, got {value!r}")
    return int(number)


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ItemError(f"'reviewed' must be a date like 2026-03-31, got {value!r}") from None


def _as_text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        raise ItemError(f"'{name}' must be text, got a {type(value).__name__}")
    return str(value).strip()


def item_from_metadata(
    meta: Mapping[str, Any],
    *,
    source: str,
    default_id: str,
    body: str = "",
    kind: str = "lesson",
    location: str = "",
    list_separator: str = ",",
) -> SourceItem:
    """Build an item from loose metadata with the same rules for every source.

    `title` is required; everything else is optional and checked for its type.
    """
    title = _as_text(meta.get("title"), "title")
    if not title:
        raise ItemError("missing required 'title'")
    raw_id = _as_text(meta.get("id"), "id") or default_id
    item_id = slugify(raw_id)
    if not item_id:
        raise ItemError(f"'id' must contain letters or digits, got {raw_id!r}")
    url = _as_text(meta.get("url"), "url") or None
    if url and not re.match(r"^(https?://|mailto:|/)", url):
        raise ItemError(f"'url' must start with http://, https:// or /, got {url!r}")
    return SourceItem(
        id=item_id,
        title=title,
        source=source,
        kind=kind,
        summary=_as_text(meta.get("summary"), "summary"),
        body=body.strip(),
        skills=_as_list(meta.get("skills"), "skills", list_separator),
        pillar=slugify(_as_text(meta.get("pillar"), "pillar")) or None,
        impact=_as_list(meta.get("impact"), "impact", "|"),
        audience=[slugify(a) for a in _as_list(meta.get("audience"), "audience", list_separator)],
        duration_minutes=_as_duration(meta.get("duration_minutes")),
        url=url,
        reviewed=_as_date(meta.get("reviewed")),
        location=location,
    )


def relative(path: Path, root: Path) -> str:
    """Show a path relative to the source root when possible, for short readable problems."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)
