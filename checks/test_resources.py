"""T3 — リソース確認 (df -h): the file systems that hold the platform's data, logs and backups have room."""

import shlex

import pytest

from opscheck.levels import Level, fail_at
from opscheck.probes import resources


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


def _watched(host_spec):
    if not host_spec.watch_resources:
        pytest.skip(f"the target does not watch CPU and memory on {host_spec.name} ([[hosts]] watch_resources)")


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D6", "T3")
@pytest.mark.level("warning")
def test_cpu_under_limit(host, host_spec, target, thresholds):
    _watched(host_spec)
    usage = resources.cpu(host, host_spec.cgroup, target.spec.performance.cpu_sample_s)
    assert usage.percent <= thresholds.cpu_percent, (
        f"CPU on {host_spec.name} is {usage.percent:.0f} % ({usage.detail}; limit {thresholds.cpu_percent:g} %). "
        "Manual (WARNING, CPU使用率 > 80%): htop for the busiest process; consider load balancing or scaling up"
    )


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D6", "T3")
@pytest.mark.level("warning")
def test_memory_under_limit(host, host_spec, thresholds):
    _watched(host_spec)
    usage = resources.memory(host, host_spec.cgroup)
    assert usage.percent <= thresholds.memory_percent, (
        f"memory on {host_spec.name} is {usage.percent:.0f} % used ({usage.detail}; limit "
        f"{thresholds.memory_percent:g} %). Manual (WARNING, メモリ使用率 > 85%): free -h; find the process that grows"
    )
