"""What a run tells the world beyond its folder: a Slack-compatible webhook (what to tell is escalation.py's),
and a node_exporter textfile.

Neither may block or fail the run: the webhook has a short timeout and its failure is reported,
not raised; the textfile is written whole and renamed into place, as the textfile collector asks.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

LEVELS = ("warning", "error", "critical")


def send_webhook(url: str, body: dict[str, str], timeout_s: float) -> str | None:
    """POST the message; None when delivered, otherwise why not (the URL, which holds a token, is never said)."""
    try:
        answer = httpx.post(url, json=body, timeout=timeout_s)
    except httpx.TimeoutException:
        return f"no answer within {timeout_s:g} s"
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None if answer.status_code < 300 else f"HTTP {answer.status_code}"


def textfile(summary: dict[str, Any]) -> str:
    """One gauge per check (1 passed, 0 failed), the run's failures by level, and when it finished."""

    def label(value: object) -> str:
        return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")

    run = f'target="{label(summary["target"])}",selection="{label(summary["selection"] or "all")}"'
    out = [
        "# HELP opscheck_check_status 1 when the check passed in the last run, 0 when it failed.",
        "# TYPE opscheck_check_status gauge",
    ]
    for check in summary["checks"]:
        if check["outcome"] == "skipped":
            continue
        labels = (f'check="{label(check["nodeid"])}",level="{label(check.get("level", ""))}",'
                  f'checklist="{label(" ".join(check["checklist"]))}",{run}')  # fmt: skip
        out.append(f"opscheck_check_status{{{labels}}} {0 if check['outcome'] in ('failed', 'error') else 1}")
    out += ["# HELP opscheck_run_failed_checks Checks failed in the last run, by alert level.",
            "# TYPE opscheck_run_failed_checks gauge"]  # fmt: skip
    out += [f'opscheck_run_failed_checks{{level="{level}",{run}}} {summary["failed_by_level"].get(level, 0)}'
            for level in LEVELS]  # fmt: skip
    out += ["# HELP opscheck_run_timestamp_seconds When the last run finished.",
            "# TYPE opscheck_run_timestamp_seconds gauge",
            f"opscheck_run_timestamp_seconds{{{run}}} {_epoch(summary['finished'])}"]  # fmt: skip
    return "\n".join(out) + "\n"


def write_textfile(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _epoch(iso: str) -> float:
    return round(datetime.fromisoformat(iso).timestamp(), 3)
