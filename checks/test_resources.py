"""T3 — リソース確認 (df -h): the file systems that hold the platform's data, logs and backups have room."""

import shlex

import pytest

from opscheck.levels import Level, fail_at


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.checklist("T3")
@pytest.mark.level("warning")
def test_disks_have_room(host, host_spec, thresholds):
    if not host_spec.disk_paths:
        pytest.skip(f"the target declares no disk paths for {host_spec.name} ([[hosts]] disk_paths)")
    result = host.run("df -P " + " ".join(shlex.quote(str(p)) for p in host_spec.disk_paths))
    lines = result.stdout.splitlines()[1:]
    assert result.rc == 0 and len(lines) == len(host_spec.disk_paths), (
        f"df on {host_spec.name} could not read {', '.join(map(str, host_spec.disk_paths))}: {result.stderr.strip()}"
    )
    full = []
    for path, line in zip(host_spec.disk_paths, lines, strict=True):
        fields = line.split()
        used = int(fields[4].rstrip("%"))
        if used > thresholds.disk_percent:
            full.append((used, f"{path} on {fields[5]} is {used} % full ({int(fields[3]) // 1024} MB free)"))
    if not full:
        return
    worst = max(used for used, _ in full)
    found = f"on {host_spec.name}: {'; '.join(text for _, text in full)}"
    remedy = "Manual (df -h): clean old logs and backups past retention (W6), or grow the volume"
    if worst > thresholds.disk_critical_percent:
        fail_at(Level.ERROR, f"{found} (above {thresholds.disk_critical_percent:g} %: writes will fail). {remedy}")
    fail_at(Level.WARNING, f"{found} (limit {thresholds.disk_percent:g} %). {remedy}")
