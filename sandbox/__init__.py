"""The reference Miraikakaku platform: real PostgreSQL, Redis and HTTP processes on loopback, breakable on purpose.

Nothing in `opscheck` or `checks` imports this package; they reach the sandbox through
the target file it writes, exactly as they reach production.
"""
