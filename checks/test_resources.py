"""T3 — リソース確認 (df -h, top, free); D11 — システムリソース使用状況 over the day, from the monitoring."""

import shlex
import time

import pytest

from opscheck.judge.levels import Level, fail_at
from opscheck.probes import resources
from opscheck.record import charts


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.weekly
@pytest.mark.checklist("T3", "W6")
@pytest.mark.level("warning")
def test_disks_have_room(host, host_spec, thresholds, measured):
    if not host_spec.disk_paths:
        pytest.skip(f"the target declares no disk paths for {host_spec.name} ([[hosts]] disk_paths)")
    result = host.run("df -P " + " ".join(shlex.quote(str(p)) for p in host_spec.disk_paths))
    lines = result.stdout.splitlines()[1:]
    assert result.rc == 0 and len(lines) == len(host_spec.disk_paths), (
        f"df on {host_spec.name} could not read {', '.join(map(str, host_spec.disk_paths))}: {result.stderr.strip()}. "
        "Manual: df -h on the host; check that the paths are mounted"
    )
    full = []
    for path, line in zip(host_spec.disk_paths, lines, strict=True):
        fields = line.split()
        used = int(fields[4].rstrip("%"))
        if used > thresholds.disk_percent:
            full.append((used, fields[5], f"{path} on {fields[5]} is {used} % full ({int(fields[3]) // 1024} MB free)"))
    measured("disk_used_percent", max(int(line.split()[4].rstrip("%")) for line in lines))
    if not full:
        return
    worst = max(used for used, _, _ in full)
    found = f"on {host_spec.name}: {'; '.join(text for _, _, text in full)}"
    largest = _largest(host, sorted({mount for _, mount, _ in full}))
    remedy = f"Manual (df -h): clean old logs and backups past retention (W6), or grow the volume. {largest}"
    if worst > thresholds.disk_critical_percent:
        fail_at(Level.ERROR, f"{found} (above {thresholds.disk_critical_percent:g} %: writes will fail). {remedy}")
    fail_at(Level.WARNING, f"{found} (limit {thresholds.disk_percent:g} %). {remedy}")


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("T3")
@pytest.mark.level("warning")
def test_disks_keep_up_with_their_io(host_spec, resource_sample, thresholds, measured):
    """iostat -x's view of the devices under the platform's data: a device busy nearly all the time is saturated."""
    if not host_spec.disk_paths:
        pytest.skip(f"the target declares no disk paths for {host_spec.name} ([[hosts]] disk_paths)")
    devices, unbacked = resource_sample.io.result()
    if not devices:
        pytest.skip(f"no block device under {', '.join(unbacked)} on {host_spec.name}: no I/O figures to judge")
    measured("busiest_device_percent", round(max(d.busy_percent for d in devices), 1))
    busy = [d for d in devices if d.busy_percent > thresholds.io_busy_percent]
    found = "; ".join(
        f"{d.path} on {d.device} busy {d.busy_percent:.0f} % of the time, {d.operations} I/Os of {d.await_ms:.1f} ms"
        for d in busy
    )
    assert not busy, (
        f"I/O on {host_spec.name} is saturated: {found} (limit {thresholds.io_busy_percent:g} %). "
        "Manual (T3, iostat): find the writer (iotop); move backups and bulk jobs off peak, or a faster volume"
    )


def _largest(host, mounts: list[str]) -> str:
    """W6's clean-up candidates: the largest files on the full file systems, with their sizes."""
    listed = host.run(
        f"find {' '.join(map(shlex.quote, mounts))} -xdev -type f -printf '%s %p\\n' 2>/dev/null | sort -nr | head -5"
    )
    files = [f"{int(size) // 2**20} MB {path}" for size, _, path in (line.partition(" ") for line in
             listed.stdout.splitlines()) if size.isdigit()]  # fmt: skip
    return f"Largest files there: {'; '.join(files)}" if files else ""


