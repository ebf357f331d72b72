"""The run folder: every run against a target writes `reports/<run-id>/` with report.html, junit.xml, summary.json.

Run IDs hold the UTC second, the target and a random suffix, so two runs (a cron overlap)
never write into the same folder. Only the controller writes; xdist workers report to it.
"""

from __future__ import annotations

import getpass
import html
import json
import os
import secrets
import socket
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opscheck import __version__
from opscheck.catalogue import catalogue
from opscheck.plugin.dependencies import blocked_by, root_causes
from opscheck.plugin.levels import checklist_ids, declared_level, failed_level
from opscheck.plugin.target import loaded_target
from opscheck.record import audit, history
from opscheck.record.audit import REPORTS_ENV

RUN_DIR_KEY = pytest.StashKey[Path]()
LEVEL_COLOURS = {"WARNING": "#b26a00", "ERROR": "#c62828", "CRITICAL": "#6a0000"}
LEVEL_ORDER = ["", "WARNING", "ERROR", "CRITICAL"]
MEASURED = "measured:"  # user_properties key prefix of a figure a check measured


@pytest.fixture
def measured(request: pytest.FixtureRequest):
    """`measured("restore_s", 12.3)`: a figure the check found, kept in summary.json, junit.xml and the report.

    A check that passes still leaves its evidence (an RTO, a p95, a count), so the record shows
    what was seen, not only that nothing failed.
    """

    def record(name: str, value: float | int | str) -> None:
        request.node.user_properties.append((MEASURED + name, value))

    return record


def measured_figures(report: pytest.TestReport) -> dict[str, object]:
    return {k.removeprefix(MEASURED): v for k, v in getattr(report, "user_properties", ()) if k.startswith(MEASURED)}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opscheck").addoption(
        "--reports-dir",
        dest="opscheck_reports_dir",
        metavar="DIR",
        help=f"where run folders are written (default: ${REPORTS_ENV}, else reports/ in the repository)",
    )


def run_id_for(target_name: str, now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{target_name}-{secrets.token_hex(3)}"


WORKER_INPUT = "opscheck_run_dir"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # xdist: workers write artifacts into the controller's run folder
    folder = node.config.stash.get(RUN_DIR_KEY, None)
    if folder is not None:
        node.workerinput[WORKER_INPUT] = str(folder)


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This run's artifacts folder (charts, generated reports), inside its run record."""
    return artifacts_folder(request.config)


def artifacts_folder(config: pytest.Config) -> Path:
    worker_input = getattr(config, "workerinput", None)
    folder = Path(worker_input[WORKER_INPUT]) if worker_input and WORKER_INPUT in worker_input else run_dir(config)
    if folder is None:
        pytest.fail("this run keeps no run record (collect-only?), so it has nowhere to write artifacts")
    out = folder / "artifacts"
    out.mkdir(exist_ok=True)
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Reports are on by default: point pytest-html and junitxml into the run folder unless told otherwise.

    Runs before their own pytest_configure, which opens the files; after the target is loaded.
    """
    target = loaded_target(config)
    if target is None or hasattr(config, "workerinput") or config.option.collectonly:
        return
    base = config.getoption("opscheck_reports_dir") or os.environ.get(REPORTS_ENV) or config.rootpath / "reports"
    started = datetime.now(UTC)
    run_dir = Path(base) / run_id_for(target.spec.name, started)
    run_dir.mkdir(parents=True)
    config.stash[RUN_DIR_KEY] = run_dir
    if not config.getoption("htmlpath", None):
        config.option.htmlpath = str(run_dir / "report.html")
        config.option.self_contained_html = True
        config.option.css = [*(getattr(config.option, "css", None) or []), str(Path(__file__).with_name("report.css"))]
    if not config.option.xmlpath:
        config.option.xmlpath = str(run_dir / "junit.xml")
    config.pluginmanager.register(RunRecord(config, run_dir, started), "opscheck-run-record")


def run_dir(config: pytest.Config) -> Path | None:
    return config.stash.get(RUN_DIR_KEY, None)


class RunRecord:
    """Gathers every check's outcome on the controller and writes summary.json once, at the end."""

    def __init__(self, config: pytest.Config, run_dir: Path, started: datetime) -> None:
        self.config = config
        self.run_dir = run_dir
        self.started = started
        self.results: dict[str, dict[str, object]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.results.setdefault(
            report.nodeid,
            {"nodeid": report.nodeid, "outcome": "passed", "duration_s": 0.0, "message": ""},
        )
        entry["duration_s"] = round(float(entry["duration_s"]) + report.duration, 3)  # type: ignore[arg-type]
        entry["level"] = str(declared_level(report) or "")
        entry["checklist"] = checklist_ids(report)
        if measured_figures(report):
            entry["measured"] = measured_figures(report)
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["failed_level"] = str(failed_level(report) or "")
            entry["message"] = str(report.longrepr)[:2000]
            if blocked_by(report):
                entry["blocked_by"] = blocked_by(report)
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
            entry["message"] = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        target = loaded_target(self.config)
        checks = list(self.results.values())
        totals: dict[str, int] = {}
        for check in checks:
            totals[str(check["outcome"])] = totals.get(str(check["outcome"]), 0) + 1
        failed_by_level: dict[str, int] = {}
        for check in checks:
            if check["outcome"] in ("failed", "error"):
                level = str(check.get("failed_level") or "unlevelled")
                failed_by_level[level] = failed_by_level.get(level, 0) + 1
        summary = {
            "schema": "opscheck.summary/1",
            "run_id": self.run_dir.name,
            "target": target.spec.name if target else None,
            "target_file": str(target.path) if target else None,
            "selection": self.config.option.markexpr or "",
            "fail_on": self.config.getoption("opscheck_fail_on"),
            "started": self.started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "exit_status": int(session.exitstatus),
            "totals": totals,
            "failed_by_level": failed_by_level,
            "checks": checks,
            "root_causes": root_causes(self.config, {str(c["nodeid"]): str(c["blocked_by"]) for c in checks
                                                     if "blocked_by" in c}),
        }  # fmt: skip
        tmp = self.run_dir / "summary.json.tmp"
        tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.run_dir / "summary.json")

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.write_line(f"Run record: {self.run_dir}/ (report.html, junit.xml, summary.json)")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Seal the run into the audit chain once every file is written (reports write at session finish)."""
        summary = self.run_dir / "summary.json"
        if summary.exists():
            audit.record_run(self.run_dir.parent, self.run_dir, json.loads(summary.read_text(encoding="utf-8")))
            history.write_index(self.run_dir.parent)


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict[str, object], config: pytest.Config) -> None:
    """The HTML report's environment table: what was checked, by whom, from where. Never a secret."""
    target = loaded_target(config)
    if target is None:
        return
    metadata.clear()
    metadata.update(
        {
            "Target": f"{target.spec.name} ({target.path})",
            "Selection": config.option.markexpr or "(all checks)",
            "Fail on": config.getoption("opscheck_fail_on"),
            "Operator": _operator(),
            "Host": socket.gethostname(),
            "opscheck": __version__,
        }
    )


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report) -> None:
    """What an operator needs first: against what, and which part of the manual."""
    config = report.config
    target = loaded_target(config)
    selection = config.option.markexpr or "all checks"
    report.title = f"opscheck: {target.spec.name if target else '?'} — {selection}"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session) -> None:
    """The checklist view: each manual item this run evidenced, in both wordings, with its checks' outcomes."""
    record = session.config.pluginmanager.get_plugin("opscheck-run-record")
    if record is not None:
        postfix.append(checklist_view(list(record.results.values())))


