"""Alert levels: every check declares one, a failure reports at it, and `--fail-on` decides the exit status.

Level and checklist IDs travel in `user_properties`, the one part of a report that
xdist carries from worker to controller and junitxml writes as properties.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Generator

import pytest

from opscheck.catalogue import catalogue
from opscheck.errors import ProbeError
from opscheck.judge.causes import blocked_count
from opscheck.judge.levels import CheckFailure, Level
from opscheck.plugin.dependencies import blocked_by, root_causes
from opscheck.plugin.target import loaded_target

LEVEL_PROP = "alert_level"
IDS_PROP = "checklist"
FAILED_PROP = "failed_level"
SCHEDULES = (
    "daily", "morning", "intraday", "evening", "weekly", "monthly", "post_deploy",
    "post_restore", "post_maintenance", "post_stop", "security", "load", "drill",
)  # fmt: skip
MARKEXPR_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opscheck").addoption(
        "--fail-on",
        dest="opscheck_fail_on",
        default="error",
        choices=[str(level) for level in Level],
        help="exit non-zero when a check fails at this level or above (default: error); "
        "lower-level failures are still shown",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Refuse `-m dayly` before anything starts: a mistyped schedule must not select nothing and pass."""
    if config.inipath is None:
        return  # no configuration, so no marks to judge by: pytest_target says what to do
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    words = set(MARKEXPR_WORDS.findall(config.option.markexpr or "")) - {"and", "or", "not"}
    unknown = sorted(words - known)
    if unknown:
        schedules = ", ".join(SCHEDULES)
        raise pytest.UsageError(f"-m names unknown mark(s) {', '.join(unknown)}; schedules are: {schedules}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Verdict(config), "opscheck-verdict")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if loaded_target(config) is None:
        return
    items_known = catalogue()
    problems = []
    for item in items:
        level_mark = item.get_closest_marker("level")
        ids_mark = item.get_closest_marker("checklist")
        if level_mark is None or ids_mark is None or not ids_mark.args:
            problems.append(f"{item.nodeid}: every check needs @pytest.mark.level(...) and @pytest.mark.checklist(...)")
            continue
        try:
            level = Level.parse(level_mark.args[0])
        except ValueError as exc:
            problems.append(f"{item.nodeid}: {exc}")
            continue
        unknown = [i for i in ids_mark.args if i not in items_known]
        if unknown:
            problems.append(f"{item.nodeid}: checklist names unknown item(s) {', '.join(unknown)}")
        if not any(item.get_closest_marker(s) for s in SCHEDULES):
            problems.append(f"{item.nodeid}: no schedule mark ({', '.join(SCHEDULES)})")
        item.add_marker(str(level))
        item.user_properties.append((LEVEL_PROP, str(level)))
        item.user_properties.append((IDS_PROP, " ".join(ids_mark.args)))
    if problems:
        raise pytest.UsageError("badly declared check(s):\n  " + "\n  ".join(problems))


def declared_level(report: pytest.TestReport) -> Level | None:
    props = dict(getattr(report, "user_properties", ()))
    return Level.parse(props[LEVEL_PROP]) if LEVEL_PROP in props else None


def failed_level(report: pytest.TestReport) -> Level | None:
    props = dict(getattr(report, "user_properties", ()))
    name = props.get(FAILED_PROP) or props.get(LEVEL_PROP)
    return Level.parse(name) if name else None


def checklist_ids(report: pytest.TestReport) -> list[str]:
    return dict(getattr(report, "user_properties", ())).get(IDS_PROP, "").split()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    report = yield
    assert isinstance(report, pytest.TestReport)
    if not report.failed or LEVEL_PROP not in dict(item.user_properties):
        return report
    level = Level.parse(dict(item.user_properties)[LEVEL_PROP])
    if call.excinfo is not None:
        exc = call.excinfo.value
        if isinstance(exc, CheckFailure):
            level = exc.level
        if isinstance(exc, AssertionError | ProbeError):
            # The check's own message says what was expected, found and what to do; the
            # traceback of a check is noise at 09:00.
            report.longrepr = f"{report.location[0]}:{report.location[1] + 1}: {_first_paragraph(exc)}"
    item.user_properties = [p for p in item.user_properties if p[0] != FAILED_PROP]
    item.user_properties.append((FAILED_PROP, str(level)))
    report.user_properties = list(item.user_properties)
    return report


def _first_paragraph(exc: BaseException) -> str:
    """An assert's message without pytest's `assert …` re-statement beneath it."""
    text = str(exc)
    return text.split("\nassert ", 1)[0].strip() or type(exc).__name__


class Verdict:
    """Collects failures (also from xdist workers) and turns them into the summary and the exit status."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.fail_on = Level.parse(config.getoption("opscheck_fail_on"))
        self.failures: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failures.append(report)

    def worst(self) -> Level | None:
        levels = [failed_level(r) for r in self.failures]
        return max((lv for lv in levels if lv is not None), default=None)

    @pytest.hookimpl(tryfirst=True)  # first: the run record and the reports must see the final status
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        unlevelled = [r for r in self.failures if failed_level(r) is None]
        if exitstatus == pytest.ExitCode.TESTS_FAILED and self.failures and not unlevelled:
            worst = self.worst()
            if worst is not None and worst < self.fail_on:
                session.exitstatus = pytest.ExitCode.OK

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int) -> None:
        target = loaded_target(self.config)
        if target is None:
            return
        write = terminalreporter.write_line
        if self.config.option.collectonly:  # listed, not run: no verdict, and pytest's own exit status
            terminalreporter.write_line(
                f"opscheck: {target.spec.name}: collected only, nothing run (exit {exitstatus})"
            )
            return
        ran = sum(len(terminalreporter.stats.get(k, [])) for k in ("passed", "failed", "error", "skipped", "waived"))
        if not ran:
            selection = self.config.option.markexpr or "all checks"
            terminalreporter.write_sep("=", f"opscheck: {target.spec.name}: NOTHING WAS CHECKED", red=True, bold=True)
            write(f"No check matches the selection '{selection}': nothing was verified, so the run fails (exit 5).")
            return
        count = len(self.failures)
        title = f"opscheck: {target.spec.name}: " + (f"{count} check(s) failed" if count else "no check failed")
        terminalreporter.write_sep("=", title, red=bool(count), green=not count, bold=True)
        wrap = Wrapper(write, self.config.get_terminal_writer().fullwidth)
        blocked = {r.nodeid: blocked_by(r) for r in self.failures if blocked_by(r)}
        for cause in root_causes(self.config, blocked):
            level = Level.parse(cause["level"])
            wrap(f"ROOT CAUSE — {level.name} — {cause['message']}", **COLOURS[level])
            wrap(f"the manual: {cause['remedy']}", indent="    ")
            under = [r for r in self.failures if r.nodeid in cause["blocks"]]
            wrap(blocked_count(len(under)) + (":" if under else ""), indent="    ")
            for report in sorted(under, key=lambda r: -(failed_level(r) or 0)):
                wrap(f"{_label(report)} {report.nodeid}", indent="      ", **COLOURS.get(failed_level(report), {}))
        independent = [r for r in self.failures if r.nodeid not in blocked]
        for level in sorted(Level, reverse=True):
            at_level = [r for r in independent if failed_level(r) == level]
            if not at_level:
                continue
            wrap(f"{level.name} ({len(at_level)}): {level.response}", **COLOURS[level])
            for report in at_level:
                wrap(f"[{' '.join(checklist_ids(report))}] {report.nodeid}", indent="  ")
                wrap(_summary_line(report), indent="      ")
        unlevelled = [r for r in independent if failed_level(r) is None]
        for report in unlevelled:
            wrap(f"{report.nodeid}: {_summary_line(report)}", indent="  ")
        worst = self.worst()
        if worst is not None:
            verdict = "fails" if worst >= self.fail_on else "passes"
            write(f"Worst failure: {worst.name}; the run {verdict} at --fail-on={self.fail_on}.")


# Distinct on any terminal: CRITICAL inverted red, ERROR red, WARNING yellow.
COLOURS: dict[Level | None, dict[str, bool]] = {
    Level.CRITICAL: {"red": True, "bold": True, "invert": True},
    Level.ERROR: {"red": True, "bold": True},
    Level.WARNING: {"yellow": True, "bold": True},
}


class Wrapper:
    """Lines wrapped to the terminal's width, continuation lines indented under their first."""

    def __init__(self, write, width: int) -> None:
        self.write = write
        self.width = max(width, 40)

    def __call__(self, text: str, indent: str = "", **markup: bool) -> None:
        lines = textwrap.wrap(
            text,
            self.width,
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [indent]
        for line in lines:
            self.write(line, **markup)


def _label(report: pytest.TestReport) -> str:
    level = failed_level(report)
    return f"[{' '.join(checklist_ids(report))}] {level.name if level else 'FAILED'}"


def _summary_line(report: pytest.TestReport) -> str:
    """The verdict's one line for a failure: the check's own message without its `file:line:` prefix,
    or, for anything else (an error in a fixture), the last line of what pytest reported."""
    text = str(report.longrepr) if report.longrepr else "failed"
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "failed"
    line = lines[0] if ": " in lines[0] and report.location[0] in lines[0] else lines[-1]
    return line.split(": ", 1)[1] if line.startswith(report.location[0]) else line
