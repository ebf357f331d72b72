"""M3's arithmetic: a straight line through a figure's history, so its growth per day and days left can be told."""

from __future__ import annotations

from datetime import datetime


def fit(points: list[tuple[datetime, float]]) -> tuple[float, float] | None:
    """Least-squares line through the points: (value now-ish at the last point, growth per day); None if flat data."""
    if len(points) < 2:
        return None
    xs = [(t - points[0][0]).total_seconds() / 86400 for t, _ in points]
    ys = [v for _, v in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y + slope * (xs[-1] - mean_x), slope
