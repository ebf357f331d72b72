"""The HTML banner's order and root causes, from summary-shaped check entries (the rootcause contract)."""

from opscheck.record.banner import banner, headline, root_causes, sort_key

REDIS = "Redis at 127.0.0.1:6379"


def _check(nodeid: str, outcome: str = "failed", level: str = "warning", cause: str | None = None) -> dict:
    entry = {"nodeid": nodeid, "outcome": outcome, "level": level, "failed_level": level if outcome == "failed" else ""}
    return {**entry, "blocked_by": cause} if cause else entry


CHECKS = [
    _check("checks/test_a.py::warned"),
    _check("checks/test_b.py::passed", "passed", "critical"),
    _check("checks/test_cache.py::ticks", level="error", cause=REDIS),
    _check("checks/test_c.py::lost", level="critical"),
    _check("checks/test_health.py::redis", level="error", cause=REDIS),
    _check("checks/test_d.py::broken", level="error"),
    _check("checks/test_e.py::skipped", "skipped"),
]


def test_order_is_level_then_root_cause_then_name():
    ordered = [c["nodeid"].split("::")[1] for c in sorted(CHECKS, key=sort_key)]
    assert ordered == ["lost", "ticks", "redis", "broken", "warned", "skipped", "passed"]


def test_root_causes_gathered_from_blocked_by_when_summary_has_none():
    assert root_causes(CHECKS) == [
        {"id": REDIS, "level": "ERROR", "blocks": ["checks/test_cache.py::ticks", "checks/test_health.py::redis"]}
    ]
    stated = [{"id": REDIS, "level": "error", "message": "refused", "remedy": "restart redis", "blocks": []}]
    assert root_causes(CHECKS, stated) == stated


def test_banner_names_worst_level_counts_and_causes():
    page = banner(CHECKS)
    assert (
        '<p class="verdict-line">CRITICAL: 5 of 7 checks failed (1 CRITICAL, 3 ERROR, 1 WARNING); 1 passed; 1 skipped'
        in page
    )
    assert page.startswith('<div id="verdict" class="verdict level-critical">')
    assert f"<b>{REDIS}</b><details><summary>2 check(s) blocked by it</summary>" in page
    failures = page[page.index("Failures, worst first") :]
    assert (
        failures.index("test_c.py::lost") < failures.index("test_cache.py::ticks") < failures.index("test_d.py::broken")
    )
    assert "<h3>Root causes" not in banner([c for c in CHECKS if "blocked_by" not in c]), "none without the contract"
    assert banner([_check("checks/t.py::ok", "passed")]).count("OK: all 1 checks passed") == 1


def test_headline_is_the_message_without_location_or_exception_name():
    assert headline("checks/test_x.py:12: disk full. Manual: clean up\nmore") == "disk full. Manual: clean up"
    assert headline("opscheck.judge.levels.CheckFailure: boom") == "boom"
    assert headline("x" * 500).endswith("…") and len(headline("x" * 500)) == 240
