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
    assert failed == {"alert_level": "error", "checklist": "D1 S1 S2", "failed_level": "error"}

    page = (run.run_dir / "report.html").read_text()
    assert "<th>Level</th>" in page and "<th>Manual items</th>" in page
    rows = report_rows(page)
    row = rows["checks/test_health.py::test_component_reports_healthy[monitoring/health]"]
    assert "alerts log" in row and "artifacts/excerpt-alerts.log" in row, "T2: the failure links the logs' excerpt"
    assert (run.run_dir / "artifacts" / "excerpt-alerts.log").is_file(), "written once, into the run record"
    assert ">ERROR</td>" in row and "D1: システム全体のヘルスチェック実行 / Whole-system health check" in row
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
    assert "checks passed per run" in page and "p95 latency (D10)" in page, "trend charts of the key figures"
    figures = {k for c in passing.summary["checks"] for k in c.get("measured", {})}
    assert {"latency_p95_ms", "error_ratio_percent", "accuracy_percent"} <= figures
