"""Probes: small typed accessors to one part of a target, each bounded by a timeout."""
