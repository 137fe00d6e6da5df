"""A folder of Markdown micro-lessons, each with YAML front matter (`title` required).

The id is the front matter `id`, else the file name. A file with broken front matter is
reported with its path and line and skipped; the rest of the folder is still read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from content_index.sources.base import (
    ItemError,
    ScanResult,
    SourceItem,
    SourceProblem,
    item_from_metadata,
    relative,
    slugify,
)

_FIELD_RE = re.compile(r"'([a-z_]+)'")
# libyaml's loader is several times faster on big folders; the pure-Python one is the fallback.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter, body, line where the body starts); raise ItemError without one."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ItemError("no front matter: the file must start with a '---' line", line=1)
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise ItemError("front matter is not closed: add a '---' line after it", line=1)


def _line_of(field: str, front_matter: str) -> int | None:
    for number, line in enumerate(front_matter.splitlines(), start=2):
        if line.startswith(f"{field}:"):
            return number
    return None


def read_markdown_file(path: Path, *, source: str, root: Path) -> SourceItem:
    """One lesson from one file; raises ItemError (with a line when known) when it is unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ItemError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    front, body, _ = _split_front_matter(text)
    try:
        meta = yaml.load(front, Loader=_Loader) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        # Where an unclosed bracket or quote began beats where the parser gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ItemError(
            f"front matter is not valid YAML: {problem}", line=mark.line + 2 if mark else 1
        ) from None
    if not isinstance(meta, dict):
        raise ItemError("front matter must be 'key: value' lines", line=2)
    try:
        return item_from_metadata(
            meta,
            source=source,
            default_id=slugify(path.stem),
            body=body,
            location=relative(path, root),
        )
    except ItemError as exc:
        field = _FIELD_RE.search(str(exc))
        line = _line_of(field.group(1), front) if field else None
        raise ItemError(str(exc), line=line or 1) from None


def markdown_files(root: Path) -> list[Path]:
    """Every .md file under the folder, in a stable order, skipping hidden folders."""
    return sorted(p for p in root.rglob("*.md") if not any(part.startswith(".") for part in p.parts))


def read_markdown_folder(
    root: Path,
    *,
    source: str,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
) -> ScanResult:
    """Every lesson in the folder, plus a problem for each file that could not be read."""
    result = ScanResult()
    if not root.is_dir():
        result.problems.append(SourceProblem(str(root), "not a folder"))
        return result
    files = markdown_files(root)
    for path in progress(files) if progress else files:
        try:
            result.items.append(read_markdown_file(path, source=source, root=root))
        except ItemError as exc:
            result.problems.append(SourceProblem(relative(path, root), str(exc), exc.line))
        except OSError as exc:
            result.problems.append(SourceProblem(relative(path, root), f"cannot read: {exc.strerror}"))
    return result
