"""The suite's own record, read back: each run's summary.json holds what its checks measured, so the
monthly checks (M1 report, M2 SLA, M3 capacity) can see a month that no single run saw.

One daily run per day counts (the day's last), so running the suite twice a day weighs nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

DAY = timedelta(days=1)


def runs(reports: Path) -> list[dict[str, Any]]:
    """Every readable run summary under `reports`, oldest first (an unreadable one is left out, not fatal)."""
    return runs_in(reports.glob("*/"))


def runs_in(folders: Iterable[Path]) -> list[dict[str, Any]]:
    """The readable run summaries of these run folders, oldest first."""
    found = []
    for folder in folders:
        try:
            found.append(json.loads((folder / "summary.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda s: s.get("finished") or "")


def figures(run: dict[str, Any]) -> dict[str, float]:
    """The run's numeric measured figures, the largest where several checks measured the same name."""
    out: dict[str, float] = {}
    for check in run.get("checks", []):
        for name, value in (check.get("measured") or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = max(out.get(name, value), value)
    return out


def finished(run: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(run["finished"])


@dataclass(frozen=True)
class Period:
    """The runs of the last `days` days before `end` that selected `schedule`, one per day (the day's last)."""

    reports: Path
    runs: list[dict[str, Any]]
    every_run: list[dict[str, Any]]  # of any schedule, all of them: drills run weekly, restores by hand
    start: datetime
    end: datetime
    days: int

    @classmethod
    def of(cls, recorded: list[dict[str, Any]], reports: Path, schedule: str, days: int) -> Period:
        """From `recorded` (the folder's runs, read once by `runs`), those of the last `days` days."""
        end = datetime.now(UTC)
        start = end - days * DAY
        within = [run for run in recorded if run.get("finished") and start <= finished(run) <= end]
        per_day: dict[date, dict[str, Any]] = {}
        for run in within:
            if schedule in (run.get("selection") or "").split():
                per_day[finished(run).date()] = run  # oldest first: the day's last run wins
        return cls(reports, [per_day[d] for d in sorted(per_day)], within, start, end, days)

    @property
    def days_covered(self) -> int:
        return len(self.runs)

    def shortfall(self, needed: int, what: str) -> str | None:
        """Why `what` cannot be told from this history, or None when it holds enough days."""
        if self.days_covered >= needed:
            return None
        return (
            f"cannot tell {what}: the suite's history ({self.reports}) holds daily runs on {self.days_covered} of the "
            f"last {self.days} days, {needed - self.days_covered} short of the {needed} needed. "
            f"Manual: run `pytest -m daily` every day with --reports-dir {self.reports} "
            "(or point [history] reports at where they are kept)"
        )

    def daily_figures(self) -> list[tuple[datetime, dict[str, float]]]:
        return [(finished(run), figures(run)) for run in self.runs]

    def availability(self) -> tuple[float | None, float, int]:
        """(percent of requests answered without a 5xx, 5xx answers, requests) over the period's daily figures."""
        days = [f for _, f in self.daily_figures() if "requests" in f and "error_ratio_percent" in f]
        requests = int(sum(f["requests"] for f in days))
        errors = sum(f["requests"] * f["error_ratio_percent"] / 100 for f in days)
        return (100 * (1 - errors / requests) if requests else None), errors, requests

    def series(self, name: str) -> list[tuple[datetime, float]]:
        """(finished, value) for each run that measured `name`."""
        return [(finished(run), f[name]) for run in self.runs if name in (f := figures(run))]

    def total(self, name: str) -> float:
        return sum(value for _, value in self.series(name))

    def checks(self, *items: str, every_run: bool = False) -> list[tuple[datetime, dict[str, Any]]]:
        """Every recorded result of the checks tagged with any of `items`, with its run's time."""
        return [(finished(run), check) for run in (self.every_run if every_run else self.runs)
                for check in run.get("checks", []) if set(check.get("checklist") or ()) & set(items)]  # fmt: skip

    def failures(self) -> list[tuple[datetime, dict[str, Any]]]:
        """The period's incidents: every check that failed, with when."""
        return [(finished(run), check) for run in self.runs for check in run.get("checks", [])
                if check.get("outcome") in ("failed", "error")]  # fmt: skip


def latest_running(recorded: list[dict[str, Any]], check: str, since: datetime) -> dict[str, Any] | None:
    """The newest of `recorded` since `since` that ran `check` (a test function's name: the week's load run is the
    last run with load thresholds in it, `-m load` or the whole suite; never a `-m "daily and not load"`)."""
    found = [run for run in recorded if run.get("finished") and finished(run) >= since
             and any(check in c["nodeid"] for c in run.get("checks", []))]  # fmt: skip
    return found[-1] if found else None
