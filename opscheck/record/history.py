"""reports/index.html: every run by date, filterable by schedule and target, with trends of the key figures.

Rebuilt after each run from the run folders' summary.json files, so it is never the record itself
(the run folders and the audit chain are); it is how a person finds the record they want.
"""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from opscheck.record import charts
from opscheck.record.suite_history import figures, runs

# The figures worth a trend line: the check's `measured` name → its title and unit.
TRENDS = {
    "latency_p95_ms": ("p95 latency (D10)", "ms"),
    "error_ratio_percent": ("5xx ratio (D10)", "%"),
    "accuracy_percent": ("prediction accuracy (D10)", "%"),
    "disk_used_percent": ("fullest data disk (T3)", "%"),
    "database_size_mb": ("database size (T5)", "MB"),
}
STYLE = (
    "body{font-family:sans-serif;margin:1.5em}td,th{padding:2px 10px;text-align:left}td:first-child{white-space:nowrap}"
    ".ok{color:#2e7d32}.bad span{display:inline-block;margin:1px;color:#fff;font-weight:bold;padding:0 4px}"
    ".bad .level-warning{color:#000}"
    + "".join(f".level-{level.lower()}{{background:{colour}}}" for level, colour in charts.LEVEL_COLOURS.items())
    + ".chart{display:inline-block;vertical-align:top;width:100%;max-width:600px;margin:0 12px 12px 0}"
)
CHARTED_RUNS = 30  # per schedule: a month of daily runs, and bars still wide enough to read
SCRIPT = """
function filter() {
  const schedule = document.getElementById('schedule').value, target = document.getElementById('target').value;
  for (const row of document.querySelectorAll('tr.run')) {
    const shown = (!schedule || row.dataset.selection.split(' ').includes(schedule))
               && (!target || row.dataset.target === target);
    row.style.display = shown ? '' : 'none';
  }
  for (const section of document.querySelectorAll('section.schedule')) {
    section.style.display = !schedule || section.dataset.schedule === schedule ? '' : 'none';
  }
}
"""


def write_index(reports: Path) -> Path:
    history = runs(reports)
    rows = "".join(_row(run) for run in reversed(history))
    targets = sorted({str(r.get("target")) for r in history})
    schedules = sorted({word for r in history for word in _schedules(r)} - {"all"})
    page = (
        "<!doctype html><meta charset=utf-8><title>opscheck runs</title>"
        f"<style>{STYLE}</style>"
        f"<script>{SCRIPT}</script><h1>opscheck: runs ({len(history)})</h1>"
        f"<h2>Trends by schedule</h2>{_trends(history)}"
        "<h2>Runs</h2><p>schedule "
        + _select("schedule", schedules)
        + " target "
        + _select("target", targets)
        + "</p><table><tr><th>finished (UTC)</th><th>target</th><th>selection</th><th>checks</th>"
        f"<th>failed by level</th><th>exit</th><th>record</th></tr>{rows}</table>"
    )
    index = reports / "index.html"
    tmp = reports / f".index.html.{os.getpid()}.tmp"  # two runs finishing together each write whole
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(index)
    return index


def _row(run: dict[str, Any]) -> str:
    totals = run.get("totals", {})
    by_level = {str(level).upper(): n for level, n in (run.get("failed_by_level") or {}).items()}
    failed = " ".join(
        f'<span class="level-{level.lower()}">{by_level[level]} {level}</span>'
        for level in sorted(by_level, key=lambda level: [*charts.LEVEL_COLOURS, level].index(level))
    )
    checks = " ".join(f"{n} {outcome}" for outcome, n in sorted(totals.items()))
    selection = run.get("selection") or "all"
    finished = str(run.get("finished", ""))[:16].replace("T", " ")
    return (
        f'<tr class="run" data-target="{html.escape(str(run.get("target")))}" '
        f'data-selection="{html.escape(selection)}"><td>{html.escape(finished)}</td>'
        f"<td>{html.escape(str(run.get('target')))}</td><td>{html.escape(selection)}</td><td>{checks}</td>"
        f'<td class="{"bad" if failed else "ok"}">{failed or "none"}</td><td>{run.get("exit_status")}</td>'
        f'<td><a href="{html.escape(run.get("run_id", ""))}/report.html">report</a></td></tr>'
    )


def _select(name: str, values: list[str]) -> str:
    options = "".join(f"<option>{html.escape(v)}</option>" for v in values)
    return f'<select id="{name}" onchange="filter()"><option value="">all</option>{options}</select>'


def _schedules(run: dict[str, Any]) -> list[str]:
    """The schedules a run's selection names (`daily and evening`: both), `all` for a run of every check."""
    words = [w for w in (run.get("selection") or "").split() if w.isidentifier() and w not in ("and", "or", "not")]
    return words or ["all"]


def _trends(history: list[dict[str, Any]]) -> str:
    """Per schedule, its last runs: failures by level, the share of checks passed, and the key figures' trends."""
    timed = [r for r in history if r.get("finished")]
    by_schedule: dict[str, list[dict[str, Any]]] = {}
    for run in timed:
        for schedule in _schedules(run):
            by_schedule.setdefault(schedule, []).append(run)
    return "".join(_schedule_trends(name, runs[-CHARTED_RUNS:]) for name, runs in sorted(by_schedule.items()))


def _schedule_trends(schedule: str, runs: list[dict[str, Any]]) -> str:
    def moment(run: dict[str, Any]) -> float:
        return datetime.fromisoformat(run["finished"]).timestamp()

    def passed(run: dict[str, Any]) -> float:
        totals = run.get("totals", {})
        return round(100.0 * totals.get("passed", 0) / max(1, sum(totals.values())), 1)

    parts = [
        charts.failures_svg([(moment(r), r.get("failed_by_level") or {}) for r in runs], f"{schedule}: failed checks"),
        charts.line_svg([(moment(r), passed(r)) for r in runs], f"{schedule}: checks passed", "%"),
    ]
    for name, (title, unit) in TRENDS.items():
        points = [(moment(r), f[name]) for r in runs if name in (f := figures(r))]
        if points:
            parts.append(charts.line_svg(points, f"{schedule}: {title}", unit))
    charted = "".join(f'<div class="chart">{part}</div>' for part in parts)
    label = html.escape(schedule)
    heading = f"<h3>{label} (last {len(runs)} runs)</h3>"
    return f'<section class="schedule" data-schedule="{label}">{heading}{charted}</section>'
