"""Database benchmarks: all of D4's rules against one sequential count(*) of the same table."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import psycopg

from bench.goals import Goal, at_most
from opscheck.probes.integrity import RuleContext, Verdict, rules
from opscheck.probes.postgres import Database
from opscheck.target.loader import LoadedTarget

ROUNDS = 3  # count(*), every rule, count(*) again; the median round is shown, as the machine's load moves


def integrity(target: LoadedTarget) -> dict[str, str | Goal]:
    """Every rule with a fresh context (the schema's guards and the profiles read anew) between two count(*)s;
    the median round's figures, with each read of stock_prices it made and what proved each rule."""
    spec = target.spec.postgres
    assert spec is not None
    db = Database(spec.model_copy(update={"statement_timeout_ms": 600_000}), target.secret(spec.password_env))
    with psycopg.connect(
        host=spec.host, port=spec.port, dbname=spec.dbname, user=spec.user,
        password=target.secret(spec.password_env), autocommit=True,
    ) as conn:  # fmt: skip
        rows = conn.execute("SELECT count(*) FROM stock_prices").fetchone()[0]
        _judge_all(db, target)  # warmed, as the count(*) above warmed the table

        def count() -> float:
            return _timed(lambda: conn.execute("SELECT count(*) FROM stock_prices").fetchone())

        rounds = []
        for _ in range(ROUNDS):
            before = count()
            context, judged = _judge_all(db, target)
            count_s = (before + count()) / 2
            rounds.append((sum(seconds for seconds, _ in judged.values()) / count_s, count_s, context, judged))
    db.close()
    ratio, count_s, context, judged = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
    result: dict[str, str | Goal] = {
        "stock_prices rows": f"{rows:,}",
        "SELECT count(*) (one sequential scan)": f"{count_s * 1000:.0f} ms",
    }
    result.update({f"read: {what}": f"{seconds * 1000:.0f} ms" for what, seconds in context.reads})
    for name, (seconds, verdict) in judged.items():
        how = f"enforced by {verdict.enforced_by}" if verdict.enforced_by else f"{verdict.total} row(s) break it"
        result[f"rule {name}"] = f"{seconds * 1000:.0f} ms ({how})"
    each = ", ".join(f"{r[0]:.2f}×" for r in rounds)
    result["all rules / count(*)"] = at_most(ratio, 2, "×", f"{ratio:.2f}× (median of {each})")
    return result


def _judge_all(db: Database, target: LoadedTarget) -> tuple[RuleContext, dict[str, tuple[float, Verdict]]]:
    context = RuleContext(target.spec.integrity, datetime.now(target.spec.zone()).date())
    judged = {}
    for rule in rules(target.spec.integrity):
        started = time.perf_counter()
        verdict = rule.judge(db, context)
        judged[rule.name] = (time.perf_counter() - started, verdict)
    return context, judged


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started
