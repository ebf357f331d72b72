"""Plans on file (D12, W8): the files a day's or a week's patterns name, found by glob under the plans folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path


def fields(day: date) -> dict[str, str]:
    """The pattern fields of `day` (and of its ISO week)."""
    iso_year, iso_week, _ = day.isocalendar()
    return {"date": day.isoformat(), "yyyymmdd": day.strftime("%Y%m%d"), "year": f"{day.year:04d}",
            "month": f"{day.month:02d}", "day": f"{day.day:02d}", "iso_year": f"{iso_year:04d}",
            "iso_week": f"{iso_week:02d}"}  # fmt: skip


def find(folder: Path, patterns: list[str], day: date) -> list[Path]:
    """Every file under `folder` that one of `patterns`, filled in for `day`, matches; in pattern order."""
    found: list[Path] = []
    for pattern in patterns:
        found += [p for p in sorted(folder.glob(pattern.format(**fields(day)))) if p.is_file() and p not in found]
    return found


def names(patterns: list[str], day: date) -> list[str]:
    """The patterns filled in for `day`, as an operator would name the files."""
    return [pattern.format(**fields(day)) for pattern in patterns]
