"""M1 — 月次システムレポート: the month's figures in one report in the run folder — availability, latency,
errors, traffic, data growth, backups and drills, and the incidents (every check that failed) — read back
from the suite's own runs, with a chart per figure."""

import html
import json
import statistics
from collections import defaultdict

import pytest

from opscheck.judge.levels import Level, fail_at
from opscheck.record import charts

FIGURES = {  # measured name → (title, unit)
    "requests": ("requests per day", "requests"),
    "error_ratio_percent": ("5xx ratio per day", "%"),
    "latency_p95_ms": ("p95 latency per day", "ms"),
    "database_size_mb": ("database size", "MB"),
    "disk_used_percent": ("fullest data disk", "%"),
}


@pytest.mark.monthly
@pytest.mark.checklist("M1")
@pytest.mark.level("warning")
def test_monthly_report_is_produced(recorded_month, target, artifact, measured):
    month = recorded_month
    missing = month.shortfall(target.spec.history.min_days, "the month's figures")
    if missing:
        fail_at(Level.WARNING, missing)
    availability, errors, requests = month.availability()
    p95 = [v for _, v in month.series("latency_p95_ms")]
    size = month.series("database_size_mb")
    report = {
        "period": {"from": month.start.isoformat(), "to": month.end.isoformat(), "daily_runs": month.days_covered},
        "availability_percent": round(availability, 3) if availability is not None else None,
        "requests": requests,
        "server_errors": round(errors),
        "latency_p95_ms": {"median_day": statistics.median(p95), "worst_day": max(p95)} if p95 else None,
        "database_growth_mb": round(size[-1][1] - size[0][1], 2) if len(size) > 1 else None,
        "backups": _outcomes(month.checks("D5", "B1", "B2")),
        "drills": _outcomes(month.checks("W5", "MM3", "R1", every_run=True)),
        "incidents": _incidents(month),
    }
    artifact("monthly-report.json", json.dumps(report, indent=2, ensure_ascii=False))
    artifact("monthly-report.html", _page(report, month))
    measured("availability_percent", report["availability_percent"] or "unknown")
    measured("incidents", len(report["incidents"]))
    unknown = [
        name for name in ("availability_percent", "latency_p95_ms", "database_growth_mb") if report[name] is None
    ]
    if not report["backups"]["checks"]:
        unknown.append("backups (no D5 check recorded)")
    assert not unknown, f"the monthly report cannot give {', '.join(unknown)}: the daily runs did not record them"


def _outcomes(results) -> dict:
    counts = defaultdict(int)
    for _, check in results:
        counts[check.get("outcome", "?")] += 1
    return {"checks": sum(counts.values()), **counts}


def _incidents(month) -> list[dict]:
    """Failed checks grouped by check: how often, at what worst level, first and last seen."""
    grouped: dict[str, dict] = {}
    for when, check in month.failures():
        entry = grouped.setdefault(check["nodeid"], {"check": check["nodeid"], "items": check.get("checklist", []),
                                                     "level": check.get("failed_level") or check.get("level"),
                                                     "times": 0, "first": when.isoformat(), "message": ""})  # fmt: skip
        entry["times"] += 1
        entry["last"] = when.isoformat()
        entry["message"] = check.get("message", "")[:200]
    return sorted(grouped.values(), key=lambda e: -e["times"])


def _page(report: dict, month) -> str:
    def rows(mapping: dict) -> str:
        return "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in mapping.items()
        )

    headline = {k: v for k, v in report.items() if k not in ("incidents", "period")}
    incidents = (
        "".join(
            f"<tr><td>{html.escape(i['check'])}</td><td>{' '.join(i['items'])}</td><td>{i['level']}</td>"
            f"<td>{i['times']}</td><td>{i['first'][:10]}</td><td>{i['last'][:10]}</td><td>{html.escape(i['message'])}</td></tr>"
            for i in report["incidents"]
        )
        or "<tr><td colspan=7>none: every recorded check passed</td></tr>"
    )
    chart_list = [
        charts.line_svg([(t.timestamp(), v) for t, v in points], title, unit)
        for name, (title, unit) in FIGURES.items()
        if (points := month.series(name))
    ]
    return (
        "<!doctype html><meta charset=utf-8><title>月次システムレポート</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left;vertical-align:top}</style>"
        f"<h1>Monthly system report (M1)</h1><p>{report['period']['from'][:10]} to {report['period']['to'][:10]}, "
        f"{report['period']['daily_runs']} daily runs</p><table>{rows(headline)}</table><h2>Trends</h2>"
        + "".join(f'<div style="display:inline-block">{c}</div>' for c in chart_list)
        + "<h2>Incidents (checks that failed)</h2><table><tr><th>check</th><th>items</th><th>level</th><th>times</th>"
        f"<th>first</th><th>last</th><th>last message</th></tr>{incidents}</table>"
    )
