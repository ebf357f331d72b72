"""T2 — ログ確認: a failed check links the log lines that explain it.

A check names its logs with `@pytest.mark.logs("app", "frontend")` and may choose the lines that explain its
failure with the `evidence` fixture (`evidence("access", client)`: the attacking client's lines, the 5xx lines, the
top error messages'); the suite's own requests (identity.SUITE_AGENTS) are never shown. Each excerpt is written
once per run into the run folder's artifacts/ (with every secret of the target scrubbed) and linked from each check
that uses it, so two checks reading the same log share one file instead of printing the same lines twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Generator
from pathlib import Path

import pytest
from pytest_html import extras as html_extras

from opscheck.identity import SUITE_AGENTS
from opscheck.plugin.hosts import fleet_of
from opscheck.plugin.logs import log_file
from opscheck.plugin.reports import artifacts_folder
from opscheck.plugin.target import loaded_target

EXCERPT_LINES = 15
READ_LINES = 2000  # the newest lines looked through for the chosen ones: bounded, as every read of a log
CHOSEN = pytest.StashKey[dict[str, tuple[str, ...]]]()


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Callable[..., None]:
    """`evidence(log, *patterns)`: should this check fail, its excerpt of `log` holds the lines matching a pattern
    (regular expressions), not the log's last lines."""

    def choose(log: str, *patterns: str) -> None:
        request.node.stash.setdefault(CHOSEN, {})[log] = patterns

    return choose


def chosen_lines(lines: list[str], patterns: tuple[str, ...], count: int = EXCERPT_LINES) -> list[str]:
    """The newest `count` lines matching a pattern (any line without patterns), the suite's own requests left out."""
    compiled = [re.compile(p) for p in patterns]
    theirs = [line for line in lines if not any(agent in line for agent in SUITE_AGENTS)]
    return [line for line in theirs if not compiled or any(p.search(line) for p in compiled)][-count:]


def _excerpt_name(log: str, patterns: tuple[str, ...]) -> str:
    if not patterns:
        return f"excerpt-{log}.log"
    return f"excerpt-{log}-{hashlib.sha256(chr(0).join(patterns).encode()).hexdigest()[:8]}.log"


def _folder(config: pytest.Config) -> Path | None:
    try:
        return artifacts_folder(config)
    except pytest.fail.Exception:  # no run record (collect-only): the lines go under the failure instead
        return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    report = yield
    assert isinstance(report, pytest.TestReport)
    mark = item.get_closest_marker("logs")
    chosen = item.stash.get(CHOSEN, {})
    names = dict.fromkeys([*(mark.args if mark else ()), *chosen])
    target = loaded_target(item.config)
    if not report.failed or not names or target is None:
        return report
    folder = _folder(item.config)
    for name in names:
        log = log_file(target.spec.logs, name, target.spec.zone(), fleet_of(item.config, target.spec))
        if log is None:
            continue
        patterns = chosen.get(name, ())
        which = f"lines matching {', '.join(patterns)}" if patterns else f"last {EXCERPT_LINES} lines"
        title = f"{name} log ({log.place}): {which}, without the suite's own requests"
        excerpt = folder / _excerpt_name(name, patterns) if folder is not None else None
        if excerpt is None or not excerpt.exists():  # one read per log (and choice) per run, shared by its checks
            text = "\n".join(chosen_lines(log.tail(READ_LINES), patterns)) or "(no such line, or unreadable)"
            for secret in target.secret_values():
                text = text.replace(secret, "***")
            if excerpt is None:
                report.sections.append((title, text))
                continue
            excerpt.write_text(text + "\n")
        report.sections.append((title, f"artifacts/{excerpt.name}"))
        report.extras = [*getattr(report, "extras", []), html_extras.url(f"artifacts/{excerpt.name}", name=title)]
    return report
