"""One window for a host's CPU and I/O samples: both begun together, each waited for by its own check.

`top` and `iostat` each watch a host for `cpu_sample_s`; taken one after the other, a daily run waited twice
(2 s on the sandbox, 4 s at the manual's default). Both now run at once, in the same window. Each keeps its own
command and its own failure: a disk that cannot be read fails only the I/O check.

The window must hold none of the suite's own requests (a daily run's checks raised the sandbox cgroup's CPU from
3 % to 20–34 %; the preflight's, from 2 % to 5 %). Where the host's figures are a cgroup's, which this process
is not in, the window opens once the preflight is done and runs while pytest collects; the first check waits
until it closes. Elsewhere (the whole machine, or a host over ssh whose one reader a sample holds) the window
opens when the first of the two checks asks.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

import pytest
import testinfra

from opscheck.errors import OpscheckError
from opscheck.plugin.dependencies import PENDING_KEY
from opscheck.plugin.hosts import fleet_of
from opscheck.plugin.target import loaded_target
from opscheck.probes import resources
from opscheck.target.hosts import Host
from opscheck.target.loader import LoadedTarget

SAMPLES = pytest.StashKey[dict[str, "HostSample"]]()
T = TypeVar("T")


@dataclass(frozen=True)
class HostSample:
    """A host's CPU and I/O samples under way (None where the target watches neither)."""

    cpu: Future[resources.Usage] | None
    io: Future[tuple[list[resources.DeviceIo], list[str]]] | None

    def pending(self) -> list[Future]:
        return [f for f in (self.cpu, self.io) if f is not None]


def begin(host: testinfra.host.Host, spec: Host, sample_s: float, after: Future | None = None) -> HostSample:
    """Start the host's CPU and I/O samples together, each in a thread of its own (once `after` is done)."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"opscheck-sample-{spec.name}")
    paths = [str(p) for p in spec.disk_paths]
    sample = HostSample(
        cpu=pool.submit(_after, after, resources.cpu, host, spec.cgroup, sample_s) if spec.watch_resources else None,
        io=pool.submit(_after, after, resources.io, host, paths, sample_s) if paths else None,
    )
    pool.shutdown(wait=False)
    return sample


def _after(first: Future | None, call: Callable[..., T], *args: object) -> T:
    if first is not None:
        wait([first])  # bounded by the preflight's own timeout
    return call(*args)


@pytest.hookimpl(trylast=True)  # after the preflight has begun: the window opens once it is done
def pytest_sessionstart(session: pytest.Session) -> None:
    """Open the window while pytest collects, for the hosts whose figures are a cgroup's."""
    config = session.config
    target = loaded_target(config)
    controller = getattr(config, "workerinput", None) is None and bool(config.getoption("numprocesses", None))
    if target is None or config.option.collectonly or controller:
        return
    samples = config.stash.setdefault(SAMPLES, {})
    preflight = config.stash.get(PENDING_KEY, None)  # its requests are the suite's own: not in the window
    fleet = fleet_of(config, target.spec)
    try:
        for spec in fleet.hosts:
            if spec.cgroup and (spec.watch_resources or spec.disk_paths):
                samples[spec.name] = begin(fleet.connect(spec), spec, target.spec.performance.cpu_sample_s, preflight)
    except OpscheckError:
        return  # a host that cannot be reached: its checks say so themselves


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """No check runs before the windows the selected checks read have closed (bounded: the sample and a timeout)."""
    config, samples = session.config, session.config.stash.get(SAMPLES, {})
    wanted = {
        getattr(item.callspec.params.get("host_spec"), "name", None)  # None: the target declares no host
        for item in session.items
        if "resource_sample" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")
    }
    pending = [f for name in wanted if name in samples for f in samples[name].pending()]
    target = loaded_target(config)
    if pending and target is not None:
        wait(pending, timeout=target.spec.performance.cpu_sample_s + target.spec.http.timeout_s)


@pytest.fixture
def resource_sample(
    host: testinfra.host.Host, host_spec: Host, target: LoadedTarget, request: pytest.FixtureRequest
) -> HostSample:
    """This host's CPU and I/O samples: begun as the session started, else by whichever of their checks runs first,
    and shared with the other."""
    samples = request.config.stash.setdefault(SAMPLES, {})
    if host_spec.name not in samples:
        samples[host_spec.name] = begin(host, host_spec, target.spec.performance.cpu_sample_s)
    return samples[host_spec.name]
