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
import shutil
import socket
import sys
from collections import Counter
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_html

from opscheck import __version__
from opscheck.catalogue import catalogue
from opscheck.plugin.dependencies import blocked_by, root_causes
from opscheck.plugin.levels import checklist_ids, declared_level, failed_level
from opscheck.plugin.target import loaded_target
from opscheck.record import audit, banner, history, unfinished
from opscheck.record.audit import REPORTS_ENV

RUN_DIR_KEY = pytest.StashKey[Path]()
WRITTEN = pytest.StashKey[list[str]]()  # the artifacts a check kept, by name
SEALED_KEY = pytest.StashKey[list[dict[str, object]]]()  # earlier runs found unfinished and sealed by this one
MIN_FREE_BYTES = 20 << 20  # a run record (report, junit, summary, artifacts) with room to spare
LEVEL_ORDER = ["", "WARNING", "ERROR", "CRITICAL"]
MEASURED = "measured:"  # user_properties key prefix of a figure a check measured
BLOCKED_BY = "blocked_by"  # user_properties key: the root cause (its id) whose part being down failed the check
WAIVED_PROP = "waived"  # set by opscheck.plugin.waivers on a failure a waiver covers: its waiver, in words
WAIVERS_NOTE_KEY = pytest.StashKey[list[str]]()  # the waivers in force and expired, in words, for summary.json


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
def artifact(request: pytest.FixtureRequest) -> Callable[[str, str], Path]:
    """`artifact("daily-statistics.html", page)`: a file of this run's artifacts (a chart, a report page), kept in
    its run record and linked from the check's row of the HTML report."""
    folder = artifacts_folder(request.config)

    def keep(name: str, content: str) -> Path:
        path = folder / name
        path.write_text(content, encoding="utf-8")
        request.node.stash.setdefault(WRITTEN, []).append(name)
        return path

    return keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    """Link what the check kept with `artifact` from its row (the Links column)."""
    report = yield
    assert isinstance(report, pytest.TestReport)
    written = item.stash.get(WRITTEN, [])
    if written and report.when == "call":
        folder = artifacts_folder(item.config).name
        links = [pytest_html.extras.url(f"{folder}/{name}", name=name) for name in written]
        report.extras = [*getattr(report, "extras", []), *links]
    return report


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
    base = reports_base(config)
    started = datetime.now(UTC)
    run_dir = base / run_id_for(target.spec.name, started)
    try:
        base.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(base).free
        if free < MIN_FREE_BYTES:
            raise pytest.UsageError(
                f"the reports folder {base} has {free >> 10} kB free, under the {MIN_FREE_BYTES >> 20} MB a run record "
                "needs: nothing was checked. Free space there, or point --reports-dir (OPSCHECK_REPORTS_DIR) elsewhere"
            )
        run_dir.mkdir()
        unfinished.mark_started(run_dir, target.spec.name, config.option.markexpr or "", started)
        config.stash[SEALED_KEY] = unfinished.seal_abandoned(base)
    except OSError as exc:
        raise pytest.UsageError(
            f"cannot write the run record in {base}: {exc.strerror or exc}. Nothing was checked; "
            "fix the folder or point --reports-dir (OPSCHECK_REPORTS_DIR) elsewhere"
        ) from None
    config.stash[RUN_DIR_KEY] = run_dir
    if not config.getoption("htmlpath", None):
        config.option.htmlpath = str(run_dir / "report.html")
        config.option.self_contained_html = True
    config.option.css = [*(getattr(config.option, "css", None) or []), str(Path(__file__).with_name("report.css"))]
    if not config.option.xmlpath:
        config.option.xmlpath = str(run_dir / "junit.xml")
    config.pluginmanager.register(RunRecord(config, run_dir, started), "opscheck-run-record")
    config.pluginmanager.register(FailureNotes(), "opscheck-failure-notes")


def reports_base(config: pytest.Config) -> Path:
    """Where run folders and the audit chain are: --reports-dir, else $OPSCHECK_REPORTS_DIR, else reports/."""
    return Path(config.getoption("opscheck_reports_dir") or os.environ.get(REPORTS_ENV) or config.rootpath / "reports")


def run_dir(config: pytest.Config) -> Path | None:
    return config.stash.get(RUN_DIR_KEY, None)


