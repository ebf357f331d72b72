"""`--target`: which deployment a run checks. Chosen once on the controller; xdist workers are told the file."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from opscheck.errors import OpscheckError
from opscheck.target.loader import LoadedTarget, load_target
from opscheck.target.selection import ProvidedTarget, choose_target

TARGET_KEY = pytest.StashKey[LoadedTarget]()
PROVIDED_KEY = pytest.StashKey[ProvidedTarget]()
WORKER_INPUT = "opscheck_target"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opscheck")
    group.addoption(
        "--target",
        dest="opscheck_target",
        metavar="NAME|PATH",
        help="the deployment to check: targets/NAME.toml, a provider such as 'sandbox', or a path "
        "(default: $OPSCHECK_TARGET; there is no silent default)",
    )
    group.addoption(
        "--restored-from",
        dest="opscheck_restored_from",
        metavar="SET",
        help="post_restore: the backup set (folder name) the target was restored from (default: the newest daily)",
    )
    group.addoption(
        "--window-start",
        dest="opscheck_window_start",
        metavar="ISO-TIME",
        type=datetime.fromisoformat,
        help="post_maintenance: when the maintenance window began (default: the target's last scheduled window; "
        "a time without offset is in the target's timezone)",
    )


def runs_checks(config: pytest.Config) -> bool:
    """True when the run collects the operational checks (the self-tests in tests/ need no target)."""
    checks = (config.rootpath / "checks").resolve()
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == checks or checks in path.parents or path in checks.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Choose the target before any plugin is configured: reports name their folder by it."""
    if config.option.help or config.option.version:
        return
    if not (config.rootpath / "checks").is_dir() and (
        config.getoption("opscheck_target") or config.getoption("opscheck_reports_dir")
    ):
        # pytest finds its configuration from path-like arguments before any plugin can claim
        # `--target`, so `--target /etc/x.toml` makes it look under /etc instead of here.
        raise pytest.UsageError(
            f"pytest did not find the opscheck suite from {config.invocation_params.dir}: run it in the opscheck "
            "repository, and give paths outside it with '=' (--target=PATH, --reports-dir=DIR) or as "
            "OPSCHECK_TARGET / OPSCHECK_REPORTS_DIR"
        )
    if runs_checks(config):
        _choose_and_load(config)


def _choose_and_load(config: pytest.Config) -> None:
    try:
        worker_input = getattr(config, "workerinput", None)
        if worker_input is not None:
            path = Path(worker_input[WORKER_INPUT])
        else:
            provided = choose_target(config.getoption("opscheck_target"), config.rootpath / "targets")
            config.stash[PROVIDED_KEY] = provided
            # Workers inherit the environment: the provider's secrets reach them without a file.
            os.environ.update(provided.environ)
            path = provided.path
        config.stash[TARGET_KEY] = load_target(path)
    except OpscheckError as exc:
        _stop_provided(config)
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_provided(config)


def _stop_provided(config: pytest.Config) -> None:
    provided = config.stash.get(PROVIDED_KEY, None)
    if provided is not None and provided.stop is not None:
        provided.stop()
        provided.stop = None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # xdist: tell each worker which file was chosen
    target = node.config.stash.get(TARGET_KEY, None)
    if target is not None:
        node.workerinput[WORKER_INPUT] = str(target.path)


def pytest_report_header(config: pytest.Config) -> str | None:
    target = config.stash.get(TARGET_KEY, None)
    if target is None:
        return None
    return f"target: {target.spec.name} ({target.path})"


def loaded_target(config: pytest.Config) -> LoadedTarget | None:
    return config.stash.get(TARGET_KEY, None)


def required_target(config: pytest.Config) -> LoadedTarget:
    """The run's target; a check collected without one (outside the repository root) is a usage error."""
    target = loaded_target(config)
    if target is None:
        raise pytest.UsageError("checks need a target: run them from the repository root with --target")
    return target