def checklist_view(checks: list[dict[str, object]]) -> str:
    """One row per manual item the run evidenced, failed items first (worst first), then in the manual's order."""
    by_item: dict[str, list[dict[str, object]]] = {}
    for check in checks:
        for item in check.get("checklist") or []:  # type: ignore[attr-defined]
            by_item.setdefault(str(item), []).append(check)
    rows = []
    for order, item in enumerate(catalogue().values()):
        covered = by_item.get(item.id)
        if not covered:
            continue
        failed = [c for c in covered if c["outcome"] in ("failed", "error")]
        counts = ", ".join(f"{n} {o}" for o, n in sorted(Counter(str(c["outcome"]) for c in covered).items()))
        worst = max((str(c.get("failed_level") or "").upper() for c in failed), key=LEVEL_ORDER.index, default="")
        colour = f' style="color:{LEVEL_COLOURS[worst]};font-weight:bold"' if worst in LEVEL_COLOURS else ""
        names = "<br>".join(html.escape(str(c["nodeid"]).split("::", 1)[-1]) for c in covered)
        row = (
            f"<tr><td>{item.id}</td><td>{html.escape(item.ja)}</td><td>{html.escape(item.en)}</td>"
            f"<td{colour}>{worst or 'OK'} ({counts})</td>"
            f"<td><details><summary>{len(covered)} check(s)</summary>{names}</details></td></tr>"
        )
        rows.append((-LEVEL_ORDER.index(worst), order, row))
    style = "<style>table.checklist td, table.checklist th {padding: 2px 8px; text-align: left}</style>"
    return (
        f'{style}<h2>Manual items checked in this run (チェックリスト)</h2><table class="checklist"><tr><th>ID</th>'
        "<th>マニュアル</th><th>Manual item</th><th>Outcome</th><th>Checks</th></tr>"
        + "".join(row for *_, row in sorted(rows))
        + "</table>"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list[str]) -> None:
    # After Result and Test (pytest-html's first two), so the check's name stays in view.
    cells.insert(2, "<th>Level</th>")
    cells.insert(3, "<th>Manual items</th>")
    cells.insert(4, "<th>Measured</th>")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    level = failed_level(report) if report.failed else declared_level(report)
    items = catalogue()
    titles = [f"{i}: {items[i].ja} / {items[i].en}" for i in checklist_ids(report) if i in items]
    ids = " ".join(checklist_ids(report))
    if report.failed and level is not None:
        style = f'style="color:{LEVEL_COLOURS[level.name]};font-weight:bold"'
        cells.insert(2, f"<td {style}>{level.name}</td>")
    else:
        cells.insert(2, f"<td>{html.escape(str(level or ''))}</td>")
    cells.insert(3, f'<td title="{html.escape(chr(10).join(titles))}">{html.escape(ids)}</td>')
    figures = "<br>".join(f"{html.escape(k)} = {html.escape(str(v))}" for k, v in measured_figures(report).items())
    cells.insert(4, f"<td>{figures}</td>")
