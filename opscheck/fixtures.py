"""Probes as fixtures: checks ask for `http`, `db`, `cache`, `backups`, `logs`, `host`, `target`, `thresholds`,
and for the declared things they apply to (`health_endpoint`, `integrity_rule`, `app_log`, `public_url`, …).

A part the target declares absent skips the checks that need it, and says so in the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import testinfra

from opscheck import load
from opscheck.integrity import rules
from opscheck.probes.backups import BackupSet, BackupStore
from opscheck.probes.cache import Cache
from opscheck.probes.http import HttpProbe
from opscheck.probes.logs import LogFile, access_time, app_time
from opscheck.probes.metrics import MetricsSource
from opscheck.probes.postgres import Database
from opscheck.probes.tls import Endpoint
from opscheck.pytest_reports import run_dir
from opscheck.pytest_target import loaded_target
from opscheck.suite_history import Period, runs
from opscheck.target import COMPONENT_TITLES, LoadedTarget, Thresholds


@dataclass(frozen=True)
class HealthEndpoint:
    component: str
    url: str

    @property
    def title(self) -> str:
        return COMPONENT_TITLES[self.component]


def _target_or_usage_error(config: pytest.Config) -> LoadedTarget:
    target = loaded_target(config)
    if target is None:
        raise pytest.UsageError("checks need a target: run them from the repository root with --target")
    return target


def _over(metafunc: pytest.Metafunc, name: str, values: list, absent: str, ids=None) -> None:
    """Parametrize `name` over what the target declares; with nothing declared, one skip that says why."""
    if values:
        metafunc.parametrize(name, values, ids=ids)
    else:
        metafunc.parametrize(name, [pytest.param(None, marks=pytest.mark.skip(reason=f"the target declares {absent}"))])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Checks that apply to each declared thing (component, rule, log, host, …) run once per thing."""
    wanted = set(metafunc.fixturenames)
    if not wanted & PARAMETERS:
        return
    spec = _target_or_usage_error(metafunc.config).spec
    if "health_endpoint" in wanted:
        params = []
        for name, title in COMPONENT_TITLES.items():
            component = spec.component(name)
            if component is None:
                reason = f"the target declares no {title} ([components.{name}] absent)"
                params.append(pytest.param(None, id=name, marks=pytest.mark.skip(reason=reason)))
                continue
            for path, url in zip(component.health, component.health_urls(), strict=True):
                params.append(pytest.param(HealthEndpoint(name, url), id=f"{name}{path}"))
        metafunc.parametrize("health_endpoint", params)
    if "integrity_rule" in wanted:
        metafunc.parametrize(
            "integrity_rule",
            [pytest.param(r, id=r.name, marks=pytest.mark.level(r.level)) for r in rules(spec.integrity)],
        )
    if "app_log" in wanted:
        names = [name for name in ("app", "frontend", "alerts") if name in spec.logs.declared()]
        _over(metafunc, "app_log", names, "no application log ([logs] app, frontend, alerts)")
    if "log_name" in wanted:
        _over(metafunc, "log_name", list(spec.logs.declared()), "no log ([logs])")
    if "public_url" in wanted:
        _over(metafunc, "public_url", spec.outside.urls, "no public names ([outside] urls)")
    if "endpoint" in wanted:
        _over(metafunc, "endpoint", spec.performance.endpoints, "no endpoints to time ([performance] endpoints)")
    if "batch_job" in wanted:
        _over(metafunc, "batch_job", spec.batch.jobs, "no nightly jobs ([batch] jobs)")
    if "host_spec" in wanted:
        role = getattr(metafunc.function, "host_role", None)
        hosts = [h for h in spec.hosts if role is None or role in h.roles]
        absent = f"no host {f'with role {role!r}' if role else 'at all'} ([[hosts]])"
        _over(metafunc, "host_spec", hosts, absent, ids=[h.name for h in hosts])
    if "attested_item" in wanted:
        items = spec.attestations.max_age_days
        metafunc.parametrize(
            "attested_item",
            [pytest.param(i, id=i, marks=pytest.mark.checklist(i)) for i in items]
            or [pytest.param(None, marks=pytest.mark.skip(reason="the target asks for no attestations"))],
        )
    if "load_threshold" in wanted:
        limits = load.thresholds(_target_or_usage_error(metafunc.config))
        params = [pytest.param(t, id=t.id, marks=pytest.mark.level(LOAD_LEVELS[t.metric])) for t in limits]
        metafunc.parametrize(
            "load_threshold",
            params
            or [pytest.param(None, marks=pytest.mark.skip(reason="the target sets no load thresholds ([load])"))],
        )
    if "dependency_manifest" in wanted:
        manifests = [("pip", p) for p in spec.dependencies.python] + [("npm", p) for p in spec.dependencies.npm]
        ids = [f"{tool}:{path.name if tool == 'pip' else path.name + '/package-lock.json'}" for tool, path in manifests]
        _over(metafunc, "dependency_manifest", manifests, "no manifests to audit ([dependencies])", ids=ids)
    if "public_component" in wanted:
        public = [name for name in ("api", "frontend") if spec.component(name)]
        _over(metafunc, "public_component", public, "neither an API nor a front end ([components])")
    if "tls_endpoint" in wanted:
        endpoints = [Endpoint.parse(e) for e in spec.tls.endpoints]
        _over(
            metafunc, "tls_endpoint", endpoints, "no TLS endpoints ([tls] endpoints)", ids=[str(e) for e in endpoints]
        )
    if "capacity_figure" in wanted:
        _over(metafunc, "capacity_figure", list(spec.capacity.limits), "no capacity limits ([capacity.limits])")
    if "resource" in wanted:
        queries = list(spec.metrics.queries) if spec.metrics else []
        _over(metafunc, "resource", queries, "no resource history ([metrics] absent)")


