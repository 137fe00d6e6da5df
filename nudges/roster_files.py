"""Reading roster files (CSV or YAML) as rows that know their line, and collecting every problem at once.

Both rosters (the org chart and the 1:1s) are checked whole before anything is stored: a bad row
stops the file with a `RosterError` that lists each problem as "file line N: what is wrong".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RosterError(ValueError):
    """A roster file could not be used; nothing was stored. `problems` holds one line each."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = self.problems[:20]
        more = len(self.problems) - len(shown)
        lines = [f"{self.path} has {len(self.problems)} problem(s); nothing was changed:"]
        lines += [f"  {problem}" for problem in shown]
        if more:
            lines.append(f"  … and {more} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class Row:
    """One roster row: where it is (for messages) and its cells, keys lower-case, values stripped."""

    where: str
    cells: dict[str, str]

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


def read_rows(path: Path, columns: set[str], required: set[str]) -> list[Row]:
    """Every data row of a CSV (header row first) or YAML (a list of mappings) roster file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    rows = _yaml_rows(path, text) if path.suffix.lower() in (".yaml", ".yml") else _csv_rows(path, text)
    problems: list[str] = []
    if rows:
        unknown = sorted({key for row in rows for key in row.cells} - columns)
        if unknown:
            problems.append(
                f"{path.name}: unknown column(s) {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(sorted(columns))})"
            )
    for row in rows:
        for key in sorted(required):
            if not row.get(key):
                problems.append(f"{row.where}: {key} is missing")
    if problems:
        raise RosterError(path, problems)
    return rows


def _csv_rows(path: Path, text: str) -> list[Row]:
    reader = csv.reader(text.splitlines())
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        return []
    except csv.Error as exc:
        raise RosterError(path, [f"{path.name} line 1: not valid CSV ({exc})"]) from None
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(values) > len(header):
                raise RosterError(
                    path, [f"{path.name} line {line}: {len(values)} cells but the header has {len(header)}"]
                )
            cells = {key: value.strip() for key, value in zip(header, values, strict=False) if key}
            rows.append(Row(f"{path.name} line {line}", cells))
    except csv.Error as exc:
        raise RosterError(path, [f"{path.name} line {reader.line_num}: not valid CSV ({exc})"]) from None
    return rows


def _yaml_rows(path: Path, text: str) -> list[Row]:
    try:
        # BaseLoader keeps every value a string: YAML 1.1 would read 10:30 as a number of minutes
        node = yaml.compose(text, Loader=yaml.BaseLoader)
        data = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only str/list/dict
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise RosterError(
            path, [f"{path.name} {where}: not valid YAML ({getattr(exc, 'problem', exc)})"]
        ) from None
    if data is None or data == "":
        return []
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        data = next(iter(data.values()))  # `people: [...]` or `one_on_ones: [...]`
        assert isinstance(node, yaml.MappingNode)
        node = node.value[0][1]
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise RosterError(path, [f"{path.name}: expected a list of entries (one mapping per person or 1:1)"])
    rows = []
    for item, item_node in zip(data, node.value, strict=True):
        where = f"{path.name} line {item_node.start_mark.line + 1}"
        if not isinstance(item, dict):
            raise RosterError(path, [f"{where}: expected a mapping like 'email: sam@example.com'"])
        cells = {str(k).strip().lower(): "" if v is None else str(v).strip() for k, v in item.items()}
        rows.append(Row(where, cells))
    return rows


def email_problem(value: str) -> str | None:
    if not _EMAIL.match(value):
        return f"{value!r} is not an email address"
    return None


def zone_problem(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (use an IANA name like 'Europe/London')"
    return None
