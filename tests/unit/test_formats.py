"""TAP and Nagios documents from a summary: TAP read back by tap.py, each Nagios state from its cause."""

from __future__ import annotations

import pytest
from tap.parser import Parser

from opscheck.record import formats


def summary(*checks: dict) -> dict:
    failed = [c for c in checks if c["outcome"] in ("failed", "error")]
    by_level: dict[str, int] = {}
    for check in failed:
        by_level[check["failed_level"]] = by_level.get(check["failed_level"], 0) + 1
    return {"target": "t", "selection": "daily", "checks": list(checks), "failed_by_level": by_level}


def check(name: str, outcome: str, level: str = "", **more: str) -> dict:
    return {"nodeid": f"checks/test_x.py::{name}", "outcome": outcome, "failed_level": level, "checklist": ["D1"],
            "message": "found # and \"quotes\"\non two lines", **more}  # fmt: skip


def test_tap_reads_back_one_point_per_check_with_skips_and_waivers():
    text = formats.tap(summary(check("a", "passed"), check("b", "failed", "error"), check("c", "skipped"),
                               check("d", "waived", "error", waiver="D1 waived until 2026-12-10 by y: z")))  # fmt: skip
    points = [line for line in Parser().parse_text(text) if line.category == "test"]
    assert [(p.ok, p.skip, p.todo) for p in points] == [
        (True, False, False), (False, False, False), (True, True, False), (False, False, True)
    ]  # fmt: skip
    assert text.splitlines()[1] == "1..4"


@pytest.mark.parametrize(
    ("checks", "state"),
    [
        ([check("a", "passed")], formats.OK),
        ([check("a", "failed", "warning")], formats.WARNING),
        ([check("a", "failed", "warning"), check("b", "error", "error")], formats.UNKNOWN),
        ([check("a", "error", "error"), check("b", "failed", "critical")], formats.CRITICAL),
        ([check("a", "waived", "critical")], formats.OK),
    ],
)
def test_nagios_state_and_first_line(checks, state):
    assert formats.nagios_state(summary(*checks)) == state
    first = formats.nagios(summary(*checks)).splitlines()[0]
    assert first.startswith(f"OPSCHECK {formats.STATE_NAMES[state]} - t daily: ") and " | checks=" in first
