"""W1 — 週次パフォーマンスレポート: the week's latency, errors and throughput from the access log, against
the week before, as tables and a chart in the run folder; the week's figures judged by the manual's limits."""

import json
import time
from datetime import UTC, datetime

import pytest

from opscheck.judge.levels import Level, fail_at
from opscheck.judge.logstats import merged, traffic_by
from opscheck.record import charts
from opscheck.record.suite_history import latest_running

DAY = 86400.0


@pytest.mark.weekly
@pytest.mark.checklist("W1")
@pytest.mark.level("warning")
@pytest.mark.logs("access")
def test_weekly_performance_report(logs, target, thresholds, artifact, measured, suite_runs):
    access, form = logs.file("access"), logs.access_form
    now = time.time()
    # The fourteen days read once, in one pass split at the edges (the week before, then each day): a rotation
    # that a day starts inside is decompressed once, not once a day; the week is its seven days added up.
    edges = [now - 14 * DAY] + [now - (7 - d) * DAY for d in range(8)]
    before, *days = traffic_by(access.windows(edges), len(edges) - 1, form)
    week = merged(days)
    zone = target.spec.zone()
    rows = [
        {
            "day": datetime.fromtimestamp(now - (7 - d) * DAY, zone).strftime("%a %m-%d"),
            "requests": t.requests,
            "per_hour": round(t.requests / 24, 1),
            "error_ratio_percent": round(100 * t.error_ratio(), 2),
            "p95_ms": t.percentile_ms(0.95),
        }
        for d, t in enumerate(days)
    ]
    endpoints = {
        name: {"requests": e.requests, "p50_ms": e.percentile_ms(0.5), "p95_ms": e.percentile_ms(0.95),
               "p99_ms": e.percentile_ms(0.99), "error_ratio_percent": round(100 * e.server_errors / e.requests, 2)}
        for name, e in sorted(week.endpoints.items(), key=lambda kv: -kv[1].requests)
    }  # fmt: skip
    summary = {
        "this_week": _figures(week),
        "week_before": _figures(before),
        "per_day": rows,
        "per_endpoint": endpoints,
        "load_run": _load_run(suite_runs, now),
    }
    artifact("weekly-performance.json", json.dumps(summary, indent=2))
    artifact("weekly-performance.html", _page(summary, days, now))
    for name, value in summary["this_week"].items():
        if value is not None:
            measured(f"week_{name}", value)

    short = access.covers(now - 14 * DAY)
    assert short is None, (
        f"cannot judge the week against the week before: {short}. Manual: keep 14 days (logrotate's rotate 14)"
    )
    assert before.requests, (
        f"no traffic in the week before in {access.place} and its rotations: the report cannot compare the week "
        "(keep 14 days of access log: logrotate's rotate 14)"
    )
    if week.error_ratio() * 100 > thresholds.error_rate_percent:
        fail_at(Level.ERROR, f"the week's 5xx ratio is {100 * week.error_ratio():.1f} % (limit "
                f"{thresholds.error_rate_percent:g} %; the week before {100 * before.error_ratio():.1f} %). "
                "Manual (ERROR, エラー率 > 5%): find the failing endpoint in the report")  # fmt: skip
    slow = {name: e["p95_ms"] for name, e in endpoints.items() if (e["p95_ms"] or 0) > thresholds.response_ms}
    assert not slow, (
        f"p95 above {thresholds.response_ms:g} ms over the week: "
        + ", ".join(f"{name} {ms:.0f} ms" for name, ms in slow.items())
        + f" (the week before, overall: {before.percentile_ms(0.95)} ms). Manual (W1): see the report's tables"
    )


def _load_run(recorded, now: float) -> dict | None:
    """The week's load run (`pytest -m load`, the standard profile), threshold by threshold, if one ran."""
    run = latest_running(recorded, "test_load_threshold", datetime.fromtimestamp(now - 7 * DAY, UTC))
    if run is None:
        return None
    checks = [
        {"threshold": c["nodeid"].split("[", 1)[-1].rstrip("]"), "outcome": c["outcome"], **(c.get("measured") or {})}
        for c in run["checks"]
        if "test_load_threshold" in c["nodeid"]
    ]
    return {"run_id": run["run_id"], "finished": run["finished"], "checks": checks}


def _figures(t) -> dict:
    percentiles = {f"p{int(q * 100)}_ms": t.percentile_ms(q) for q in (0.5, 0.95, 0.99)}
    return {"requests": t.requests, "error_ratio_percent": round(100 * t.error_ratio(), 2), **percentiles}


def _page(summary: dict, days: list, now: float) -> str:
    def table(rows: list[dict]) -> str:
        if not rows:
            return "<p>no traffic</p>"
        head = "".join(f"<th>{k}</th>" for k in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row.values()) + "</tr>" for row in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    weeks = [{"week": name, **figures} for name, figures in (("this week", summary["this_week"]),
                                                              ("week before", summary["week_before"]))]  # fmt: skip
    endpoints = [{"endpoint": name, **e} for name, e in summary["per_endpoint"].items()]
    p95 = [(now - (7 - d) * DAY, t.percentile_ms(0.95) or 0) for d, t in enumerate(days)]
    volume = [(now - (7 - d) * DAY, t.requests) for d, t in enumerate(days)]
    return (
        "<!doctype html><meta charset=utf-8><title>週次パフォーマンスレポート</title>"
        "<style>td,th{padding:2px 8px;text-align:left}</style><h1>Weekly performance report (W1)</h1>"
        f"<h2>The week against the week before</h2>{table(weeks)}"
        f"<h2>Per day</h2>{table(summary['per_day'])}"
        f"{charts.line_svg(volume, 'requests per day', 'requests')}{charts.line_svg(p95, 'p95 per day', 'ms')}"
        f"<h2>Per endpoint, this week</h2>{table(endpoints)}"
        "<h2>This week's load run</h2>"
        + (
            f"<p>{summary['load_run']['run_id']}</p>{table(summary['load_run']['checks'])}"
            if summary["load_run"]
            else "<p>none ran this week: <code>pytest -m load --load-profile standard</code></p>"
        )
    )
