"""Which down part explains a failure, and the level a blocked check fails at: pure, no sandbox."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from opscheck.judge.causes import blocked_level, nearest_down
from opscheck.judge.levels import Level
from opscheck.target.topology import MANUAL_NEEDS, Topology


def test_a_check_is_put_under_the_nearest_part_down():
    assert nearest_down({"frontend"}, {"redis"}, MANUAL_NEEDS) == "redis"  # front end → API → Redis
    assert nearest_down({"frontend"}, {"api", "redis"}, MANUAL_NEEDS) == "api"  # the API is nearer
    assert nearest_down({"redis"}, {"redis", "postgres"}, MANUAL_NEEDS) == "redis"


def test_nothing_down_that_the_check_needs_is_no_cause():
    assert nearest_down({"streaming_engine"}, {"postgres"}, MANUAL_NEEDS) is None
    assert nearest_down(set(), {"postgres"}, MANUAL_NEEDS) is None
    assert nearest_down({"api"}, {"redis"}, {}) is None  # a graph without edges: only what it reads directly


def test_a_cycle_in_the_graph_ends():
    assert nearest_down({"api"}, {"monitoring"}, {"api": ["frontend"], "frontend": ["api"]}) is None


def test_blocked_checks_fail_at_their_level_but_never_above_the_parts():
    assert blocked_level(Level.WARNING) is Level.WARNING
    assert blocked_level(Level.ERROR) is Level.ERROR
    assert blocked_level(Level.CRITICAL) is Level.ERROR  # an unreachable database has not been found to lose data


def test_the_graph_names_only_known_parts():
    assert Topology().needs == MANUAL_NEEDS
    with pytest.raises(ValidationError, match="unknown part"):
        Topology(needs={"api": ["postgress"]})
