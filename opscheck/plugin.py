"""The opscheck pytest plugin: each concern is one module of hooks and fixtures (as in pytest's own _pytest)."""

pytest_plugins = [
    "opscheck.pytest_target",
    "opscheck.pytest_levels",
    "opscheck.pytest_reports",
    "opscheck.pytest_evidence",
    "opscheck.pytest_notify",
    "opscheck.pytest_load",
    "opscheck.fixtures",
]
