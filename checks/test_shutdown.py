"""S3 — システム停止後の確認: after a stop, nothing of the platform still serves or runs.

Run after stopping the platform (`pytest -m post_stop`): a port still answering after a "stop" is
a half-stopped system (traffic served by an old version, or data written during a backup).
"""

import pytest

from opscheck.probes import processes

pytestmark = [pytest.mark.post_stop, pytest.mark.checklist("S3")]


@pytest.mark.level("error")
def test_nothing_listens_after_stop(host, host_spec):
    if not host_spec.listens:
        pytest.skip(f"the target declares no ports for {host_spec.name} ([[hosts]] listens)")
    still = [address for address in host_spec.listens if host.socket(address).is_listening]
    assert not still, (
        f"after the stop, {host_spec.name} still listens on {', '.join(still)}. Manual: netstat -tlnp; "
        "stop what owns the port (docker-compose down / kill the process)"
    )


@pytest.mark.level("error")
def test_no_process_left_after_stop(host, host_spec):
    if not host_spec.processes:
        pytest.skip(f"the target declares no processes for {host_spec.name} ([[hosts]] processes)")
    left = {name: procs for name, procs in processes.matching(host, host_spec.processes).items() if procs}
    assert not left, (
        f"after the stop, on {host_spec.name}: "
        + "; ".join(f"{name} (pid {', '.join(str(p.pid) for p in procs)})" for name, procs in left.items())
        + ". Manual: ps aux | grep; kill them, then start again cleanly"
    )
