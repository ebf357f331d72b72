"""Pure judgement: what the probes read, turned into findings and levels. No I/O, no pytest: fast unit tests."""
