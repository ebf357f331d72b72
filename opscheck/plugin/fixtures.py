"""Probes as fixtures: checks ask for `http`, `db`, `cache`, `backups`, `logs`, `host`, `target`, `thresholds`
(the declared things they apply to are in opscheck.plugin.parameters).

A part the target declares absent skips the checks that need it, and says so in the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import pytest
import testinfra

from opscheck.errors import ProbeError
from opscheck.judge.stamps import recorded_start
from opscheck.plugin.hosts import Fleet, fleet_of
from opscheck.plugin.logs import Logs
from opscheck.plugin.reports import run_dir
from opscheck.plugin.target import required_target
from opscheck.probes.backups import BackupSet, BackupStore
from opscheck.probes.cache import Cache
from opscheck.probes.http import HttpProbe
from opscheck.probes.metrics import MetricsSource
from opscheck.probes.postgres import Database
from opscheck.record.suite_history import Period, runs
from opscheck.target.loader import LoadedTarget
from opscheck.target.operations import Maintenance
from opscheck.target.thresholds import Thresholds


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> LoadedTarget:
    return required_target(request.config)


@pytest.fixture(scope="session")
def thresholds(target: LoadedTarget) -> Thresholds:
    return target.spec.thresholds


@pytest.fixture(scope="session")
def http(target: LoadedTarget) -> Iterator[HttpProbe]:
    probe = HttpProbe("HTTP", target.spec.http.timeout_s, target.spec.http.ca_bundle)
    yield probe
    probe.close()


@pytest.fixture(scope="session")
def db(target: LoadedTarget) -> Iterator[Database]:
    spec = target.spec.postgres
    if spec is None:
        pytest.skip("the target declares no PostgreSQL ([postgres] absent)")
    database = Database(spec, target.secret(spec.password_env))
    yield database
    database.close()


@pytest.fixture(scope="session")
def cache(target: LoadedTarget) -> Iterator[Cache]:
    spec = target.spec.redis
    if spec is None:
        pytest.skip("the target declares no Redis ([redis] absent)")
    probe = Cache(spec, target.secret(spec.password_env))
    yield probe
    probe.close()


@pytest.fixture(scope="session")
def fleet(target: LoadedTarget, request: pytest.FixtureRequest) -> Iterator[Fleet]:
    """The target's hosts, one multiplexed connection each for this process."""
    found = fleet_of(request.config, target.spec)
    yield found
    found.close()


@pytest.fixture(scope="session")
def backups(target: LoadedTarget, fleet: Fleet) -> BackupStore:
    """The backup sets, read on the host that holds them ([backups] on)."""
    spec = target.spec.backups
    if spec is None:
        pytest.skip("the target declares no backups ([backups] absent)")
    _, files = fleet.files_on(spec.on)[0]
    return BackupStore(spec, target.spec.zone(), files=files)


@pytest.fixture(scope="session")
def metrics(target: LoadedTarget, http: HttpProbe) -> MetricsSource:
    spec = target.spec.metrics
    if spec is None:
        pytest.skip("the target declares no resource history ([metrics] absent)")
    return MetricsSource(http, spec.url)


@pytest.fixture(scope="session")
def suite_reports(target: LoadedTarget, request: pytest.FixtureRequest) -> Path:
    """Where the suite's own past runs are kept: the target's [history] reports, else this run's reports folder."""
    return target.spec.history.reports or run_dir(request.config).parent


@pytest.fixture(scope="session")
def suite_runs(suite_reports: Path) -> list[dict]:
    """Every run summary in the history folder, read once for all the checks that look back."""
    return runs(suite_reports)


@pytest.fixture(scope="session")
def recorded_month(target: LoadedTarget, suite_runs: list[dict], suite_reports: Path) -> Period:
    """The last month of the suite's own daily runs (M1, M2), from the target's history folder."""
    return Period.of(suite_runs, suite_reports, "daily", target.spec.history.period_days)


@pytest.fixture(scope="session")
def capacity_history(target: LoadedTarget, suite_runs: list[dict], suite_reports: Path) -> Period:
    """The daily runs M3 fits its trends over (`[capacity] fit_days`)."""
    return Period.of(suite_runs, suite_reports, "daily", target.spec.capacity.fit_days)


@pytest.fixture(scope="session")
def attestation_trail(target: LoadedTarget, request: pytest.FixtureRequest) -> Path:
    """Where attestations are kept: the target's [attestations] trail, else this run's reports folder."""
    return target.spec.attestations.trail or run_dir(request.config).parent


@pytest.fixture(scope="session")
def restored_from(backups: BackupStore, request: pytest.FixtureRequest) -> BackupSet:
    """The backup set a post_restore run compares with: --restored-from, or the newest daily set."""
    name = request.config.getoption("opscheck_restored_from")
    found = [s for s in backups.sets()[0] if s.name == name] if name else [backups.latest("daily")]
    if not found or found[0] is None:
        pytest.fail(f"no backup set {name or '(daily)'} in {backups.place} to compare the restore with", pytrace=False)
    return found[0]


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@pytest.fixture(scope="session")
def maintenance_window(target: LoadedTarget, fleet: Fleet, request: pytest.FixtureRequest) -> Window:
    """The window a post_maintenance run judges: --window-start; else the later of the target's most recent
    scheduled window and the one its window record says was held."""
    spec, zone = target.spec.maintenance, target.spec.zone()
    start = request.config.getoption("opscheck_window_start")
    if start is None:
        day, clock = spec.window.split()
        now = datetime.now(zone)
        start = now.replace(hour=int(clock[:2]), minute=int(clock[3:]), second=0, microsecond=0)
        start -= timedelta(days=(start.weekday() - WEEKDAYS.index(day)) % 7)
        if start > now:
            start -= timedelta(days=7)
        held = _recorded_window(spec, fleet, zone) if spec.record else None
        start = max(start, held) if held and held <= now else start
    elif start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    return Window(start, start + timedelta(hours=spec.duration_hours))


def _recorded_window(spec: Maintenance, fleet: Fleet, zone: tzinfo) -> datetime | None:
    """The newest start the window record holds; None where no window has written one yet."""
    assert spec.record is not None
    where, files = fleet.files_on(spec.on)[0]
    if files.stat(spec.record) is None:
        return None
    try:
        text = files.read_text(spec.record)
    except (OSError, ProbeError) as exc:
        pytest.fail(f"the maintenance window record {spec.record} on {where} cannot be read: "
                    f"{getattr(exc, 'strerror', None) or exc} ([maintenance] record)", pytrace=False)  # fmt: skip
    held = recorded_start(text, zone)
    if held is None:
        pytest.fail(f"the maintenance window record {spec.record} on {where} holds no ISO 8601 time "
                    "(write it with `date -Is > FILE` when the window begins)", pytrace=False)  # fmt: skip
    return held


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@pytest.fixture(scope="session")
def logs(target: LoadedTarget, fleet: Fleet) -> Logs:
    return Logs(target, fleet)


@pytest.fixture
def host(host_spec, fleet: Fleet) -> testinfra.host.Host:
    """The testinfra host of one of the target's hosts: checks that apply per host run once per host."""
    return fleet.connect(host_spec)
