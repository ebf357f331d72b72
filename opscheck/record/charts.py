"""Small self-contained SVG charts for the run folder: no JavaScript, no network, readable in any browser."""

from __future__ import annotations

import time
from html import escape

PAD = 24
SVG = "xmlns='http://www.w3.org/2000/svg'"


def _utc(moment: float) -> str:
    return time.strftime("%m-%d %H:%M UTC", time.gmtime(moment))


def line_svg(
    points: list[tuple[float, float]],
    title: str,
    unit: str,
    limit: float | None = None,
    width: int = 720,
    height: int = 160,
) -> str:
    """A time series as a polyline, with the limit as a red line and the time axis labelled in UTC."""
    if not points:
        return f"<svg {SVG} width='{width}' height='40'><text y='20'>{escape(title)}: no data</text></svg>"
    t0, t1 = points[0][0], points[-1][0]
    top = max([v for _, v in points] + ([limit] if limit is not None else [])) * 1.1 or 1.0

    def x(t: float) -> float:
        return PAD + (width - 2 * PAD) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.5)

    def y(v: float) -> float:
        return height - PAD - (height - 2 * PAD) * v / top

    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    parts = [
        f"<svg {SVG} width='{width}' height='{height}' font-family='sans-serif' font-size='11'>",
        f"<text x='{PAD}' y='14'>{escape(title)} ({escape(unit)}; peak {max(v for _, v in points):.1f})</text>",
        f"<polyline fill='none' stroke='#3b6ea8' stroke-width='1.2' points='{line}'/>",
        f"<text x='{PAD}' y='{height - 6}'>{_utc(t0)}</text>",
        f"<text x='{width - PAD}' y='{height - 6}' text-anchor='end'>{_utc(t1)}</text>",
    ]
    if limit is not None:
        parts.append(f"<line x1='{PAD}' x2='{width - PAD}' y1='{y(limit):.1f}' y2='{y(limit):.1f}' stroke='#c0392b' "
                     f"stroke-dasharray='4 3'><title>limit {limit:g} {escape(unit)}</title></line>")  # fmt: skip
    return "".join(parts) + "</svg>"
