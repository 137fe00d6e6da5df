"""Charts as inline SVG, drawn with matplotlib's object API (no pyplot, no global backend state).

Text stays text (`svg.fonttype: none`) so the page is small and the browser's font draws it;
ids are salted and the date left out, so the same data gives the same file.
"""

from __future__ import annotations

import io
import re
import textwrap

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.report.model import Table

COLOURS = ("#2b6cb0", "#dd8452", "#55a868", "#8172b3")
LABEL_CHARS = 32
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)


def chart_svg(table: Table) -> str | None:
    """The table's chart as an `<svg>` element, or None when it has no chart or no rows."""
    chart = table.chart
    if chart is None or not table.rows:
        return None
    keep = [
        i
        for i, row in enumerate(table.rows)
        if str(row[_at(table, chart.x)]) not in chart.exclude
        and any(row[_at(table, key)] is not None for key in chart.y)
    ]
    keep = keep[: chart.limit] if chart.limit else keep
    if not keep:
        return None
    labels = [_label(str(table.rows[i][_at(table, chart.x)]), chart.horizontal) for i in keep]
    series = [[float(table.rows[i][_at(table, key)] or 0) for i in keep] for key in chart.y]
    names = {c.key: c.label for c in table.columns}
    height = max(2.4, 0.4 * len(labels) + 1.0) if chart.horizontal else 3.0
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "learnbot", "font.size": 11}):
        figure = Figure(figsize=(5.6, height), layout="constrained")
        axes = figure.add_subplot()
        width = 0.8 / len(series)
        for n, values in enumerate(series):
            offsets = [i - 0.4 + width * (n + 0.5) for i in range(len(labels))]
            draw = axes.barh if chart.horizontal else axes.bar
            bars = draw(offsets, values, width, label=names[chart.y[n]], color=COLOURS[n % len(COLOURS)])
            for i, bar in enumerate(bars):
                bar.set_gid(f"bar-{n}-{i}")  # one named element per bar: findable in the page
        ticks = list(range(len(labels)))
        value_axis = axes.xaxis if chart.horizontal else axes.yaxis
        if chart.horizontal:
            axes.set_yticks(ticks, labels)
            axes.invert_yaxis()
            axes.set_xlabel(chart.ylabel)
        else:
            rotate = len(labels) > 6
            axes.set_xticks(ticks, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center")
            axes.set_ylabel(chart.ylabel)
        if chart.percent:
            (axes.set_xlim if chart.horizontal else axes.set_ylim)(0, 1)
            value_axis.set_major_formatter(PercentFormatter(1.0))
        axes.spines[["top", "right"]].set_visible(False)
        if len(series) > 1:  # above the plot, never over a bar
            figure.legend(loc="outside upper center", ncols=len(series), frameon=False)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return _PROLOGUE.sub("", out.getvalue(), count=1)


def _label(text: str, horizontal: bool) -> str:
    """Category labels that fit a phone: clipped beside horizontal bars, wrapped under vertical ones."""
    if horizontal:
        return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
    return textwrap.fill(text, 11)


def _at(table: Table, key: str) -> int:
    return [c.key for c in table.columns].index(key)
