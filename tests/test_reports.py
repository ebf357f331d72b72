"""Every run leaves reports/<run-id>/ with report.html, junit.xml and summary.json, also under xdist."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

from tests.conftest import faulted


def test_parallel_run_records_level_and_items_for_every_check(platform, run_checks):
    with faulted(platform, "monitoring-down"):
        run = run_checks("-m", "daily", "-n", "2")
    assert run.returncode == 1, run.output
    assert {p.name for p in run.run_dir.iterdir()} >= {"report.html", "junit.xml", "summary.json"}

    cases = ET.parse(run.run_dir / "junit.xml").getroot().iter("testcase")
    props = {
        f"{case.get('classname')}.{case.get('name')}": {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in cases
    }
    assert len(props) == len(run.summary["checks"])
    assert all(p.get("alert_level") in ("warning", "error", "critical") for p in props.values())
    assert all(p.get("checklist") for p in props.values())
    failed = props["checks.test_health.test_component_reports_healthy[monitoring/health]"]
    assert failed == {
        "alert_level": "error",
        "checklist": "D1 S1 S2",
        "failed_level": "error",
        "blocked_by": f"monitoring / alerting at 127.0.0.1:{platform.read_state().ports['monitoring']}",
    }

    page = (run.run_dir / "report.html").read_text()
    assert 'data-column-type="level">Level</th>' in page and "<th>Manual items</th>" in page
    rows = report_rows(page)
    row = rows["checks/test_health.py::test_component_reports_healthy[monitoring/health]"]
    assert "alerts log" in row and "artifacts/excerpt-alerts.log" in row, "T2: the failure links the logs' excerpt"
    assert (run.run_dir / "artifacts" / "excerpt-alerts.log").is_file(), "written once, into the run record"
    assert (
        'level-error">ERROR</span>' in row and "D1: システム全体のヘルスチェック実行 / Whole-system health check" in row
    )
    assert run.summary["failed_by_level"] == {"error": 2, "warning": 4}, "its health, its process (T1), D11's history"
    assert run.summary["selection"] == "daily" and run.summary["target"] == "sandbox"
    view = page[page.index("Manual items checked in this run") :]
    first_row = view[view.index("<tr><td>") :].split("</tr>")[0]
    assert "<td>D1</td>" in first_row and "ERROR (" in first_row, "the checklist view puts failed items first"
    assert "<td>D4</td>" in view and "OK (" in view, "and lists every item the selection covered"


def report_rows(page: str) -> dict[str, str]:
    """pytest-html 4 keeps its table as a JSON blob in the page; its script renders it, so read it the same way."""
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="(.*?)"', page).group(1)))
    return {
        test_id: " ".join(runs[-1]["resultsTableRow"]) + runs[-1].get("log", "")
        for test_id, runs in blob["tests"].items()
    }


def test_report_opens_with_the_verdict_and_lists_failures_worst_first(platform, run_checks):
    with faulted(platform, "brute-force-burst"), faulted(platform, "backup-empty-dump"):
        run = run_checks("-m", "daily", "-n", "2")
    page = (run.run_dir / "report.html").read_text()
    failed = run.failed()
    banner = page[page.index('<div id="verdict"') :]
    assert page.index('<div id="verdict"') < page.index('<table id="results-table">')
    line = re.search(r'<p class="verdict-line">(.*?)</p>', banner).group(1)
    assert line.startswith(f"CRITICAL: {len(failed)} of {len(run.summary['checks'])} checks failed (1 CRITICAL, "), line
    listed = re.findall(r'<span class="badge level-(\w+)">\w+</span> <b>(.*?)</b>', banner.split("</ol>")[0])
    assert [level for level, _ in listed] == sorted(
        (level for level, _ in listed), key=["critical", "error", "warning"].index
    ), "the banner lists failures CRITICAL first"
    assert {f"checks/{name}" for _, name in listed} == set(failed)
    assert listed[0][1] == "test_backups.py::test_latest_backup_is_intact[daily]"

    rows = report_rows(page)
    keys = {test_id: re.search(r'<td class="col-level"><!--(.*?)-->', row).group(1) for test_id, row in rows.items()}
    table_order = sorted(keys, key=keys.get)  # pytest-html sorts the level column as text: the initial sort
    assert table_order[: len(failed)] == [f"checks/{name}" for _, name in listed], "the table opens as the banner"

    brute = rows["checks/test_security_logs.py::test_no_brute_force_on_logins"]
    times = int(re.search(r"192\.0\.2\.66 failed (\d+) times", brute).group(1))
    assert f"most_failed_logins_from_one_client = {times}<" in brute, "Measured agrees with the message"
    assert 'class="badge level-critical"' in rows[table_order[0]] and "level-error" in brute, "distinct colours"
    css = page[: page.index("</style>")]
    assert (
        ".badge.level-critical { background: #6a1b9a; }" in css and ".badge.level-error { background: #c62828; }" in css
    )
    assert "input[disabled] + span { display: none; }" in css, "pytest-html's zero counters hidden"
    assert "#environment-header, #environment, body > p { order: 2; }" in css, "its environment table below"

    blob = json.loads(html.unescape(re.search(r'data-jsonblob="(.*?)"', page).group(1)))

    def links(nodeid: str) -> dict[str, str]:
        return {e["name"]: e["content"] for e in blob["tests"][nodeid][-1].get("extras", [])}

    excerpt = links("checks/test_security_logs.py::test_no_brute_force_on_logins")
    [(title, url)] = excerpt.items()
    assert title.startswith("access log") and url.startswith("artifacts/excerpt-access"), "the Links column opens it"
    assert "192.0.2.66" in (run.run_dir / url).read_text(), "the excerpt holds the attacker's lines"
    written = links("checks/test_traffic.py::test_daily_statistics_report_is_produced")
    assert written == {n: f"artifacts/{n}" for n in ("daily-statistics.html", "daily-statistics.json")}, written
    measured = {c["nodeid"]: c.get("measured", {}) for c in run.summary["checks"]}
    assert measured["checks/test_postgres.py::test_postgres_connections_under_limit"]["connections_used_percent"] > 0
    assert (
        "p95_ms" in measured["checks/test_performance.py::test_prediction_endpoint_answers_within_the_response_limit"]
    )


def test_runs_never_share_a_folder(run_checks):
    first = run_checks("-m", "daily", "-k", "redis")
    second = run_checks("-m", "daily", "-k", "redis")
    assert first.run_dir != second.run_dir and first.run_dir.parent == second.run_dir.parent


def test_history_page_lists_every_run_with_its_trends(run_checks):
    passing = run_checks("-m", "daily and evening")
    narrow = run_checks("-m", "daily", "-k", "redis")
    page = (passing.run_dir.parent / "index.html").read_text()
    assert f'href="{passing.run_dir.name}/report.html"' in page and f'href="{narrow.run_dir.name}/report.html"' in page
    assert 'data-selection="daily and evening"' in page and '<select id="schedule"' in page
    sections = dict(re.findall(r'<section class="schedule" data-schedule="(\w+)">(.*?)</section>', page, re.S))
    assert set(sections) == {"daily", "evening"}, "charts per schedule"
    daily = sections["daily"]
    assert "<h3>daily (last 2 runs)</h3>" in daily and daily.count('class="pygal-chart"') >= 5, "drawn by pygal"
    for title in ("daily: failed checks", "daily: checks passed, %", "daily: p95 latency (D10), ms"):
        assert f'class="title plot_title">{title}</text>' in daily, title
    chart = daily[daily.index("daily: p95 latency (D10), ms") :].split("</svg>")[0]
    p95 = max(
        c["measured"]["latency_p95_ms"] for c in passing.summary["checks"] if "latency_p95_ms" in c.get("measured", {})
    )
    assert 'class="axis y always_show"' in chart and 'class="axis x' in chart, "with axes"
    assert f">{p95:.4g}</text>" in chart, "and the values printed"
    assert not re.search(r'(?:src|href)="https?:|url\(https?:', page), "self-contained: nothing fetched"
    figures = {k for c in passing.summary["checks"] for k in c.get("measured", {})}
    assert {"latency_p95_ms", "error_ratio_percent", "accuracy_percent"} <= figures
