"""One window for a host's CPU and I/O samples: both begun together, each waited for by its own check.

`top` and `iostat` each watch a host for `cpu_sample_s`; taken one after the other, a daily run waited twice
(2 s on the sandbox, 4 s at the manual's default). Both now run at once, in the same window, while the run waits
on the first of them — nothing else of the suite's runs then, so its own requests stay out of both figures.
Each keeps its own command and its own failure: a disk that cannot be read fails only the I/O check.
Not opened earlier, while pytest collects: on a 2-core machine its work takes the CPU a runaway process would
use, and the cpu-hog and io-saturated faults then read under their limits.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import testinfra

from opscheck.probes import resources
from opscheck.target.hosts import Host
from opscheck.target.loader import LoadedTarget

SAMPLES = pytest.StashKey[dict[str, "HostSample"]]()


@dataclass(frozen=True)
class HostSample:
    """A host's CPU and I/O samples under way (None where the target watches neither)."""

    cpu: Future[resources.Usage] | None
    io: Future[tuple[list[resources.DeviceIo], list[str]]] | None


def begin(host: testinfra.host.Host, spec: Host, sample_s: float) -> HostSample:
    """Start the host's CPU and I/O samples together, each in a thread of its own."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"opscheck-sample-{spec.name}")
    paths = [str(p) for p in spec.disk_paths]
    sample = HostSample(
        cpu=pool.submit(resources.cpu, host, spec.cgroup, sample_s) if spec.watch_resources else None,
        io=pool.submit(resources.io, host, paths, sample_s) if paths else None,
    )
    pool.shutdown(wait=False)
    return sample


@pytest.fixture
def resource_sample(
    host: testinfra.host.Host, host_spec: Host, target: LoadedTarget, request: pytest.FixtureRequest
) -> HostSample:
    """This host's CPU and I/O samples, begun by whichever of their checks runs first and shared with the other."""
    samples = request.config.stash.setdefault(SAMPLES, {})
    if host_spec.name not in samples:
        samples[host_spec.name] = begin(host, host_spec, target.spec.performance.cpu_sample_s)
    return samples[host_spec.name]