class RunRecord:
    """Gathers every check's outcome on the controller and writes summary.json once, at the end."""

    def __init__(self, config: pytest.Config, run_dir: Path, started: datetime) -> None:
        self.config = config
        self.run_dir = run_dir
        self.started = started
        self.results: dict[str, dict[str, object]] = {}
        self.session: pytest.Session | None = None
        self.problems: list[str] = []

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
        waived = dict(getattr(report, "user_properties", ())).get(WAIVED_PROP)
        if waived:  # a known failure, accepted: kept with its level and message, not counted as failed
            entry.update(outcome="waived", waiver=waived, failed_level=str(failed_level(report) or ""))
            entry["message"] = str(report.longrepr)[:2000]
        elif report.failed:
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
            "items": self.config.getoption("opscheck_items", None) or "",
            "waivers": self.config.stash.get(WAIVERS_NOTE_KEY, []),
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
        self.session = session
        tmp = self.run_dir / "summary.json.tmp"
        try:
            tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.run_dir / "summary.json")
            unfinished.mark_finished(self.run_dir)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            self._lost(f"could not write summary.json: {exc.strerror or exc}")

    def _lost(self, what: str) -> None:
        """The record could not be written: one line, and the run fails whatever its checks said, since the
        audit trail no longer shows it (the folder stays marked INCOMPLETE for the next run to seal)."""
        self.problems.append(f"opscheck: the run record in {self.run_dir} is incomplete: {what}. The run fails; "
                             "free space and run again")  # fmt: skip
        if self.session is not None and self.session.exitstatus == pytest.ExitCode.OK:
            self.session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for facts in self.config.stash.get(SEALED_KEY, []):
            terminalreporter.write_line(f"opscheck: an earlier run never finished: {unfinished.describe(facts)}; "
                                        "sealed into the audit chain as incomplete", yellow=True)  # fmt: skip
        for problem in self.problems:
            terminalreporter.write_line(problem, red=True, bold=True)
        terminalreporter.write_line(f"Run record: {self.run_dir}/ (report.html, junit.xml, summary.json)")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Seal the run into the audit chain once every file is written (reports write at session finish)."""
        summary = self.run_dir / "summary.json"
        if not summary.exists():
            return
        try:
            audit.record_run(self.run_dir.parent, self.run_dir, json.loads(summary.read_text(encoding="utf-8")))
            history.write_index(self.run_dir.parent)
        except OSError as exc:
            self._lost(f"could not seal it into {audit.CHAIN}: {exc.strerror or exc}")
            sys.stderr.write(self.problems[-1] + "\n")


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


class FailureNotes:
    """What the HTML banner needs of each check beyond its summary.json entry: the root cause that blocked
    it and its failure's first line (pytest's crash message, not the whole traceback)."""

    def __init__(self) -> None:
        self.notes: dict[str, dict[str, str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        note = self.notes.setdefault(report.nodeid, {})
        blocked_by = dict(report.user_properties).get(BLOCKED_BY)
        if blocked_by:
            note["blocked_by"] = str(blocked_by)
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None:
            note.setdefault("headline", str(crash.message))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session) -> None:
    """The verdict banner first; the checklist view (each manual item this run evidenced) after the counters."""
    checks = _checks_with_notes(session.config)
    blocked = {str(c["nodeid"]): str(c["blocked_by"]) for c in checks if c.get("blocked_by")}
    prefix.insert(0, banner.banner(checks, root_causes(session.config, blocked)))
    if checks:
        postfix.append(checklist_view(checks))


def _checks_with_notes(config: pytest.Config) -> list[dict[str, object]]:
    record = config.pluginmanager.get_plugin("opscheck-run-record")
    notes = config.pluginmanager.get_plugin("opscheck-failure-notes")
    if record is None or notes is None:
        return []
    return [{**notes.notes.get(str(check["nodeid"]), {}), **check} for check in record.results.values()]


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
        colour = f' class="text-{worst.lower()}"' if worst else ""
        names = "<br>".join(html.escape(str(c["nodeid"]).split("::", 1)[-1]) for c in covered)
        row = (
            f"<tr><td>{item.id}</td><td>{html.escape(item.ja)}</td><td>{html.escape(item.en)}</td>"
            f"<td{colour}>{worst or 'OK'} ({counts})</td>"
            f"<td><details><summary>{len(covered)} check(s)</summary>{names}</details></td></tr>"
        )
        rows.append((-LEVEL_ORDER.index(worst), order, row))
    return (
        '<details class="checklist"><summary>Manual items checked in this run (チェックリスト)</summary>'
        '<table class="checklist"><tr><th>ID</th>'
        "<th>マニュアル</th><th>Manual item</th><th>Outcome</th><th>Checks</th></tr>"
        + "".join(row for *_, row in sorted(rows))
        + "</table></details>"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list[str]) -> None:
    # After Result and Test (pytest-html's first two), so the check's name stays in view. Level is the
    # table's initial sort (pyproject's initial_sort): pytest-html sorts a column by its cell's text.
    cells.insert(2, '<th class="sortable" data-column-type="level">Level</th>')
    cells.insert(3, "<th>Manual items</th>")
    cells.insert(4, "<th>Measured</th>")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    level = failed_level(report) if report.failed else declared_level(report)
    items = catalogue()
    titles = [f"{i}: {items[i].ja} / {items[i].en}" for i in checklist_ids(report) if i in items]
    ids = " ".join(checklist_ids(report))
    blocked_by = dict(report.user_properties).get(BLOCKED_BY)
    check = {
        "nodeid": report.nodeid,
        "outcome": "failed" if report.failed else report.outcome,
        "failed_level": str(level or ""),
        "blocked_by": blocked_by,
    }
    # The sort key leads the cell as a comment: pytest-html compares cells as text, the reader never sees it.
    key = html.escape(banner.sort_key(check).replace("--", "- -"))
    if report.failed:
        shown = f'<span class="badge level-{level or "failed"}">{html.escape(str(level or "FAILED").upper())}</span>'
        if blocked_by:
            shown += f'<br><span class="blocked">blocked by {html.escape(str(blocked_by))}</span>'
    else:
        shown = html.escape(str(level or ""))
    cells.insert(2, f'<td class="col-level"><!--{key}-->{shown}</td>')
    cells.insert(3, f'<td title="{html.escape(chr(10).join(titles))}">{html.escape(ids)}</td>')
    figures = "<br>".join(f"{html.escape(k)} = {html.escape(str(v))}" for k, v in measured_figures(report).items())
    cells.insert(4, f"<td>{figures}</td>")
