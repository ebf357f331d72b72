"""A run's summary as other tools read it: TAP 13 for test harnesses, a Nagios plugin's output and state.

Written from summary.json alone (like every record), so the document on stdout and the run folder
can never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
FAILED = ("failed", "error")


def tap(summary: dict[str, Any]) -> str:
    """TAP version 13: one test point per check, its level and message as the YAML diagnostic."""
    checks = summary["checks"]
    lines = ["TAP version 13", f"1..{len(checks)}"]
    for number, check in enumerate(checks, 1):
        name = f"[{' '.join(check.get('checklist') or [])}] {check['nodeid']}".replace("#", "\\#")
        if check["outcome"] == "waived":  # a known failure, accepted: TAP's TODO does not fail the run
            lines.append(f"not ok {number} - {name} # TODO {_one_line(check.get('waiver', ''))}")
        elif check["outcome"] == "skipped":
            lines.append(f"ok {number} - {name} # SKIP {_one_line(check.get('message', ''))}")
        elif check["outcome"] in FAILED:
            lines.append(f"not ok {number} - {name}")
            level = check.get("failed_level") or "unlevelled"
            lines += ["  ---", f"  level: {level}", f"  outcome: {check['outcome']}",
                      f"  message: {_yaml_string(check.get('message', ''))}", "  ..."]  # fmt: skip
        else:
            lines.append(f"ok {number} - {name}")
    return "\n".join(lines) + "\n"


def nagios_state(summary: dict[str, Any]) -> int:
    """CRITICAL when a check failed at ERROR or CRITICAL; UNKNOWN when one could not be judged (an error
    before its verdict, or no level); WARNING for warnings alone; OK otherwise."""
    failed = [c for c in summary["checks"] if c["outcome"] in FAILED]
    if any(c["outcome"] == "failed" and c.get("failed_level") in ("error", "critical") for c in failed):
        return CRITICAL
    if any(c["outcome"] == "error" or not c.get("failed_level") for c in failed):
        return UNKNOWN
    return WARNING if failed else OK


def nagios(summary: dict[str, Any]) -> str:
    """A plugin's output: the state line with performance data, then one line per failed check."""
    state = STATE_NAMES[nagios_state(summary)]
    failed = [c for c in summary["checks"] if c["outcome"] in FAILED]
    by_level = summary.get("failed_by_level") or {}
    counts = ", ".join(f"{n} {level}" for level, n in by_level.items())
    what = f"{summary['target']} {summary.get('selection') or 'all checks'}"
    head = f"OPSCHECK {state} - {what}: " + (
        f"{len(failed)} check(s) failed ({counts})" if failed else "no check failed"
    )
    perf = " ".join(
        [f"checks={len(summary['checks'])}", f"failed={len(failed)}"]
        + [f"{level}={by_level.get(level, 0)}" for level in ("warning", "error", "critical")]
    )
    lines = [f"{head} | {perf}"]
    lines += [f"[{(c.get('failed_level') or '?').upper()}] {' '.join(c.get('checklist') or [])} {c['nodeid']}: "
              f"{_one_line(c.get('message', ''))}" for c in failed]  # fmt: skip
    return "\n".join(lines)


def cron(summary: dict[str, Any], run_dir: Path) -> str:
    """What a quiet cron run says when it fails: counts by level, the failed checks worst first, the report."""
    counts = ", ".join(f"{n} {level.upper()}" for level, n in summary["failed_by_level"].items())
    failed = [c for c in summary["checks"] if c["outcome"] in ("failed", "error")]
    order = ("warning", "error", "critical")
    failed.sort(key=lambda c: order.index(c.get("failed_level") or "warning"), reverse=True)
    lines = [f"• [{(c.get('failed_level') or '?').upper()}] {' '.join(c['checklist'])} {c['nodeid']}" for c in failed]
    more = [f"… and {len(lines) - 10} more"] if len(lines) > 10 else []
    head = f"opscheck: {summary['target']} — {summary['selection'] or 'all checks'}: {counts}"
    return "\n".join([head, *lines[:10], *more, f"Report: {run_dir / 'report.html'}"]) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


def _yaml_string(text: str) -> str:
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
