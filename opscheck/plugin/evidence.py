"""T2 — ログ確認: a failed check carries the last lines of the logs that may explain it.

A check names them with `@pytest.mark.logs("app", "frontend")`; the lines go into the failure's
report sections (the HTML report's log pane), with every secret of the target scrubbed, and into one
excerpt per log per run in the run's artifacts, which the report's Links column opens.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest
import pytest_html

from opscheck.plugin.hosts import fleet_of
from opscheck.plugin.logs import log_file
from opscheck.plugin.reports import artifacts_folder
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
        link = _excerpt(artifacts_folder(item.config), name, f"{path}\n\n{text}\n")
        report.extras = [*getattr(report, "extras", []), pytest_html.extras.url(link, name=f"{name} log excerpt")]
    return report


def _excerpt(artifacts: Path, name: str, text: str) -> str:
    """The run's one excerpt of a log (the first failure that reads it writes it), as the report links it."""
    excerpt = artifacts / "logs" / f"{name}.log"
    if not excerpt.exists():
        excerpt.parent.mkdir(exist_ok=True)
        tmp = excerpt.with_name(f".{name}.{os.getpid()}.tmp")  # two workers failing together each write whole
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(excerpt)
    return f"{artifacts.name}/logs/{excerpt.name}"
