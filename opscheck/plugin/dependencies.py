"""Root cause first: one preflight reaches every part of the target before any check; a check whose part is down
fails at once ("blocked: Redis at … is down"), and every failure a down part explains names it as `blocked_by`.

The preflight runs once, on the controller (xdist workers are told its result), bounded by the target's timeout.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from opscheck.judge.causes import UNREACHABLE, blocked_level, finding, nearest_down, remedy
from opscheck.judge.levels import CheckFailure, Level
from opscheck.plugin.target import loaded_target
from opscheck.probes.reach import Part, address_of, reach
from opscheck.target.components import COMPONENT_TITLES
from opscheck.target.spec import Target
from opscheck.target.topology import PARTS

BLOCKED_BY = "blocked_by"
DOWN_KEY = pytest.StashKey[dict[str, str]]()
PENDING_KEY = pytest.StashKey["Future[dict[str, str]]"]()
WORKER_INPUT = "opscheck_preflight"
FIXTURE_PARTS = {"db": "postgres", "cache": "redis"}
TITLES = {**COMPONENT_TITLES, "postgres": "PostgreSQL", "redis": "Redis"}


@dataclass(frozen=True)
class Down:
    """A part that did not answer the preflight: the root cause of every failure it explains."""

    part: str
    address: str
    cause: str

    @property
    def id(self) -> str:
        return f"{TITLES[self.part]} at {self.address}"

    @property
    def finding(self) -> str:
        return finding(self.cause)

    @property
    def remedy(self) -> str:
        return remedy(self.part, self.cause)

    def as_record(self, blocks: list[str]) -> dict:
        return {
            "id": self.id, "part": self.part, "address": self.address, "level": str(UNREACHABLE),
            "message": f"{self.id} {self.finding}: {self.cause}", "remedy": self.remedy, "blocks": blocks,
        }  # fmt: skip


def declared_parts(spec: Target) -> dict[str, Part]:
    """Every part the target declares, as the preflight reaches it."""
    parts = {}
    for name in PARTS:
        component = spec.component(name) if name in COMPONENT_TITLES else None
        if component is not None:
            parts[name] = Part("http", address_of(component.base_url, 80), component.health_urls()[0])
    if spec.postgres is not None:
        pg = spec.postgres
        parts["postgres"] = Part(
            "postgres", f"{pg.host}:{pg.port}", f"postgresql://{pg.user}@{pg.host}:{pg.port}/{pg.dbname}"
        )
    if spec.redis is not None:
        parts["redis"] = Part("redis", address_of(spec.redis.url, 6379), spec.redis.url)
    return parts


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start reaching every part once, before any check: it runs while pytest collects, and is waited for by the
    first that needs it (xdist's controller, whose own sessionstart runs last, before starting its workers)."""
    config = session.config
    target = loaded_target(config)
    if target is None:
        return
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        config.stash[DOWN_KEY] = json.loads(worker_input.get(WORKER_INPUT, "{}"))
        return
    spec = target.spec
    if not spec.topology.preflight or config.option.collectonly:
        config.stash[DOWN_KEY] = {}
        return
    parts = list(declared_parts(spec).values())
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opscheck-preflight")
    config.stash[PENDING_KEY] = pool.submit(reach, parts, spec.http.timeout_s, spec.http.ca_bundle)
    pool.shutdown(wait=False)


def _down(config: pytest.Config) -> dict[str, str]:
    """address → cause, once the preflight is done (waiting for it, bounded by its own timeout)."""
    pending = config.stash.get(PENDING_KEY, None)
    if pending is not None:
        config.stash[DOWN_KEY] = pending.result()
        del config.stash[PENDING_KEY]
    return config.stash.get(DOWN_KEY, {})


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # xdist: the workers judge by the controller's one preflight
    node.workerinput[WORKER_INPUT] = json.dumps(_down(node.config))


def down_parts(config: pytest.Config) -> dict[str, Down]:
    """part → Down, for every declared part whose address did not answer; parts sharing a process share it."""
    target = loaded_target(config)
    down = _down(config)
    if target is None or not down:
        return {}
    parts = declared_parts(target.spec)
    return {name: Down(_first_at(parts, p.address), p.address, down[p.address]) for name, p in parts.items()
            if p.address in down}  # fmt: skip


def _first_at(parts: dict[str, Part], address: str) -> str:
    """The part named for an address several parts share (the API, for an ML engine served by it)."""
    return next(name for name, part in parts.items() if part.address == address)


