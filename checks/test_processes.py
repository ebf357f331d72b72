"""T1 — プロセス確認・ポート確認: on every host, its declared processes run and its ports listen."""

import pytest

from opscheck.probes import processes

pytestmark = [pytest.mark.daily, pytest.mark.morning, pytest.mark.checklist("T1")]


@pytest.mark.level("error")
@pytest.mark.needs("listens")
def test_declared_ports_listen(host, host_spec, target):
    if not host_spec.listens:
        pytest.skip(f"the target declares no ports for {host_spec.name} ([[hosts]] listens)")
    silent = [address for address in host_spec.listens if not host.socket(address).is_listening]
    owners = {address: target.spec.port_owner(host_spec, address) for address in silent}
    restart = "; ".join(
        {
            f"systemctl restart {owner}"
            if owner
            else f"restart the service that owns {address} ([[hosts]] port_owners)"
            for address, owner in owners.items()
        }
    )
    assert not silent, (
        f"on {host_spec.name} nothing listens on "
        f"{', '.join(f'{a} ({o})' if o else a for a, o in owners.items())}. Manual: netstat -tlnp; {restart}"
    )


@pytest.mark.level("error")
def test_declared_processes_run(host, host_spec):
    if not host_spec.processes:
        pytest.skip(f"the target declares no processes for {host_spec.name} ([[hosts]] processes)")
    missing = [name for name, found in processes.matching(host, host_spec.processes).items() if not found]
    assert not missing, (
        f"on {host_spec.name} no process matches {', '.join(repr(m) for m in missing)}. Manual: ps aux | grep; "
        "start it (python3 simple_api_server.py &, npm start &, …)"
    )
