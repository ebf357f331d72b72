"""D3 — アラート・エラーログの確認, and T2 — ログ確認: errors by level since the morning's window opened."""

import re
import time

import pytest

from opscheck.judge.bands import band, times_limit
from opscheck.judge.levels import Level, fail_at
from opscheck.judge.logstats import level_summary


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.checklist("D3")
@pytest.mark.level("warning")
def test_log_errors_within_limits(logs, app_log, target, thresholds, measured, evidence):
    """CRITICAL lines above their limit are an ERROR; ERROR lines above theirs a WARNING, ten times it an ERROR."""
    log = logs.file(app_log)
    hours = target.spec.logs.daily_window_hours
    summary = level_summary(log.lines(since=time.time() - hours * 3600), logs.form(app_log))
    for name in ("CRITICAL", "ERROR", "WARNING"):
        measured(f"{name.lower()}_lines", summary.counts[name])
    evidence(app_log, *(re.escape(message) for _, message, _ in summary.top()))
    top = "; ".join(f"{g.count}× {level} {message!r} ({g.first} … {g.last})" for level, message, g in summary.top())
    found = (
        f"{log.place} in the last {hours:g} h: {summary.counts['CRITICAL']} CRITICAL, {summary.counts['ERROR']} "
        f"ERROR, {summary.counts['WARNING']} WARNING line(s). Top: {top or 'none'}"
        + (f" (and {log.oddities.said()}: a torn or damaged file)" if log.oddities.said() else "")
    )
    if summary.counts["CRITICAL"] > thresholds.log_critical_lines:
        fail_at(Level.ERROR, f"{found}. Limit for CRITICAL: {thresholds.log_critical_lines}. Manual: act on each now")
    limit = thresholds.log_error_lines
    far = times_limit(limit, thresholds.log_error_lines_error_factor)
    level = band(summary.counts["ERROR"], limit, far)
    if level is not None:
        fail_at(level, f"{found}. Limit for ERROR: {limit} (ERROR at {far:g}). Manual: find the cause")


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.checklist("T2")
@pytest.mark.level("warning")
def test_log_is_present_and_being_written(logs, log_name, target, measured):
    """Every declared log can be read; the access log, written on every request, has a recent line."""
    log = logs.file(log_name)
    newest = log.newest_time()
    assert newest is not None or log_name != "access", f"{log.place} holds no line with a time stamp"
    if log_name == "access":
        silent_min = (time.time() - newest) / 60
        measured("silent_minutes", round(silent_min, 1))
        limit = target.spec.logs.max_silence_minutes
        assert silent_min <= limit, (
            f"the access log {log.place} has had no line for {silent_min:.0f} min (limit {limit:g}): nothing is "
            "being served, or logging has stopped. Manual: tail -f the log; check nginx and the API"
        )
