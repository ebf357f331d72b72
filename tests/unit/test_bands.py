"""Levels by how far past the limit: within it nothing, over it a WARNING, at the far band an ERROR."""

from __future__ import annotations

import pytest

from opscheck.judge.bands import band, times_limit
from opscheck.judge.levels import Level
from opscheck.target.thresholds import Thresholds


@pytest.mark.parametrize(
    ("percent", "level"), [(80.0, None), (80.1, Level.WARNING), (94.9, Level.WARNING), (95.0, Level.ERROR)]
)
def test_connections_band_by_the_manuals_defaults(percent, level):
    defaults = Thresholds()
    assert band(percent, defaults.db_connections_percent, defaults.db_connections_error_percent) is level


def test_error_lines_ten_times_their_limit_are_an_error():
    far = times_limit(20, Thresholds().log_error_lines_error_factor)
    assert (band(199, 20, far), band(200, 20, far)) == (Level.WARNING, Level.ERROR)
    assert times_limit(0, 10) == 10 and band(1, 0, times_limit(0, 10)) is Level.WARNING, "1 line is not 10× of 0"


def test_the_error_band_must_lie_above_the_limit():
    with pytest.raises(ValueError, match="db_connections_error_percent must be above"):
        Thresholds(db_connections_percent=90, db_connections_error_percent=85)
