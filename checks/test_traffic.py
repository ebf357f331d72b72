"""D7 ユーザー活動状況, D8 API呼び出し状況, D10 一日の統計レポート: read from the access log."""

import json
import time

import pytest

from opscheck.judge.logstats import traffic_in
from opscheck.target.data import BATCH_COLUMNS, PREDICTION_COLUMNS

HOUR = 3600.0


def _window(logs, target, hours_ago: float = 0.0, users_only: bool = False):
    """The access log's traffic of the intraday window (`hours_ago` back); `users_only`: without the site's own
    monitoring and health checkers ([security] trusted_clients), whose steady polling is not user activity."""
    hours = target.spec.logs.intraday_window_hours
    end = time.time() - hours_ago * HOUR
    leave_out = frozenset(target.spec.security.trusted_clients) if users_only else frozenset()
    chunks = logs.file("access").chunks(since=end - hours * HOUR, until=end)
    return traffic_in(chunks, logs.access_form, leave_out), hours


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D8")
@pytest.mark.level("error")
@pytest.mark.logs("app")
def test_api_error_ratio_under_limit(logs, target, thresholds, measured, evidence):
    """What callers got, without the site's monitoring and health checkers: a health poll answered 503 while Redis
    was down is D1's failure, and counted here it made a young platform's /api/health look like an outage of its own."""
    evidence("access", r'" 5\d\d ')  # the 5xx answers (nginx's combined format: the status after the request)
    now, hours = _window(logs, target, users_only=True)
    assert now.requests, (
        f"no request in the access log in the last {hours:g} h: could not tell the error ratio. Manual: check that "
        "nginx writes its access log there ([logs] access)"
    )
    limit = thresholds.error_rate_percent
    table = ", ".join(
        f"{name} {e.requests} req/{e.server_errors} 5xx"
        for name, e in sorted(now.endpoints.items(), key=lambda item: -item[1].requests)[:6]
    )
    failing = [
        f"{name}: {100 * e.server_errors / e.requests:.1f} % 5xx of {e.requests}"
        for name, e in now.endpoints.items()
        if e.requests >= 20 and 100 * e.server_errors / e.requests > limit
    ]
    ratio = 100 * now.error_ratio()
    measured("server_error_percent", round(ratio, 2))
    assert ratio <= limit and not failing, (
        f"in the last {hours:g} h {now.server_errors} of {now.requests} requests answered 5xx ({ratio:.1f} %; limit "
        f"{limit:g} %). Endpoints over the limit: {'; '.join(failing) or 'none'}. Volume: {table}. Manual (ERROR, "
        "高エラー率): find the failing endpoint's errors in api.log, notify on-call"
    )


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D7")
@pytest.mark.level("warning")
@pytest.mark.parametrize("compared_with", ["a day before", "a week before"])
def test_user_activity_within_its_normal_band(logs, target, thresholds, compared_with, measured):
    hours_ago = 24 if compared_with == "a day before" else 24 * 7
    short = logs.file("access").covers(time.time() - (hours_ago + target.spec.logs.intraday_window_hours) * HOUR)
    assert short is None, (
        f"cannot judge today's traffic against {compared_with}: {short}. Manual: keep the access log longer "
        "(logrotate's rotate 14), or wait until it reaches back"
    )
    now, hours = _window(logs, target, users_only=True)
    then, _ = _window(logs, target, hours_ago=hours_ago, users_only=True)
    assert then.requests, (
        f"no traffic {compared_with} to compare with in the access log's window. Manual: keep the access log longer "
        "(logrotate's rotate 14)"
    )
    low = 1 - thresholds.activity_drop_percent / 100
    high = 1 + thresholds.activity_rise_percent / 100
    ratio = now.requests / then.requests
    measured("requests_against_then_percent", round(100 * ratio, 1))
    clients = f"{len(now.clients)} clients now, {len(then.clients)} then"
    assert low <= ratio <= high, (
        f"{now.requests} requests in the last {hours:g} h against {then.requests} in the same hours {compared_with} "
        f"({100 * ratio:.0f} %; normal band {100 * low:.0f}–{100 * high:.0f} %; {clients}). "
        "Manual: a sudden drop means users cannot reach the service; a spike may be a flood (X2)"
    )


@pytest.fixture(scope="module")
def day(logs):
    """The day's traffic (the 24 h before the run), read once for the report and the day's latency."""
    return traffic_in(logs.file("access").chunks(since=time.time() - 24 * HOUR), logs.access_form)


