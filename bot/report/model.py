"""What a report is, before it is drawn: tables of typed columns, each saying what it measures.

The same `Table` becomes a CSV file (raw values: rates as fractions, days as decimals) and an
HTML section (rates as percentages), so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["text", "int", "rate", "number", "date"]


@dataclass(frozen=True)
class Column:
    """One column: its CSV name, its label on the page, and how its values are shown."""

    key: str
    label: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Chart:
    """How to draw a table: bars (one series per y column) over the x column's values."""

    x: str
    y: tuple[str, ...]
    title: str
    ylabel: str
    horizontal: bool = False
    percent: bool = False  # the y values are rates: draw 0-100%
    exclude: tuple[str, ...] = ()  # x values left out of the chart (e.g. a "total" row)
    limit: int = 0  # draw only the first rows (0: all)


@dataclass
class Table:
    """One table of the report: a CSV file `name`.csv and a section of the page.

    `measures` says what is counted and over which period. `missing` says why there is no data yet
    (the module that computes it has not landed, or nothing happened in the period).
    """

    name: str
    title: str
    measures: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    chart: Chart | None = None
    missing: str | None = None
    notes: tuple[str, ...] = ()

    def column(self, key: str) -> list[Any]:
        at = [c.key for c in self.columns].index(key)
        return [row[at] for row in self.rows]


@dataclass
class Report:
    """The whole report: its period, the headline figures and every table, in page order."""

    organisation: str
    since: dt.datetime
    until: dt.datetime
    generated_at: dt.datetime
    headline: Table
    tables: list[Table]

    @property
    def period(self) -> str:
        last = self.until - dt.timedelta(seconds=1)
        return f"{self.since:%d %b %Y} – {last:%d %b %Y} ({(self.until - self.since).days} days)"
