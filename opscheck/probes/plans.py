"""Plans on file (D12, W8): the files a day's or a week's patterns name, found by glob under the plans folder,
on the host that keeps them."""

from __future__ import annotations

from datetime import date

from opscheck.probes.files import LOCAL, Entry, Files


def fields(day: date) -> dict[str, str]:
    """The pattern fields of `day` (and of its ISO week)."""
    iso_year, iso_week, _ = day.isocalendar()
    return {"date": day.isoformat(), "yyyymmdd": day.strftime("%Y%m%d"), "year": f"{day.year:04d}",
            "month": f"{day.month:02d}", "day": f"{day.day:02d}", "iso_year": f"{iso_year:04d}",
            "iso_week": f"{iso_week:02d}"}  # fmt: skip


def find(folder: str, patterns: list[str], day: date, files: Files = LOCAL) -> list[Entry]:
    """Every file under `folder` that one of `patterns`, filled in for `day`, matches (each named by its path);
    in pattern order."""
    found: list[Entry] = []
    for pattern in patterns:
        for path in files.glob(str(folder), pattern.format(**fields(day))):
            entry = files.stat(path)
            if entry is not None and entry.kind == "f" and path not in [e.name for e in found]:
                found.append(Entry(path, entry.kind, entry.size, entry.mtime, entry.ctime))
    return found


def names(patterns: list[str], day: date) -> list[str]:
    """The patterns filled in for `day`, as an operator would name the files."""
    return [pattern.format(**fields(day)) for pattern in patterns]
