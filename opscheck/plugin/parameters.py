"""The declared things checks apply to: a check that asks for `health_endpoint`, `integrity_rule`, `app_log`,
`host_spec`, `tls_endpoint`, … runs once per thing the target declares, and once as a skip that says why when
it declares none.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from opscheck.errors import OpscheckError
from opscheck.plugin.hosts import fleet_of
from opscheck.plugin.logs import holders
from opscheck.plugin.target import required_target
from opscheck.probes import load
from opscheck.probes.integrity import rules
from opscheck.probes.tls import Endpoint
from opscheck.target.components import COMPONENT_TITLES

# The manual: a response over 500 ms is a WARNING, an error ratio over 5 % an ERROR.
LOAD_LEVELS = {"p95_ms": "warning", "p99_ms": "warning", "error_percent": "error", "min_rps": "warning"}


@dataclass(frozen=True)
class HealthEndpoint:
    component: str
    url: str

    @property
    def title(self) -> str:
        return COMPONENT_TITLES[self.component]


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
    spec = required_target(metafunc.config).spec
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
        _over(metafunc, "app_log", _per_host(metafunc, names), "no application log ([logs] app, frontend, alerts)")
    if "log_name" in wanted:
        _over(metafunc, "log_name", _per_host(metafunc, list(spec.logs.declared())), "no log ([logs])")
    if "public_url" in wanted:
        _over(metafunc, "public_url", spec.outside.urls, "no public names ([outside] urls)")
    if "endpoint" in wanted:
        _over(metafunc, "endpoint", spec.performance.endpoints, "no endpoints to time ([performance] endpoints)")
    if "batch_job" in wanted:
        _over(metafunc, "batch_job", spec.batch.jobs, "no nightly jobs ([batch] jobs)")
    if "host_spec" in wanted:
        role = getattr(metafunc.function, "host_role", None)
        try:
            declared = fleet_of(metafunc.config, spec).hosts
        except OpscheckError as exc:  # an inventory that cannot be read: one line, before any check runs
            raise pytest.UsageError(str(exc)) from None
        hosts = [h for h in declared if role is None or role in h.roles]
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
        limits = load.thresholds(required_target(metafunc.config))
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


def _per_host(metafunc: pytest.Metafunc, names: list[str]) -> list[str]:
    """Each log once, or once per host (`app@app2`) where several hosts keep one: each is judged on its own."""
    spec = required_target(metafunc.config).spec
    fleet = fleet_of(metafunc.config, spec)
    out = []
    for name in names:
        kept = holders(spec.logs, name, fleet)
        out += [f"{name}@{host}" for host in kept] if len(kept) > 1 else [name]
    return out


def on_hosts_with_role(role: str):
    """Run a host check only on the target's hosts that carry `role` (e.g. the database host)."""

    def mark(func):
        func.host_role = role
        return func

    return mark
