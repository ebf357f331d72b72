"""Charts for the run folder and the history page, drawn by pygal: SVG inline in the page, with axes, values and
the limit, no JavaScript and no URL to fetch, so a report stays one file readable in any browser."""

from __future__ import annotations

from datetime import UTC, datetime

import pygal
from pygal.style import Style

LEVEL_COLOURS = {"CRITICAL": "#6a1b9a", "ERROR": "#c62828", "WARNING": "#f9a825"}  # as the HTML report's badges
LINE, LIMIT = "#3b6ea8", "#c62828"
MOST_VALUES = 15  # more points than this and the values crowd each other: the axes alone tell them

STYLE = Style(
    background="white",
    plot_background="white",
    font_family="sans-serif",
    colors=(LINE, LIMIT),
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#ccc",
    guide_stroke_color="#ddd",
    major_guide_stroke_color="#ccc",
    title_font_size=15,
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=10,
    legend_font_size=12,
)
COMMON = {
    "js": [],  # pygal's tooltips load a script from its site: none, the values are printed instead
    "disable_xml_declaration": True,  # inline in an HTML page
    "style": STYLE,
    "legend_at_bottom": True,
    "truncate_label": -1,
    "x_label_rotation": 25,
    "include_x_axis": True,
    "no_data_text": "no data",
    "width": 600,  # the viewBox: the chart scales to its box, this sets its proportions and its text's size
    "height": 300,
}
TIME_LABELS = 6


def _when(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _utc(moment: datetime) -> str:
    return f"{moment:%m-%d %H:%M}"


def line_svg(points: list[tuple[float, float]], title: str, unit: str, limit: float | None = None) -> str:
    """A time series (UTC seconds, value) over a time axis in UTC, its values printed when few, the limit dashed."""
    chart = pygal.DateTimeLine(
        title=f"{title}, {unit}",
        y_title=unit,
        x_value_formatter=_utc,
        formatter=lambda xy: f"{xy[1]:.4g}",
        print_values=len(points) <= MOST_VALUES,
        show_dots=len(points) <= MOST_VALUES * 4,
        show_legend=limit is not None,
        x_labels=_time_labels([_when(t) for t, _ in points]),
        **COMMON,
    )
    series = [(_when(t), v) for t, v in points]
    chart.add(title, series)
    if limit is not None and series:
        ends = [(series[0][0], limit), (series[-1][0], limit)]
        dashed = {"dasharray": "6,4"}
        chart.add(f"limit {limit:g} {unit}", ends, stroke_style=dashed, show_dots=False, print_values=False)
    return chart.render(is_unicode=True)


def _time_labels(moments: list[datetime]) -> list[datetime]:
    """At most TIME_LABELS moments, evenly picked from the series, so the time axis never crowds."""
    if len(moments) <= TIME_LABELS:
        return moments
    return sorted({moments[round(i * (len(moments) - 1) / (TIME_LABELS - 1))] for i in range(TIME_LABELS)})


def failures_svg(runs: list[tuple[float, dict[str, int]]], title: str) -> str:
    """Failed checks per run, stacked by level (CRITICAL at the base), one bar per run labelled with its UTC time."""
    chart = pygal.StackedBar(
        title=title,
        y_title="failed checks",
        x_labels=[_utc(_when(t)) for t, _ in runs],
        print_values=len(runs) <= MOST_VALUES,
        print_zeroes=False,
        show_minor_x_labels=len(runs) <= MOST_VALUES,
        formatter=lambda n: f"{n:g}" if n else "",
        **{**COMMON, "style": Style(**{**STYLE.to_dict(), "colors": tuple(LEVEL_COLOURS.values())})},
    )
    for level in LEVEL_COLOURS:
        chart.add(level, [counts.get(level.lower(), 0) for _, counts in runs])
    return chart.render(is_unicode=True)
