"""The fleet (sandbox.fleet): the platform over hosts reached by ssh, each holding its own files and processes.

A check that read a log, a backup set or a plan on the machine running pytest would find nothing: they exist
only inside their host's namespace. The healthy fleet is green; the file-, process- and backup-related faults
fail exactly the checks they fail on one host (the host's name in place of `sandbox`).
"""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.conftest import faulted, run_pytest
from tests.test_faults import difference

FAULTS = ["api-down", "frontend-down", "streaming-stopped", "backup-stale", "backup-incomplete",
          "backup-empty-dump", "backup-corrupt", "backup-archive-cut", "backup-shrunk", "backup-truncated",
          "backup-old-tool", "backup-offsite-differs", "offsite-object-missing", "offsite-set-stale",
          "backup-unreadable", "backup-unscheduled", "error-burst", "critical-log-line", "5xx-burst",
          "access-log-missing", "plan-missing", "brute-force-burst"]  # fmt: skip


@pytest.mark.parametrize("selection", ["daily", "weekly", "security"])
def test_healthy_fleet_is_green(run_fleet_checks, fleet_platform, selection):
    run = run_fleet_checks("-m", selection)
    assert run.returncode == 0 and run.failed() == {}, run.output
    assert not any(any((fleet_platform.root / folder).iterdir()) for folder in ("logs", "plans", "backups")), (
        "the hosts' folders are empty on the machine running pytest: what passed was read on the hosts"
    )


@pytest.mark.parametrize("name", FAULTS)
def test_fault_fails_the_same_checks_on_the_fleet(fleet_platform, run_fleet_checks, name):
    with faulted(fleet_platform, name) as fault:
        broken = run_fleet_checks("-m", "daily")
    declared = {c["nodeid"]: c["level"] for c in broken.summary["checks"]}
    skipped = frozenset(c["nodeid"] for c in broken.summary["checks"] if c["outcome"] == "skipped")
    expected = fault.expected_failures(declared, shape="fleet", skipped=skipped)
    assert broken.failed() == expected, difference(broken.failed(), expected, broken.output)


def test_an_ansible_inventory_group_expands_into_its_hosts(fleet_platform, tmp_path):
    """The fleet's hosts named by inventory groups (ansible://web?ansible_inventory=…): testinfra's get_hosts
    expands each into its hosts, reached over ssh as the inventory says; the daily run is green."""
    keys = fleet_platform.root / "hosts"
    hosts = json.loads(fleet_platform.state_file.read_text())["hosts"]
    groups = {"app": "web", "db": "database", "backup": "backups"}
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("".join(f"[{groups[n]}]\n{n} ansible_host={h['address']} ansible_port={h['port']}\n"
                                 for n, h in hosts.items()) + "[all:vars]\nansible_user=root\n"
                         "ansible_connection=ssh\nansible_ssh_private_key_file=" + str(keys / "id_ed25519") + "\n"
                         f"ansible_ssh_common_args='-o UserKnownHostsFile={keys / 'known_hosts'} "
                         "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n")  # fmt: skip
    text = fleet_platform.target_file.read_text()
    for name, group in groups.items():
        text = re.sub(rf'name = "{name}"\nurl = "ssh://[^"]+"', f'name = "{group}"\nurl = "ansible://{group}?'
                      f'ansible_inventory={inventory}"', text)  # fmt: skip
    target = tmp_path / "ansible.toml"
    target.write_text(text)
    env = {k: v for k, v in fleet_platform.secrets().items() if k.startswith("OPSCHECK_")}
    run = run_pytest(["checks", f"--target={target}", "-m", "daily"], tmp_path / "reports", env)
    assert run.returncode == 0 and run.failed() == {}, run.output
    ran = {c["nodeid"] for c in run.summary["checks"] if c["outcome"] == "passed"}
    wanted = {"checks/test_processes.py::test_declared_processes_run[app]",
              "checks/test_backups.py::test_latest_backup_is_fresh[daily]"}  # fmt: skip
    assert wanted <= ran, "each group became its host"


def test_an_unreachable_host_fails_what_needs_it_in_one_line_and_the_others_pass(fleet_platform, tmp_path):
    """The backup host's sshd gone (its port refusing): every check that needs the host fails saying which host
    cannot be reached and what to do, without a traceback; the other hosts' checks pass."""
    target = tmp_path / "unreachable.toml"
    target.write_text(re.sub(r"ssh://127\.0\.0\.4:\d+", "ssh://127.0.0.4:9", fleet_platform.target_file.read_text()))
    env = {k: v for k, v in fleet_platform.secrets().items() if k.startswith("OPSCHECK_")}
    run = run_pytest(["checks", f"--target={target}", "-m", "daily"], tmp_path / "reports", env)
    failed = [c for c in run.summary["checks"] if c["outcome"] in ("failed", "error")]
    assert failed and run.returncode == 1, run.output
    assert all("backup (ssh://127.0.0.4:9" in c["message"] and "cannot be reached over ssh" in c["message"]
               for c in failed), run.output  # fmt: skip
    assert "Traceback" not in run.output
    passed = {c["nodeid"] for c in run.summary["checks"] if c["outcome"] == "passed"}
    assert "checks/test_processes.py::test_declared_processes_run[app]" in passed, "the other hosts are read"


def test_a_damaged_gzip_rotation_on_a_host_is_named_in_one_line(fleet_platform, run_fleet_checks):
    """The web host's gzipped access-log rotations corrupt (read over ssh, inflated here): the checks whose windows
    reach into them fail naming the file, its host and `gzip -t`, never with a traceback."""
    rotations = sorted(fleet_platform.logs.glob("access.log.*.gz"))
    kept = {path: (path.read_bytes(), path.stat().st_mtime) for path in rotations}
    try:
        for path, (data, mtime) in kept.items():
            path.write_bytes(data[:200] + b"x" * 300 + data[500:])
            os.utime(path, (mtime, mtime))
        run = run_fleet_checks("-m", "daily", "-k", "user_activity")
    finally:
        for path, (data, mtime) in kept.items():
            path.write_bytes(data)
            os.utime(path, (mtime, mtime))
    failed = [c for c in run.summary["checks"] if c["outcome"] in ("failed", "error")]
    assert rotations and failed, run.output
    assert all("a damaged gzip rotation, not read to its end" in c["message"] and "gzip -t" in c["message"]
               for c in failed), run.output  # fmt: skip
    assert "Traceback" not in run.output
