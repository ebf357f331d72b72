"""`--settle SECONDS` (Goss's --retry-timeout): after a deploy, a restore or a maintenance window, a platform
takes a while to come back; the post_deploy, post_restore and post_maintenance checks that fail are run again,
every `--settle-sleep` seconds, until they pass or the window (one for the whole run, from its start) is over.

Only the last attempt decides the outcome; every attempt is kept in the check's record (its measured figures:
how many attempts, how long it took, what the first failure said), so a pass after settling is never a clean pass.
"""

from __future__ import annotations

import time

import pytest
from _pytest.runner import runtestprotocol

from opscheck.plugin.reports import MEASURED

SETTLING = ("post_deploy", "post_restore", "post_maintenance")
DEADLINE_KEY = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opscheck")
    group.addoption("--settle", dest="opscheck_settle", type=float, default=0.0, metavar="SECONDS",
                    help=f"{', '.join(SETTLING)}: run failing checks again until they pass or SECONDS after the "
                    "run began (default 0: no retry)")  # fmt: skip
    group.addoption("--settle-sleep", dest="opscheck_settle_sleep", type=float, default=1.0, metavar="SECONDS",
                    help="the pause between attempts (default 1)")  # fmt: skip


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[DEADLINE_KEY] = time.monotonic() + session.config.getoption("opscheck_settle")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    config = item.config
    if config.getoption("opscheck_settle") <= 0 or not any(item.get_closest_marker(m) for m in SETTLING):
        return None
    pause, deadline = config.getoption("opscheck_settle_sleep"), config.stash[DEADLINE_KEY]
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    started, attempts, first_failure, log = time.monotonic(), 0, "", []
    while True:
        attempts += 1
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        failed = next((r for r in reports if r.failed), None)
        log.append(f"{'failed' if failed else 'passed'} at {time.monotonic() - started:.1f} s")
        if failed is None or time.monotonic() + pause >= deadline:
            break
        first_failure = first_failure or str(failed.longrepr).splitlines()[0]
        time.sleep(pause)
    if attempts > 1:
        took = round(time.monotonic() - started, 1)
        figures = [(MEASURED + "settle_attempts", attempts), (MEASURED + "settle_s", took),
                   (MEASURED + "settle_first_failure", first_failure),
                   (MEASURED + "settle_log", "; ".join(log))]  # fmt: skip
        for report in reports:
            report.user_properties = [*report.user_properties, *figures]
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_terminal_summary(terminalreporter) -> None:
    """Every check that needed more than one attempt, and how it ended: settling is said, never hidden."""
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            figures = {k.removeprefix(MEASURED): v for k, v in getattr(report, "user_properties", ())
                       if k.startswith(MEASURED + "settle_")}  # fmt: skip
            if report.when == "call" and figures:
                terminalreporter.write_line(
                    f"SETTLE {report.nodeid}: {outcome} after {figures['settle_attempts']} attempts in "
                    f"{figures['settle_s']} s; first failure: {figures['settle_first_failure']}"
                )