PARAMETERS = {"health_endpoint", "integrity_rule", "app_log", "log_name", "public_url", "endpoint", "batch_job",
              "host_spec", "resource", "attested_item", "capacity_figure",
              "load_threshold", "tls_endpoint",
              "public_component", "dependency_manifest"}  # fmt: skip


def on_hosts_with_role(role: str):
    """Run a host check only on the target's hosts that carry `role` (e.g. the database host)."""

    def mark(func):
        func.host_role = role
        return func

    return mark


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> LoadedTarget:
    return _target_or_usage_error(request.config)


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
def backups(target: LoadedTarget) -> BackupStore:
    spec = target.spec.backups
    if spec is None:
        pytest.skip("the target declares no backups ([backups] absent)")
    return BackupStore(spec.root)


@pytest.fixture(scope="session")
def metrics(target: LoadedTarget, http: HttpProbe) -> MetricsSource:
    spec = target.spec.metrics
    if spec is None:
        pytest.skip("the target declares no resource history ([metrics] absent)")
    return MetricsSource(http, spec.url)


# The manual: a response over 500 ms is a WARNING, an error ratio over 5 % an ERROR.
LOAD_LEVELS = {"p95_ms": "warning", "p99_ms": "warning", "error_percent": "error", "min_rps": "warning"}


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
        pytest.fail(f"no backup set {name or '(daily)'} in {backups.root} to compare the restore with", pytrace=False)
    return found[0]


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@pytest.fixture(scope="session")
def maintenance_window(target: LoadedTarget, request: pytest.FixtureRequest) -> Window:
    """The window a post_maintenance run judges: --window-start, or the target's most recent scheduled one."""
    spec, zone = target.spec.maintenance, target.spec.zone()
    start = request.config.getoption("opscheck_window_start")
    if start is None:
        day, clock = spec.window.split()
        now = datetime.now(zone)
        start = now.replace(hour=int(clock[:2]), minute=int(clock[3:]), second=0, microsecond=0)
        start -= timedelta(days=(start.weekday() - WEEKDAYS.index(day)) % 7)
        if start > now:
            start -= timedelta(days=7)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    return Window(start, start + timedelta(hours=spec.duration_hours))


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Logs:
    """The target's declared logs; asking for one the target does not declare skips the check, saying so."""

    def __init__(self, target: LoadedTarget) -> None:
        self.spec = target.spec.logs
        self.zone = target.spec.zone()

    def file(self, name: str) -> LogFile:
        path = self.spec.declared().get(name)
        if path is None:
            pytest.skip(f"the target declares no {name} log ([logs] {name})")
        return LogFile(name, path, access_time if name == "access" else app_time(self.zone))


@pytest.fixture(scope="session")
def logs(target: LoadedTarget) -> Logs:
    return Logs(target)


@pytest.fixture
def host(host_spec) -> testinfra.host.Host:
    """The testinfra host of one of the target's hosts: checks that apply per host run once per host."""
    return testinfra.get_host(host_spec.url)
