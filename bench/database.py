"""Database benchmarks: all of D4's rules against one sequential count(*) of the same table."""

from __future__ import annotations

import time
from datetime import datetime

import psycopg

from bench.goals import Goal, at_most
from opscheck.probes.integrity import RuleContext, rules
from opscheck.probes.postgres import Database
from opscheck.target.loader import LoadedTarget


def integrity(target: LoadedTarget) -> dict[str, str | Goal]:
    spec = target.spec.postgres
    assert spec is not None
    with psycopg.connect(
        host=spec.host, port=spec.port, dbname=spec.dbname, user=spec.user,
        password=target.secret(spec.password_env), autocommit=True,
    ) as conn:  # fmt: skip
        rows = conn.execute("SELECT count(*) FROM stock_prices").fetchone()[0]
        started = time.perf_counter()
        conn.execute("SELECT count(*) FROM stock_prices").fetchone()
        count_s = time.perf_counter() - started
    db = Database(spec.model_copy(update={"statement_timeout_ms": 600_000}), target.secret(spec.password_env))
    context = RuleContext(target.spec.integrity, datetime.now(target.spec.zone()).date())
    timings = {}
    started = time.perf_counter()
    context.profiles(db)  # the one pass the built-in rules share
    timings["(profile: one pass for the built-ins)"] = time.perf_counter() - started
    for rule in rules(target.spec.integrity):
        started = time.perf_counter()
        rule.judge(db, context)
        timings[rule.name] = time.perf_counter() - started
    db.close()
    total = sum(timings.values())
    result: dict[str, str | Goal] = {
        "stock_prices rows": f"{rows:,}",
        "SELECT count(*) (one sequential scan)": f"{count_s * 1000:.0f} ms",
    }
    result.update({f"rule {name}": f"{seconds * 1000:.0f} ms" for name, seconds in timings.items()})
    result["all rules / count(*)"] = at_most(total / count_s, 2, "×")
    return result
