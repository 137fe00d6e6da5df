"""Read an LMS catalogue export (CSV) into course items, one row per course.

LMS exports name their columns their own way ("Course Title", "Duration (min)"), so a
`columns` mapping says which header holds which of our fields. A bad row becomes a
`SourceProblem` with its line number and the other rows are still read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

from content_index.sources.base import (
    KNOWN_FIELDS,
    ItemError,
    ScanResult,
    SourceItem,
    SourceProblem,
    item_from_metadata,
    relative,
    slugify,
)

DELIMITERS = (",", ";", "\t")
BODY_FIELDS = ("body", "description")
MAPPABLE_FIELDS = (*KNOWN_FIELDS, *BODY_FIELDS)


class CatalogueError(Exception):
    """The whole file cannot be read (no items at all); becomes one problem for the file."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def read_csv_catalogue(
    path: Path,
    *,
    source: str,
    columns: Mapping[str, str] | None = None,
    list_separator: str = ";",
) -> ScanResult:
    """Read every row of the catalogue at `path` as a `kind="course"` item, collecting problems."""
    where = relative(path, path)
    try:
        text = _read_text(path)
        rows = _parse_rows(text)
        _, header = next(rows, (1, []))
        if not any(cell.strip() for cell in header):
            raise CatalogueError("the file is empty: expected a header row and one row per course")
        positions = _column_positions(header, columns or {})
    except CatalogueError as exc:
        return ScanResult(problems=[SourceProblem(where, str(exc), line=exc.line)])
    result = ScanResult()
    seen: dict[str, int] = {}
    try:
        for line, row in rows:
            item = _read_row(
                row, line, positions, len(header), where=where, source=source, sep=list_separator
            )
            if isinstance(item, SourceProblem):
                result.problems.append(item)
            else:
                _add_unique(result, item, line, seen, where)
    except CatalogueError as exc:  # broken quoting: the rows before it are still good
        result.problems.append(SourceProblem(where, str(exc), line=exc.line))
    return result


def _read_text(path: Path) -> str:
    """The file as text: UTF-8 with or without a byte-order mark, as LMS and Excel export it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogueError(
            "the file is not UTF-8 text; export the catalogue as 'CSV UTF-8'", line=line
        ) from None


def _sniff_delimiter(header_text: str) -> str:
    """Pick the delimiter that splits the header into the most columns (comma when in doubt)."""
    best, best_count = ",", 1
    for delimiter in DELIMITERS:
        count = max((len(row) for row in csv.reader([header_text], delimiter=delimiter)), default=0)
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _parse_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line where the row starts, cells); quoted values may span lines, blank lines are skipped.

    Strict quoting, so an unclosed quote is reported instead of swallowing the rows after it.
    """
    if "\0" in text:
        raise CatalogueError("the file is not CSV text (it contains NUL bytes)")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line), strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = f"cannot read the CSV from this row on ({exc}); is a quote missing or misplaced?"
            raise CatalogueError(message, line=start) from None
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _column_positions(header: list[str], columns: Mapping[str, str]) -> dict[str, int]:
    """Map each of our fields to its column index, from `columns` or a same-named header."""
    unknown = sorted(set(columns) - set(MAPPABLE_FIELDS))
    if unknown:
        raise CatalogueError(
            f"the column mapping names unknown field(s) {', '.join(unknown)}; "
            f"known fields are {', '.join(MAPPABLE_FIELDS)}"
        )
    by_name: dict[str, int] = {}
    for index, name in enumerate(header):
        by_name.setdefault(name.strip().casefold(), index)
    missing = [
        f"'{header_name}' (for {field})"
        for field, header_name in columns.items()
        if header_name.strip().casefold() not in by_name
    ]
    if missing:
        headers = ", ".join(f"'{name.strip()}'" for name in header if name.strip())
        raise CatalogueError(
            f"mapped column {' and '.join(missing)} is not in the header; the headers are: {headers}", line=1
        )
    positions = {field: by_name[name.strip().casefold()] for field, name in columns.items()}
    for field in MAPPABLE_FIELDS:
        if field not in positions and field in by_name:
            positions[field] = by_name[field]
    if "title" not in positions:
        raise CatalogueError(
            "no 'title' column; map one in the source's columns setting (e.g. title: Course Title)", line=1
        )
    return positions


def _read_row(
    row: list[str],
    line: int,
    positions: Mapping[str, int],
    width: int,
    *,
    where: str,
    source: str,
    sep: str,
) -> SourceItem | SourceProblem:
    """Build one course item from a row, or the problem that stops it."""
    if any(cell.strip() for cell in row[width:]):
        return SourceProblem(
            where,
            f"row has {len(row)} values but the header has {width} columns; "
            "is a value containing the delimiter missing its quotes?",
            line=line,
        )
    values = {field: row[index].strip() if index < len(row) else "" for field, index in positions.items()}
    body, description = values.pop("body", ""), values.pop("description", "")
    try:
        return item_from_metadata(
            values,
            source=source,
            default_id=slugify(values.get("title", "")),
            body=body or description,
            kind="course",
            location=f"{where}:{line}",
            list_separator=sep,
        )
    except ItemError as exc:
        return SourceProblem(where, str(exc), line=line)


def _add_unique(result: ScanResult, item: SourceItem, line: int, seen: dict[str, int], where: str) -> None:
    """Keep the first row with an id; a later row with the same id is a problem naming the first."""
    if item.id in seen:
        result.problems.append(
            SourceProblem(
                where, f"duplicate id '{item.id}' (already used on line {seen[item.id]})", line=line
            )
        )
        return
    seen[item.id] = line
    result.items.append(item)
