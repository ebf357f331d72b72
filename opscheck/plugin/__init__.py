"""The opscheck pytest plugin: each concern is one module of hooks and fixtures (as in pytest's own _pytest)."""

pytest_plugins = [
    "opscheck.plugin.housekeeping",
    "opscheck.plugin.target",
    "opscheck.plugin.dependencies",
    "opscheck.plugin.levels",
    "opscheck.plugin.items",
    "opscheck.plugin.reports",
    "opscheck.plugin.waivers",
    "opscheck.plugin.settle",
    "opscheck.plugin.evidence",
    "opscheck.plugin.notify",
    "opscheck.plugin.output",
    "opscheck.plugin.load",
    "opscheck.plugin.parameters",
    "opscheck.plugin.fixtures",
    "opscheck.plugin.samples",
]
