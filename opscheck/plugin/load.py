"""`pytest -m load`: one locust run per session, shared by every threshold check; refused up front
(before any process starts or request is sent) when the target does not allow load or the profile
is over its caps."""

from __future__ import annotations

import re

import pytest

from opscheck.errors import TargetError
from opscheck.plugin.reports import artifacts_folder, run_dir
from opscheck.plugin.target import loaded_target
from opscheck.probes import load


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opscheck")
    group.addoption("--load-profile", dest="opscheck_load_profile", default=None,
                    help="load profile from load/profiles.toml (default: the target's [load] default_profile; "
                         "smoke for post_maintenance)")  # fmt: skip
    group.addoption("--load-workers", dest="opscheck_load_workers", type=int, default=0,
                    help="run locust as a master and N workers on this machine (default: one process)")  # fmt: skip


def _selects(config: pytest.Config, mark: str) -> bool:
    return bool(re.search(rf"(?<![\w]){mark}(?![\w])", config.option.markexpr or ""))


def _profile_name(config: pytest.Config) -> str | None:
    asked = config.getoption("opscheck_load_profile")
    if asked:
        return asked
    return "smoke" if _selects(config, "post_maintenance") and not _selects(config, "load") else None


def pytest_sessionstart(session: pytest.Session) -> None:
    """An explicit `-m load` on a target that refuses, or a profile over its caps: one line, nothing sent."""
    config = session.config
    target = loaded_target(config)
    if target is None or not _selects(config, "load") or hasattr(config, "workerinput"):
        return
    refused = load.refusal(target)
    if refused:
        raise pytest.UsageError(refused)
    try:
        load.profile(target, _profile_name(config))
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def load_run(target, request: pytest.FixtureRequest) -> load.LoadResult:
    config = request.config
    refused = load.refusal(target)
    if refused:
        pytest.skip(refused)
    try:
        chosen = load.profile(target, _profile_name(config))
        folder = artifacts_folder(config)
        return load.run(target, chosen, config.getoption("opscheck_load_workers"), folder, run_dir(config).name)
    except TargetError as exc:
        pytest.fail(str(exc), pytrace=False)
