"""`--item D5,B2`: run the checks that evidence these manual items (pytest refuses `-m D5`, an unknown mark)."""

from __future__ import annotations

import pytest

from opscheck.catalogue import catalogue


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opscheck").addoption(
        "--item",
        dest="opscheck_items",
        metavar="ID[,ID…]",
        help="only the checks that evidence these manual items (`opscheck items` lists them), with any -m",
    )


def wanted_items(config: pytest.Config) -> list[str]:
    raw = config.getoption("opscheck_items", None) or ""
    return [part.strip().upper() for part in raw.split(",") if part.strip()]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Refuse an unknown ID before anything starts, as `-m dayly` is refused."""
    unknown = [i for i in wanted_items(config) if i not in catalogue()]
    if unknown:
        raise pytest.UsageError(f"--item names unknown item(s) {', '.join(unknown)}; `opscheck items` lists them")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(wanted_items(config))
    if not wanted:
        return
    keep, drop = [], []
    for item in items:
        mark = item.get_closest_marker("checklist")
        (keep if mark is not None and wanted & set(mark.args) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
