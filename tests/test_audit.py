"""The audit chain: an untouched trail verifies; every kind of tampering is caught and named."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from opscheck.cli import main as opscheck_main
from opscheck.record import audit
from tests.conftest import REPO


@pytest.fixture
def trail(run_checks, tmp_path):
    """Two real runs' reports folder, copied so each test may tamper with its own."""
    first = run_checks("-m", "daily", "-k", "test_redis_answers")
    run_checks("-m", "daily", "-k", "test_redis_answers")
    copy = tmp_path / "trail"
    shutil.copytree(first.run_dir.parent, copy)
    return copy


def problems(reports) -> list[str]:
    return [str(f) for f in audit.verify(reports)[1]]


def test_untouched_trail_is_intact(trail, capsys):
    assert audit.verify(trail) == (2, [])
    assert opscheck_main(["audit", "verify", "--reports-dir", str(trail)]) == 0
    assert "2 record(s); intact" in capsys.readouterr().out


def _runs(trail):
    return [json.loads(line)["run_id"] for line in (trail / audit.CHAIN).read_text().splitlines()]


def test_an_edited_report_is_named(trail, capsys):
    report = trail / _runs(trail)[0] / "report.html"
    content = bytearray(report.read_bytes())
    content[len(content) // 2] ^= 1
    report.write_bytes(bytes(content))
    assert problems(trail) == [f"line 1: run {_runs(trail)[0]}: report.html was changed"]
    assert opscheck_main(["audit", "verify", "--reports-dir", str(trail)]) == 1
    assert "TAMPERED line 1" in capsys.readouterr().out


def test_a_deleted_run_is_named(trail):
    shutil.rmtree(trail / _runs(trail)[1])
    assert problems(trail) == [f"line 2: run {_runs(trail)[1]} was deleted"]


def test_a_removed_line_breaks_the_chain(trail):
    chain = trail / audit.CHAIN
    lines = chain.read_text().splitlines()
    first_run = json.loads(lines[0])["run_id"]
    chain.write_text(lines[1] + "\n")
    found = problems(trail)
    assert "line 1: chain broken: the line before it was removed, altered or moved" in found
    assert f"run folder {first_run} is not in the audit chain" in found


def test_swapped_lines_break_the_chain(trail):
    chain = trail / audit.CHAIN
    lines = chain.read_text().splitlines()
    chain.write_text(lines[1] + "\n" + lines[0] + "\n")
    assert any("chain broken" in p for p in problems(trail))


def test_an_altered_line_is_named(trail):
    chain = trail / audit.CHAIN
    lines = chain.read_text().splitlines()
    record = json.loads(lines[0])
    record["exit_status"] = 0 if record["exit_status"] else 1
    chain.write_text(json.dumps(record, sort_keys=True) + "\n" + lines[1] + "\n")
    assert f"line 1: record {record['run_id']} was altered after it was written" in problems(trail)


def test_two_runs_finishing_together_both_land(platform, tmp_path):
    env = {k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}
    reports = tmp_path / "together"
    command = [sys.executable, "-m", "pytest", "checks", f"--target={platform.target_file}", "-m", "daily",
               "-k", "test_redis_answers", f"--reports-dir={reports}", "-q"]  # fmt: skip
    runs = [subprocess.Popen(command, cwd=REPO, env={**__import__("os").environ, **env}) for _ in range(2)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    assert audit.verify(reports) == (2, [])


def test_attestations_join_the_chain_and_their_evidence_is_guarded(trail, tmp_path, capsys):
    evidence = tmp_path / "dr-plan-review.md"
    evidence.write_text("DR plan read; contacts updated.\n")
    argv = ["attest", "M4", "--by", "Hanako Sato", "--note", "read", "--evidence", str(evidence)]
    assert opscheck_main([*argv, "--reports-dir", str(trail)]) == 0
    assert audit.verify(trail) == (3, []), "an attestation is a line of the chain like a run"
    latest = audit.latest_attestation(trail, "M4")
    assert latest["by"] == "Hanako Sato" and audit.latest_attestation(trail, "W8") is None

    kept = trail / latest["folder"] / "dr-plan-review.md"
    kept.write_text("DR plan never read.\n")
    assert problems(trail) == ["line 3: attestation of M4 by Hanako Sato: dr-plan-review.md was changed"]

    assert opscheck_main(["attest", "M99", "--by", "x", "--reports-dir", str(trail)]) == 2
    assert "M99 is not a checklist item" in capsys.readouterr().err


def test_pruned_runs_are_recorded_not_reported_deleted(trail, capsys):
    runs = _runs(trail)
    assert opscheck_main(["audit", "prune", "--keep-days", "0", "--reports-dir", str(trail)]) == 0
    assert all(not (trail / run).exists() for run in runs)
    assert audit.verify(trail) == (3, []), "pruning is a line of the chain; the pruned runs are not 'deleted'"
    assert opscheck_main(["audit", "list", "--reports-dir", str(trail)]) == 0
    assert "pruned       2 run(s) older than 0 days" in capsys.readouterr().out
    assert audit.prune(trail, 0) == [], "nothing left to prune, nothing recorded"


def test_a_run_deleted_by_hand_is_still_named_after_a_prune(trail):
    first, second = _runs(trail)
    finished = [
        datetime.fromisoformat(json.loads(line)["finished"])
        for line in (trail / audit.CHAIN).read_text().splitlines()[:2]
    ]
    half_way = (finished[1] - finished[0]).total_seconds() / 2 / 86400  # older than this at the second's end: the first
    assert audit.prune(trail, half_way, now=finished[1]) == [first]
    shutil.rmtree(trail / second)
    assert problems(trail) == [f"line 2: run {second} was deleted"]


def test_a_run_killed_midway_is_sealed_as_incomplete_by_the_next(platform, tmp_path, capsys):
    """SIGKILL leaves the folder marked INCOMPLETE and the chain verifiable; the next run says what happened."""
    env = {**os.environ, **{k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}}
    reports = tmp_path / "killed"
    command = [sys.executable, "-m", "pytest", "checks", f"--target={platform.target_file}", "-m", "daily",
               f"--reports-dir={reports}", "-q", "-p", "no:randomly"]  # fmt: skip
    quick = [*command[:-4], "-k", "test_redis_answers", f"--reports-dir={reports}"]
    subprocess.run(quick, cwd=REPO, env=env, capture_output=True, timeout=120, check=True)  # the chain as it was
    victim = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list(reports.glob("*/INCOMPLETE"))) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # well into its checks
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    [folder] = [p.parent for p in reports.glob("*/INCOMPLETE")]
    assert (folder / "INCOMPLETE").exists() and not (folder / "summary.json").exists()
    assert opscheck_main(["audit", "verify", "--reports-dir", str(reports)]) == 0
    assert f"UNFINISHED {folder.name}" in capsys.readouterr().out

    nxt = subprocess.run(quick, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert nxt.returncode == 0 and f"an earlier run never finished: {folder.name}" in nxt.stdout, nxt.stdout
    assert audit.verify(reports) == (3, [])
    [sealed] = [r for r in audit._records(reports) if r["run_id"] == folder.name]
    assert sealed["incomplete"] and sealed["exit_status"] is None and "INCOMPLETE" in sealed["files"]


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder`: a disk that fills for real."""
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path) -> None:
    with contextlib.suppress(OSError), open(folder / "filler", "wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 4096)


def test_a_chain_line_is_written_whole_or_not_at_all_on_a_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", "64k") as disk:
        audit.append(disk, {"kind": "note", "text": "first"})
        before = (disk / audit.CHAIN).read_bytes()
        _fill(disk)
        with pytest.raises(OSError) as full:
            audit.append(disk, {"kind": "note", "text": "x" * 20_000})
        assert full.value.errno == errno.ENOSPC
        assert (disk / audit.CHAIN).read_bytes() == before, "no half line at the chain's end"
        assert audit.verify(disk) == (1, [])


def test_a_full_reports_disk_refuses_the_run_in_one_line(platform, tmp_path):
    env = {**os.environ, **{k: v for k, v in platform.secrets().items() if k.startswith("OPSCHECK_")}}
    with small_disk(tmp_path / "disk", "2m") as disk:
        run = subprocess.run([sys.executable, "-m", "pytest", "checks", f"--target={platform.target_file}", "-m",
                              "daily", f"--reports-dir={disk}"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    said = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.USAGE_ERROR and "Traceback" not in said, said
    assert f"the reports folder {disk} has" in said and "nothing was checked" in said, said
