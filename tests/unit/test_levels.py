"""The manual's alert levels: ordered, parsed from their names, each with its response time."""

from __future__ import annotations

import pytest

from opscheck.judge.levels import CheckFailure, Level, fail_at, of_severity


def test_levels_are_ordered_so_the_worst_is_the_max():
    assert max(Level.WARNING, Level.CRITICAL, Level.ERROR) is Level.CRITICAL


def test_a_level_is_parsed_from_its_name_in_any_case_and_an_unknown_one_is_refused():
    assert Level.parse(" Error ") is Level.ERROR
    with pytest.raises(ValueError, match="use one of: warning, error, critical"):
        Level.parse("fatal")


def test_each_level_says_how_soon_to_respond():
    assert "15" in Level.ERROR.response and "30" in Level.WARNING.response


def test_fail_at_carries_its_level():
    with pytest.raises(CheckFailure) as failure:
        fail_at(Level.CRITICAL, "data loss")
    assert failure.value.level is Level.CRITICAL and str(failure.value) == "data loss"


def test_an_advisorys_severity_maps_to_a_level():
    assert [of_severity(s) for s in ("critical", "HIGH", "moderate", "low", "unknown")] == [
        Level.CRITICAL, Level.ERROR, Level.WARNING, Level.WARNING, Level.WARNING]  # fmt: skip