@pytest.mark.daily
@pytest.mark.evening
@pytest.mark.checklist("D6", "D10")
@pytest.mark.level("warning")
@pytest.mark.logs("access")
def test_days_logged_latency_within_the_response_limit(day, thresholds, measured):
    """Not a probe's few samples: every request of the day as nginx logged its $request_time (the manual: 500 ms)."""
    p95 = day.percentile_ms(0.95)
    assert p95 is not None, (
        "the access log of the last 24 h holds no request time ($request_time): cannot tell. Manual: add "
        "$request_time to nginx's log_format (and to [logs] access_format)"
    )
    measured("day_latency_p95_ms", p95)
    limit = thresholds.response_ms
    slow = sorted(((e.percentile_ms(0.95) or 0, name) for name, e in day.endpoints.items() if e.requests >= 20),
                  reverse=True)[:3]  # fmt: skip
    assert p95 <= limit, (
        f"the day's p95 response time is {p95:.0f} ms over {day.requests} requests (limit {limit:g} ms); slowest "
        f"endpoints: {', '.join(f'{n} {ms:.0f} ms' for ms, n in slow)}. Manual (WARNING, レスポンス時間): find the "
        "slow queries (pg_stat_statements) and the cache's hit ratio"
    )


@pytest.mark.daily
@pytest.mark.evening
@pytest.mark.checklist("D10")
@pytest.mark.level("warning")
def test_daily_statistics_report_is_produced(day, db, artifact, target, measured):
    """The day's figures (the 24 h before the run) as a table and an hourly chart in the run folder."""
    batch, predictions = target.spec.batch, target.spec.predictions
    [made] = db.source("[predictions] source", predictions.source, PREDICTION_COLUMNS,
                       "WHERE made_at > now() - interval '24 hours'", select="count(*) AS n")  # fmt: skip
    [accuracy] = db.source("[predictions] source", predictions.source, PREDICTION_COLUMNS,
                           "WHERE correct IS NOT NULL AND target_date > current_date - 7",
                           select="round(100.0 * avg(correct::int), 1) AS percent")  # fmt: skip
    latest = db.source("[batch] source", batch.source, BATCH_COLUMNS, "ORDER BY job, started_at DESC",
                       select="DISTINCT ON (job) job, status")  # fmt: skip
    database = {"predictions_made": made["n"], "accuracy_percent": accuracy["percent"],
                "batch": ", ".join(f"{r['job']} {r['status']}" for r in latest) or None}  # fmt: skip
    figures = {
        "requests": day.requests,
        "server_errors": day.server_errors,
        "error_ratio_percent": round(100 * day.error_ratio(), 2),
        "latency_p50_ms": day.percentile_ms(0.50),
        "latency_p95_ms": day.percentile_ms(0.95),
        "latency_p99_ms": day.percentile_ms(0.99),
        "active_clients": len(day.clients),
        "predictions_made": database["predictions_made"],
        "accuracy_percent": float(database["accuracy_percent"]) if database["accuracy_percent"] else None,
        "batch": database["batch"],
    }
    for name in ("requests", "error_ratio_percent", "latency_p95_ms", "active_clients", "accuracy_percent"):
        if figures[name] is not None:
            measured(name, figures[name])  # the history page's trends (reports/index.html)
    missing = [name for name, value in figures.items() if value in (None, 0) and name != "server_errors"]
    artifact("daily-statistics.json", json.dumps(figures, indent=2))
    artifact("daily-statistics.html", _page(figures, day.hourly))
    assert not missing, (
        f"the daily report cannot give {', '.join(missing)}: its source is empty or unreadable. Manual: check that "
        "the access log and the database it reads are there"
    )


def _page(figures: dict, hourly) -> str:
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in figures.items())
    hours = sorted(hourly)
    peak = max(hourly.values(), default=1)
    bars = "".join(
        f'<rect x="{i * 22}" y="{120 - 110 * hourly[h] / peak:.0f}" width="18" height="{110 * hourly[h] / peak:.0f}"'
        f' fill="#3b6ea8"><title>{time.strftime("%H:00", time.gmtime(h * HOUR))} UTC: {hourly[h]}</title></rect>'
        for i, h in enumerate(hours)
    )
    return (
        "<!doctype html><meta charset=utf-8><title>一日の統計レポート</title><h1>Daily statistics (last 24 h)</h1>"
        f"<table>{rows}</table><h2>Requests per hour</h2><svg width='{22 * len(hours)}' height='125'>{bars}</svg>"
    )
