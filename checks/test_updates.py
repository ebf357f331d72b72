"""MM1 — 月次メンテナンス: セキュリティアップデート. Security updates waiting on each host, from apt's own
simulation of the upgrade; a host whose package lists are stale cannot say, and that is a finding too."""

import pytest

from opscheck.judge.levels import Level, fail_at
from opscheck.probes.packages import AptError, lists_age_days, pending

pytestmark = [pytest.mark.monthly]


@pytest.mark.checklist("MM1")
@pytest.mark.level("warning")
def test_no_security_update_is_waiting(host, host_spec, measured):
    if not host.exists("apt-get"):
        pytest.skip(f"{host_spec.name} has no apt-get: MM1 is written for Debian/Ubuntu hosts")
    age = lists_age_days(host, host_spec.apt_root)
    if age is None or age > host_spec.apt_lists_max_age_days:
        fail_at(Level.WARNING, f"cannot tell what is pending on {host_spec.name}: its package lists were "
                + ("never fetched" if age is None else f"last refreshed {age:.0f} days ago")
                + f" (at most {host_spec.apt_lists_max_age_days:g}). Manual: enable apt's daily update "
                "(apt-daily.timer) or run apt-get update")  # fmt: skip
    try:
        upgrades = pending(host, host_spec.apt_root)
    except AptError as error:
        fail_at(Level.WARNING, f"apt-get cannot simulate the upgrade on {host_spec.name}: {error}. Manual: run "
                "apt-get -s upgrade there and fix what it says")  # fmt: skip
    security = [u for u in upgrades if u.security]
    measured("pending_updates", len(upgrades))
    measured("pending_security_updates", len(security))
    assert not security, (
        f"{len(security)} security update(s) waiting on {host_spec.name}: {', '.join(map(str, security[:10]))}"
        + (f" and {len(security) - 10} more" if len(security) > 10 else "")
        + f" ({len(upgrades) - len(security)} other updates). Manual (MM1): apply them in the maintenance window "
        "(apt-get upgrade), then restart what uses them"
    )