def _watched(host_spec):
    if not host_spec.watch_resources:
        pytest.skip(f"the target does not watch CPU and memory on {host_spec.name} ([[hosts]] watch_resources)")


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D6", "T3")
@pytest.mark.level("warning")
def test_cpu_under_limit(host_spec, resource_sample, thresholds, measured):
    _watched(host_spec)
    usage = resource_sample.cpu.result()
    measured("cpu_percent", round(usage.percent, 1))
    assert usage.percent <= thresholds.cpu_percent, (
        f"CPU on {host_spec.name} is {usage.percent:.0f} % ({usage.detail}; limit {thresholds.cpu_percent:g} %). "
        "Manual (WARNING, CPU使用率 > 80%): htop for the busiest process; consider load balancing or scaling up"
    )


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D6", "T3")
@pytest.mark.level("warning")
def test_memory_under_limit(host, host_spec, thresholds, measured):
    _watched(host_spec)
    usage = resources.memory(host, host_spec.cgroup)
    measured("memory_percent", round(usage.percent, 1))
    assert usage.percent <= thresholds.memory_percent, (
        f"memory on {host_spec.name} is {usage.percent:.0f} % used ({usage.detail}; limit "
        f"{thresholds.memory_percent:g} %). Manual (WARNING, メモリ使用率 > 85%): free -h; find the process that grows"
    )


RESOURCE_LIMITS = {
    "cpu": ("CPU", "%", "cpu_percent", "htop for the busiest process; consider load balancing or scaling up"),
    "memory": ("memory", "%", "memory_percent", "free -h; find the process that grows (a leak shows as a climb)"),
    "disk": ("disk", "%", "disk_percent", "clean old logs and backups past retention (W6), or grow the volume"),
    "network": ("network", "Mbit/s", "network_mbps", "find the top talkers (X2) or what copies in bulk (backups?)"),
}


@pytest.mark.daily
@pytest.mark.evening
@pytest.mark.checklist("D11")
@pytest.mark.level("warning")
def test_resources_over_the_day(metrics, host_spec, resource, target, thresholds, artifact, measured):
    """The last 24 hours of the monitoring's history: over a limit for longer than a blip, or gaps that hide it."""
    title, unit, limit_key, remedy = RESOURCE_LIMITS[resource]
    if resource in ("cpu", "memory"):
        _watched(host_spec)
    spec = target.spec.metrics
    end = time.time()
    query = spec.queries[resource].replace("{instance}", host_spec.instance())
    series = metrics.range(query, end - 24 * 3600, end, spec.step_s)
    artifact(
        f"resources-{host_spec.name}-{resource}.svg",
        charts.line_svg(series.points, f"{title} on {host_spec.name}, last 24 h", unit, getattr(thresholds, limit_key)),
    )
    where = f"{title} on {host_spec.name} over the last 24 h"
    assert series.coverage * 100 >= spec.min_coverage_percent, (
        f"cannot tell the {where}: the monitoring has samples for {100 * series.coverage:.0f} % of it "
        f"(longest gap {series.longest_gap_s() / 60:.0f} min; need {spec.min_coverage_percent:g} %). "
        "Manual: see whether the exporter or the monitoring itself is down, and restart it"
    )
    limit = getattr(thresholds, limit_key)
    peak_at, peak = series.peak()
    measured(f"peak_{unit.replace('/', '_per_').replace('%', 'percent').lower()}", round(peak, 1))
    figures = (
        f"peak {peak:.1f} {unit} at {time.strftime('%H:%M', time.gmtime(peak_at))} UTC, mean {series.mean():.1f} {unit}"
    )
    critical = series.minutes_above(thresholds.disk_critical_percent) if resource == "disk" else 0
    if critical > thresholds.sustained_minutes:
        fail_at(
            Level.ERROR,
            f"{where}: above {thresholds.disk_critical_percent:g} % (writes fail) for {critical:.0f} min; {figures}. "
            f"Manual (D11): {remedy}",
        )
    minutes = series.minutes_above(limit)
    measured("minutes_above_limit", round(minutes))
    assert minutes <= thresholds.sustained_minutes, (
        f"{where}: above {limit:g} {unit} for {minutes:.0f} min (more than {thresholds.sustained_minutes:g}); "
        f"{figures}. Manual (D11, WARNING): {remedy}"
    )
