"""Loads the opscheck pytest plugin; everything else lives in the `opscheck` package."""

pytest_plugins = ["opscheck.plugin"]
