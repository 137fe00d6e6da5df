"""A `Report` written to a folder: one self-contained HTML page (Jinja2, inline SVG) and one CSV per table.

The page has no external assets (no fonts, scripts or images to fetch), so it opens offline and
can be mailed as one file; its CSS reflows tables and charts for a phone.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.report.charts import chart_svg
from bot.report.model import Report, Table

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTML_NAME = "report.html"


@dataclass(frozen=True)
class Written:
    """Where the report went: the page and every CSV."""

    html: Path
    csvs: dict[str, Path]
    headline: tuple[tuple[str, str], ...] = ()  # (metric, value as the page shows it)


def show(value: Any, kind: str) -> str:
    """A value as the page shows it: rates as percentages, numbers to one decimal, dashes for none."""
    if value is None or value == "":
        return "–"
    if kind in ("rate", "fraction"):
        return f"{100 * value:.0f}%"
    if kind in ("number", "days") and isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, dt.date):  # a day is enough on the page; the CSV keeps the time
        return value.strftime("%Y-%m-%d")
    return str(value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


def raw(value: Any) -> Any:
    """A value as the CSV holds it: fractions and decimals to four places, empty for none; text that a
    spreadsheet would take for a formula (a question typed as "=HYPERLINK(…)") is kept as text."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_csv(table: Table, folder: Path) -> Path:
    path = folder / f"{table.name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.key for c in table.columns])
        writer.writerows([raw(v) for v in row] for row in table.rows)
    return path


def render_html(report: Report) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, trim_blocks=True
    )
    env.filters["show"] = show
    charts = {t.name: chart_svg(t) for t in report.tables if not t.missing}
    return env.get_template("report.html.j2").render(report=report, charts=charts)


def write_report(report: Report, folder: Path) -> Written:
    """Write the page and the CSVs into `folder` (created if needed), replacing an earlier report there."""
    folder.mkdir(parents=True, exist_ok=True)
    csvs = {t.name: write_csv(t, folder) for t in [report.headline, *report.tables]}
    html = folder / HTML_NAME
    html.write_text(render_html(report), encoding="utf-8")
    headline = tuple((metric, show(value, unit)) for metric, value, unit in report.headline.rows)
    return Written(html, csvs, headline)
