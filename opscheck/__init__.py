"""opscheck: the Miraikakaku operations manual, turned into a pytest suite."""

__version__ = "0.1.0"
