"""T2 — ログ確認: a failed check carries the last lines of the logs that may explain it.

A check names them with `@pytest.mark.logs("app", "frontend")`; the lines go into the failure's
report sections (the HTML report's log pane), with every secret of the target scrubbed.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from opscheck.plugin.hosts import fleet_of
from opscheck.plugin.logs import log_file
from opscheck.plugin.target import loaded_target

TAIL_LINES = 15


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    report = yield
    assert isinstance(report, pytest.TestReport)
    mark = item.get_closest_marker("logs")
    target = loaded_target(item.config)
    if not report.failed or mark is None or target is None:
        return report
    for name in mark.args:
        log = log_file(target.spec.logs, name, target.spec.zone(), fleet_of(item.config, target.spec))
        if log is None:
            continue
        path = log.place
        text = "\n".join(log.tail(TAIL_LINES)) or "(empty or unreadable)"
        for secret in target.secret_values():
            text = text.replace(secret, "***")
        report.sections.append((f"last {TAIL_LINES} lines of the {name} log ({path})", text))
    return report
