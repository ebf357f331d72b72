"""Waivers (InSpec's): a known failure of a manual item, accepted by someone until a date, shows as WAIVED.

A waiver is recorded with `opscheck waive ITEM --until DATE --why … --by …` in the audit chain. A check
whose every item is waived and in force still runs and still fails, but its failure is reported as
WAIVED (pytest's xfail, which does not fail the run) with the waiver's reason and expiry; its level and
message stay in summary.json. A waiver past its date stops applying, and every report says so.
"""

from __future__ import annotations

import html
from collections.abc import Generator
from datetime import date, datetime
from typing import Any

import pytest

from opscheck.plugin.levels import IDS_PROP
from opscheck.plugin.reports import WAIVED_PROP, WAIVERS_NOTE_KEY, reports_base
from opscheck.plugin.target import loaded_target
from opscheck.record import audit

WAIVERS_KEY = pytest.StashKey[tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]]()


def pytest_configure(config: pytest.Config) -> None:
    """Read the chain once: the waivers in force and those that have expired, by item."""
    target = loaded_target(config)
    if target is None or config.option.collectonly:
        return
    today = datetime.now(target.spec.zone()).date()
    found = audit.waivers(reports_base(config))
    active = {item: w for item, w in found.items() if date.fromisoformat(w["until"]) >= today}
    expired = {item: w for item, w in found.items() if item not in active}
    config.stash[WAIVERS_KEY] = (active, expired)
    config.stash[WAIVERS_NOTE_KEY] = [f"{item} {describe(w)}" for item, w in active.items()] + [
        f"{item} EXPIRED {describe(w)}" for item, w in expired.items()
    ]


def describe(waiver: dict[str, Any]) -> str:
    return f"waived until {waiver['until']} by {waiver['by']}: {waiver['why']}"


@pytest.hookimpl(wrapper=True, tryfirst=True)  # the outermost wrapper: levels' has set the level and message
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    """A failure every item of which is waived becomes WAIVED, its level and message kept."""
    report = yield
    assert isinstance(report, pytest.TestReport)
    active, _ = item.config.stash.get(WAIVERS_KEY, ({}, {}))
    ids = dict(item.user_properties).get(IDS_PROP, "").split()
    if not report.failed or not ids or not all(i in active for i in ids):
        return report
    words = "; ".join(f"{i} {describe(active[i])}" for i in ids)
    report.outcome = "skipped"
    report.wasxfail = f"WAIVED {words}"  # type: ignore[attr-defined]
    report.user_properties = [*report.user_properties, (WAIVED_PROP, words)]
    return report


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    if WAIVED_PROP in dict(getattr(report, "user_properties", ())):
        return "waived", "W", "WAIVED"
    return None


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for line in lines(config, terminalreporter.stats.get("waived", [])):
        terminalreporter.write_line(line, yellow=True)


def lines(config: pytest.Config, waived_reports: list[pytest.TestReport]) -> list[str]:
    """The waived failures, and the waivers that expired (and so no longer apply), in words."""
    _, expired = config.stash.get(WAIVERS_KEY, ({}, {}))
    out = [f"WAIVED [{' '.join(dict(r.user_properties)[IDS_PROP].split())}] {r.nodeid}: "
           f"{dict(r.user_properties)[WAIVED_PROP]}" for r in waived_reports]  # fmt: skip
    out += [f"EXPIRED waiver of {item} (until {w['until']}, by {w['by']}: {w['why']}): no longer applied"
            for item, w in expired.items()]  # fmt: skip
    return out


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    found = lines(session.config, reporter.stats.get("waived", []) if reporter else [])
    if found:
        postfix.append("<h2>Waivers</h2><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in found) + "</ul>")
