"""Runs that never finished — killed, crashed, the machine stopped — are marked when they begin and sealed by the
next run, so the audit trail says what happened instead of holding a folder nobody accounts for."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from opscheck.record import audit

MARK = "INCOMPLETE"  # in a run folder from its start until its summary is written
ELSEWHERE_GRACE = timedelta(hours=24)  # a run of another machine (a shared reports folder) may still be going
# The mark of each run this process is making, held open and locked until it finishes: the kernel drops the lock
# when the process ends however it ends, so a lock that can be taken means the run is over.
_HELD: dict[Path, IO[str]] = {}


def mark_started(run_dir: Path, target: str | None, selection: str, started: datetime) -> None:
    facts = {"run_id": run_dir.name, "target": target, "selection": selection, "started": started.isoformat(),
             "pid": os.getpid(), "host": socket.gethostname()}  # fmt: skip
    mark = (run_dir / MARK).open("w", encoding="utf-8")
    fcntl.flock(mark, fcntl.LOCK_EX | fcntl.LOCK_NB)
    mark.write(json.dumps(facts, indent=2) + "\n")
    mark.flush()
    _HELD[run_dir] = mark


def mark_finished(run_dir: Path) -> None:
    (run_dir / MARK).unlink(missing_ok=True)
    if (held := _HELD.pop(run_dir, None)) is not None:
        held.close()


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
        if not _still_running(folder / MARK, facts, now or datetime.now(UTC)):
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


def _still_running(mark: Path, facts: dict[str, Any], now: datetime) -> bool:
    """On this machine, whether the run still holds its mark's lock (not its pid's name: a pid is reused, and a
    run started by a wrapper has no `pytest` in its command line); of another machine, whether it began within
    the grace."""
    if facts.get("host") != socket.gethostname():
        started = facts.get("started")
        return bool(started) and now - datetime.fromisoformat(started) < ELSEWHERE_GRACE
    try:
        with mark.open(encoding="utf-8") as probe:
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False
