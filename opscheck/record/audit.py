"""The audit chain: reports/audit.jsonl, one line per run, each holding the hash of the line before it.

A line records the run (target, selection, times, exit status) and the SHA-256 of every file
its folder holds. `verify` recomputes all of it, so an edited report, a deleted run, and a
line removed, altered or moved are each named; a new line can only be appended, under a lock,
so two runs finishing together (a cron overlap) both land intact.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from opscheck.digests import sha256_of

CHAIN = "audit.jsonl"
REPORTS_ENV = "OPSCHECK_REPORTS_DIR"
GENESIS = "0" * 64


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below `folder`, by path relative to it."""
    return {str(p.relative_to(folder)): sha256_of(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _line_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def append(reports: Path, entry: dict[str, Any], unless_recorded: str | None = None) -> dict[str, Any] | None:
    """Append one record to the chain, linked to the last line, under an exclusive lock; with `unless_recorded`,
    nothing when that run is already in the chain (two runs sealing the same abandoned folder).

    A line is written whole or not at all: on a full disk the file is cut back to where it was, so the chain
    never ends in half a line, and the OSError says why."""
    reports.mkdir(parents=True, exist_ok=True)
    with open(reports / "audit.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = GENESIS
        chain = reports / CHAIN
        if chain.exists():
            lines = chain.read_text(encoding="utf-8").splitlines()
            if unless_recorded and any(json.loads(line).get("run_id") == unless_recorded for line in lines):
                return None
            if lines:
                previous = json.loads(lines[-1])["hash"]
        record = {**entry, "previous": previous}
        record["hash"] = _line_hash(record)
        _append_whole(chain, (json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n").encode())
    return record


def _append_whole(chain: Path, line: bytes) -> None:
    fd = os.open(chain, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    size = os.fstat(fd).st_size
    try:
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError:
        os.ftruncate(fd, size)
        raise
    finally:
        os.close(fd)


def record_run(reports: Path, run_dir: Path, summary: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "kind": "run",
        "run_id": run_dir.name,
        "target": summary.get("target"),
        "selection": summary.get("selection"),
        "started": summary.get("started"),
        "finished": summary.get("finished"),
        "exit_status": summary.get("exit_status"),
        "failed_by_level": summary.get("failed_by_level"),
        "files": file_hashes(run_dir),
    }
    return append(reports, entry)


ATTESTATIONS = "attestations"


def attest(reports: Path, item: str, by: str, note: str = "", evidence: list[Path] | None = None,
           at: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """Record that a person vouches for a manual item (a plan reviewed, a DR plan read), with copies of
    the evidence they name, into the same chain as the runs: it can be added to, never quietly edited."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    folder = reports / ATTESTATIONS / f"{moment:%Y%m%dT%H%M%SZ}-{item}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    for path in evidence or []:
        shutil.copy2(path, folder / path.name)
    entry = {"kind": "attestation", "item": item, "by": by, "note": note, "at": moment.isoformat(),
             "folder": str(folder.relative_to(reports)), "files": file_hashes(folder)}  # fmt: skip
    return append(reports, entry)


def latest_attestation(reports: Path, item: str) -> dict[str, Any] | None:
    """The newest attestation of `item` in the chain (whether the chain is intact is `verify`'s to say)."""
    found = [r for r in _records(reports) if r.get("kind") == "attestation" and r.get("item") == item]
    return found[-1] if found else None


def stale_attestation(reports: Path, item: str, title: str, limit_days: float) -> tuple[dict[str, Any] | None, str]:
    """The latest attestation of `item`, and why it does not stand ("" when it does): none, or too old."""
    latest = latest_attestation(reports, item)
    how = f"opscheck attest {item} --by NAME --note '…' --evidence FILE --reports-dir {reports}"
    if latest is None:
        return None, f"no one has attested {item} ({title}) in {reports / CHAIN}. Manual: do it, then: {how}"
    age_days = (datetime.now(UTC) - datetime.fromisoformat(latest["at"])).total_seconds() / 86400
    latest = {**latest, "age_days": round(age_days, 1)}
    if age_days <= limit_days:
        return latest, ""
    return latest, (
        f"{item} ({title}) was last attested {age_days:.0f} days ago by {latest['by']} (at most {limit_days:g} "
        f"days): {latest.get('note') or 'no note'}. Manual: do it again, then: {how}"
    )


def waive(
    reports: Path, item: str, until: date, why: str, by: str, at: datetime | None = None
) -> dict[str, Any] | None:
    """Record a waiver (InSpec's): a known failure of `item` does not fail runs until `until` (inclusive), with
    who accepted it and why, in the chain, so it can be added to but never quietly widened or back-dated."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    entry = {"kind": "waiver", "item": item, "until": until.isoformat(), "why": why, "by": by, "at": moment.isoformat()}
    return append(reports, entry)


def waivers(reports: Path) -> dict[str, dict[str, Any]]:
    """The newest waiver of each item (a later one replaces an earlier one), whether in force or expired."""
    return {r["item"]: r for r in _records(reports) if r.get("kind") == "waiver"}


def prune(reports: Path, keep_days: float, now: datetime | None = None) -> list[str]:
    """Remove the folders of runs finished more than `keep_days` ago, and say so in the chain, so that
    `verify` knows they were pruned (and when, and by which rule) rather than deleted."""
    cutoff = (now or datetime.now(UTC)).timestamp() - keep_days * 86400
    records = _records(reports)
    pruned = set().union(*(r.get("runs", []) for r in records if r.get("kind") == "prune"))
    old = [r["run_id"] for r in records if r.get("kind") == "run" and r["run_id"] not in pruned
           and r.get("finished") and datetime.fromisoformat(r["finished"]).timestamp() < cutoff]  # fmt: skip
    for run_id in old:
        shutil.rmtree(reports / run_id, ignore_errors=True)
    if old:
        append(reports, {"kind": "prune", "runs": old, "keep_days": keep_days,
                         "at": (now or datetime.now(UTC)).isoformat()})  # fmt: skip
    return old


def recorded_runs(reports: Path) -> set[str]:
    return {r["run_id"] for r in _records(reports) if r.get("kind") == "run"}


def _records(reports: Path) -> list[dict[str, Any]]:
    chain = reports / CHAIN
    if not chain.exists():
        return []
    out = []
    for line in chain.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


@dataclass(frozen=True)
class Finding:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}" if self.line else self.problem


def verify(reports: Path) -> tuple[int, list[Finding]]:
    """(records checked, findings): empty findings means every run is intact and the chain unbroken."""
    chain = reports / CHAIN
    if not chain.exists():
        return 0, [Finding(0, f"no audit chain at {chain}")]
    findings: list[Finding] = []
    pruned = {run for r in _records(reports) if r.get("kind") == "prune" and r.get("hash") == _line_hash(r)
              for run in r.get("runs", [])}  # fmt: skip
    previous = GENESIS
    recorded: set[str] = set()
    lines = chain.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            findings.append(Finding(number, "not a JSON record (edited or cut short)"))
            previous = None  # type: ignore[assignment]
            continue
        if record.get("hash") != _line_hash(record):
            findings.append(Finding(number, f"record {record.get('run_id', '?')} was altered after it was written"))
        if previous is not None and record.get("previous") != previous:
            findings.append(Finding(number, "chain broken: the line before it was removed, altered or moved"))
        previous = record.get("hash")
        if record.get("kind") == "run":
            recorded.add(record["run_id"])
            if record["run_id"] not in pruned or (reports / record["run_id"]).exists():
                findings.extend(_check_folder(reports, number, record["run_id"], f"run {record['run_id']}", record))
        elif record.get("kind") == "attestation":
            what = f"attestation of {record.get('item')} by {record.get('by')}"
            findings.extend(_check_folder(reports, number, record["folder"], what, record))
    for folder in sorted(p for p in reports.iterdir() if p.is_dir() and p.name not in recorded | {ATTESTATIONS}):
        if (folder / "summary.json").exists():
            findings.append(Finding(0, f"run folder {folder.name} is not in the audit chain"))
    return len(lines), findings


def _check_folder(reports: Path, number: int, name: str, what: str, record: dict[str, Any]) -> list[Finding]:
    folder = reports / name
    if not folder.is_dir():
        return [Finding(number, f"{what} was deleted")]
    found = file_hashes(folder)
    problems = []
    for file, digest in record["files"].items():
        if file not in found:
            problems.append(Finding(number, f"{what}: {file} was deleted"))
        elif found[file] != digest:
            problems.append(Finding(number, f"{what}: {file} was changed"))
    problems.extend(Finding(number, f"{what}: {file} was added afterwards") for file in found.keys() - record["files"])
    return problems