def needs(item: pytest.Item) -> set[str]:
    """The parts a check reads: from its fixtures (db, cache), the component it applies to, its `needs` mark."""
    found = {FIXTURE_PARTS[name] for name in getattr(item, "fixturenames", ()) if name in FIXTURE_PARTS}
    params = getattr(getattr(item, "callspec", None), "params", {})
    endpoint = params.get("health_endpoint")
    if endpoint is not None:
        found.add(endpoint.component)
    target = loaded_target(item.config)
    if target is not None:  # a URL served by a declared part's process needs that part
        urls = [params.get("public_url")]
        if "metrics" in getattr(item, "fixturenames", ()) and target.spec.metrics is not None:
            urls.append(target.spec.metrics.url)
        found |= {name for url in urls if url for name in _parts_at(target.spec, address_of(url, 80))}
    for mark in item.iter_markers("needs"):
        for name in mark.args:
            if name == "listens":
                found |= _listening_on(item, params.get("host_spec"))
            else:
                found.add(name)
    return found


def _listening_on(item: pytest.Item, host_spec) -> set[str]:
    target = loaded_target(item.config)
    if host_spec is None or target is None:
        return set()
    return {name for address in host_spec.listens for name in _parts_at(target.spec, address.split("://")[-1])}


def _parts_at(spec: Target, address: str) -> set[str]:
    """The declared parts listening at host:port (localhost and 127.0.0.1 being one)."""
    wanted = address.replace("localhost:", "127.0.0.1:")
    return {
        name
        for name, part in declared_parts(spec).items()
        if part.address.replace("localhost:", "127.0.0.1:") == wanted
    }


@pytest.fixture(scope="session")
def down(request: pytest.FixtureRequest) -> dict[str, Down]:
    """part → Down for the parts the preflight found down: a check that needs any one of several parts (the
    API or the front end) asks this, where a `needs` mark would block it on either."""
    return down_parts(request.config)


def cause_of(item: pytest.Item, graph_needs: bool) -> Down | None:
    """The down part behind a check: among what it reads directly, or (graph_needs) through the graph too."""
    down = down_parts(item.config)
    if not down:
        return None
    target = loaded_target(item.config)
    graph = target.spec.topology.needs if graph_needs and target is not None else {}
    nearest = nearest_down(needs(item), down, graph)
    return down[nearest] if nearest is not None else None


@pytest.hookimpl(trylast=True)  # after the levels plugin has checked every check's marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A check whose part is down fails at once: its fixtures (which would wait out their timeouts) are not set
    up, and running it raises the blocked failure at its level; setup and teardown stay pytest's own.

    Not while settling (--settle): a part that comes back within the window must be tried again for real."""
    if not down_parts(config) or config.getoption("opscheck_settle", 0.0):
        return
    spec = loaded_target(config).spec  # type: ignore[union-attr]  # down_parts found one
    for item in items:
        cause = cause_of(item, graph_needs=False)
        if cause is None or item.get_closest_marker("skip") is not None:
            continue
        absent = _declared_absent(item, spec)
        if absent is not None:  # what the target declares absent still skips, saying so, though its part is down
            item.add_marker(pytest.mark.skip(reason=absent))
            continue
        declared = item.get_closest_marker("level")
        level = blocked_level(Level.parse(declared.args[0]) if declared else UNREACHABLE)
        message = f"blocked: {cause.id} {cause.finding} ({cause.cause}). Manual: {cause.remedy}"
        item.setup = lambda: None  # type: ignore[method-assign]
        item.runtest = functools.partial(_fail, level, message)  # type: ignore[method-assign]


def _declared_absent(item: pytest.Item, spec: Target) -> str | None:
    """The skip reason of a `declared("section.key", "what")` mark whose key the target sets false."""
    for mark in item.iter_markers("declared"):
        key, what = mark.args
        section, name = key.split(".")
        if getattr(getattr(spec, section, None), name, None) is False:
            return f"the target declares no {what} ([{section}] {name} = false)"
    return None


def _fail(level: Level, message: str) -> None:
    raise CheckFailure(level, message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    """Name the root cause on every failure a down part explains (the HTML report and summary.json read it)."""
    report = yield
    assert isinstance(report, pytest.TestReport)
    if report.failed and BLOCKED_BY not in dict(item.user_properties):
        cause = cause_of(item, graph_needs=True)
        if cause is not None:
            item.user_properties.append((BLOCKED_BY, cause.id))
            report.user_properties = list(item.user_properties)
    return report


def blocked_by(report: pytest.TestReport) -> str | None:
    return dict(getattr(report, "user_properties", ())).get(BLOCKED_BY)


def root_causes(config: pytest.Config, blocked: dict[str, str]) -> list[dict]:
    """summary.json's `root_causes`: each down part once, with the checks it blocks (`blocked`: node id → cause id)."""
    causes = {down.id: down for down in down_parts(config).values()}
    return [down.as_record([nodeid for nodeid, cause in blocked.items() if cause == cause_id])
            for cause_id, down in causes.items()]  # fmt: skip
