"""What reaches stdout and the exit status for a machine: `--format json|junit|tap|nagios`, `--quiet-ok`, and
`--exit-codes nagios`.

With `--format`, stdout holds only the document (pytest's own terminal output goes to stderr),
so a CI system or a monitoring agent can read it from a pipe; the run folder is written as ever.
`--quiet-ok` is for cron, which mails whatever a job prints: nothing on success, the summary on failure.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any, TextIO

import pytest
from _pytest.config import create_terminal_writer

from opscheck.plugin.reports import run_dir
from opscheck.record import formats

FORMATS = ("json", "junit", "tap", "nagios")
QUIET_KEY = pytest.StashKey[io.StringIO]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opscheck")
    group.addoption("--format", dest="opscheck_format", choices=FORMATS,
                    help="print only this document on stdout (pytest's output goes to stderr); "
                    "the run folder is still written")  # fmt: skip
    group.addoption("--quiet-ok", dest="opscheck_quiet_ok", action="store_true",
                    help="for cron: nothing when the run passes, the summary of failures when it fails")  # fmt: skip
    group.addoption("--exit-codes", dest="opscheck_exit_codes", choices=("pytest", "nagios"), default="pytest",
                    help="nagios: exit 0 OK, 1 WARNING, 2 ERROR or CRITICAL, 3 UNKNOWN (a part could not be "
                    "judged, or the run could not start)")  # fmt: skip


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Point pytest's terminal output away from stdout once its reporter exists."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or hasattr(config, "workerinput"):
        return
    if config.getoption("opscheck_quiet_ok"):
        config.stash[QUIET_KEY] = io.StringIO()
        reporter._tw = create_terminal_writer(config, config.stash[QUIET_KEY])
    elif config.getoption("opscheck_format"):
        reporter._tw = create_terminal_writer(config, sys.stderr)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Once summary.json and junit.xml are written: the document, or the cron summary (the controller's alone)."""
    if hasattr(config, "workerinput"):
        return
    folder = run_dir(config)
    summary = _summary(folder)
    fmt = config.getoption("opscheck_format")
    if config.getoption("opscheck_quiet_ok"):
        if summary is not None and summary["exit_status"] != 0 and summary["failed_by_level"]:
            _emit(sys.stdout, formats.cron(summary, folder))  # type: ignore[arg-type]
        elif summary is None or summary["exit_status"] != 0:  # nothing checked, or no run: pytest's own words
            _emit(sys.stdout, config.stash.get(QUIET_KEY, io.StringIO()).getvalue())
    elif fmt and summary is not None:
        _emit(sys.stdout, document(fmt, summary, Path(config.option.xmlpath or "")))


def document(fmt: str, summary: dict[str, Any], junit: Path) -> str:
    if fmt == "json":
        return json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    if fmt == "junit":
        return junit.read_text(encoding="utf-8")
    return formats.tap(summary) if fmt == "tap" else formats.nagios(summary) + "\n"


def _emit(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


def _summary(folder: Path | None) -> dict[str, Any] | None:
    file = folder / "summary.json" if folder else None
    return json.loads(file.read_text(encoding="utf-8")) if file and file.exists() else None


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, object, object]:
    """`--exit-codes nagios`: the run's worst state as a monitoring plugin's exit status."""
    if config.getoption("opscheck_exit_codes") != "nagios":
        return (yield)
    try:
        status = yield
    except pytest.UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return formats.UNKNOWN
    summary = _summary(run_dir(config))
    if summary is None or status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return formats.UNKNOWN
    return formats.nagios_state(summary)
