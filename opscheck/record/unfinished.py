"""Runs that never finished — killed, crashed, the machine stopped — are marked when they begin and sealed by the
next run, so the audit trail says what happened instead of holding a folder nobody accounts for."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opscheck.record import audit

MARK = "INCOMPLETE"  # in a run folder from its start until its summary is written
ELSEWHERE_GRACE = timedelta(hours=24)  # a run of another machine (a shared reports folder) may still be going


def mark_started(run_dir: Path, target: str | None, selection: str, started: datetime) -> None:
    facts = {"run_id": run_dir.name, "target": target, "selection": selection, "started": started.isoformat(),
             "pid": os.getpid(), "host": socket.gethostname()}  # fmt: skip
    (run_dir / MARK).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")


def mark_finished(run_dir: Path) -> None:
    (run_dir / MARK).unlink(missing_ok=True)


def pending(reports: Path, now: datetime | None = None) -> list[dict[str, Any]]:
    """Folders marked unfinished whose run is not in the chain and is no longer running."""
    if not reports.is_dir():
        return []
    found = []
    for folder in sorted(p for p in reports.iterdir() if (p / MARK).is_file()):
        try:
            facts = json.loads((folder / MARK).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            facts = {}
        facts = {**facts, "run_id": folder.name}
        if not _still_running(facts, now or datetime.now(UTC)):
            found.append(facts)
    recorded = audit.recorded_runs(reports)
    return [f for f in found if f["run_id"] not in recorded]


def seal_abandoned(reports: Path) -> list[dict[str, Any]]:
    """Seal every run that never finished into the chain as incomplete (its folder as it was left); returns them."""
    sealed = []
    for facts in pending(reports):
        entry = {"kind": "run", "run_id": facts["run_id"], "target": facts.get("target"),
                 "selection": facts.get("selection"), "started": facts.get("started"), "finished": None,
                 "exit_status": None, "incomplete": "never finished: killed, crashed, or its machine stopped",
                 "files": audit.file_hashes(reports / facts["run_id"])}  # fmt: skip
        if audit.append(reports, entry, unless_recorded=facts["run_id"]) is not None:
            sealed.append(facts)
    return sealed


def describe(facts: dict[str, Any]) -> str:
    started = str(facts.get("started") or "?")[:19].replace("T", " ")
    who = f"pid {facts['pid']} on {facts['host']}" if "pid" in facts and "host" in facts else "unknown process"
    return f"{facts['run_id']} (started {started} UTC, {who})"


def _still_running(facts: dict[str, Any], now: datetime) -> bool:
    if facts.get("host") != socket.gethostname():
        started = facts.get("started")
        return bool(started) and now - datetime.fromisoformat(started) < ELSEWHERE_GRACE
    try:
        command = Path(f"/proc/{int(facts['pid'])}/cmdline").read_bytes()
    except (KeyError, ValueError, OSError):
        return False
    return b"pytest" in command or b"opscheck" in command
