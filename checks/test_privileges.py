"""O1 — the suite's own roles hold only what they need, as the README asks: a monitoring role that can write,
or a drill role that can make roles, is a risk opscheck itself brings to production. Each excess is named
with the statement that removes it."""

import pytest

from opscheck.judge.privileges import drill_excesses, monitoring_excesses
from opscheck.probes.drill import ScratchServer
from opscheck.probes.privileges import grants_of

pytestmark = [pytest.mark.security, pytest.mark.weekly]


def _listed(excesses) -> str:
    """The excesses in the verdict's one line, then each with the statement that removes it."""
    return "; ".join(e.what for e in excesses) + "\n" + "\n".join(f"  {e.remedy}" for e in excesses)


@pytest.mark.checklist("O1")
@pytest.mark.level("warning")
def test_monitoring_role_only_reads(db):
    me, grants = grants_of(db.rows)
    excesses = monitoring_excesses(me, grants)
    assert not excesses, (
        f"the monitoring role {me} at {db.address} holds more than reading: {_listed(excesses)}\n"
        "Manual (README): the monitoring role needs pg_monitor and pg_read_all_data only; "
        "run the statements above as the owner"
    )


@pytest.mark.checklist("O1")
@pytest.mark.level("warning")
def test_drill_role_holds_only_createdb(target):
    spec = target.spec.drill
    if spec is None:
        pytest.skip("the target declares no scratch server for drills ([drill] absent)")
    server = ScratchServer(spec, target.secret(spec.password_env))
    with server.connect(spec.maintenance_db) as conn:
        conn.execute("SET default_transaction_read_only = on")
        me, grants = grants_of(lambda sql: conn.execute(sql).fetchall())
    excesses = drill_excesses(me, grants)
    assert not excesses, (
        f"the drill's role {me} at {server.address} holds other than CREATEDB: {_listed(excesses)}\n"
        "Manual (README): the drill's role needs CREATEDB only; run the statements above as the owner"
    )


# Commands that lose or reconfigure a cache, asked with arguments each refuses after the ACL check (never run).
REDIS_DANGERS = {"FLUSHALL": ("OPSCHECK-NEVER-A-FLAG",), "FLUSHDB": ("OPSCHECK-NEVER-A-FLAG",),
                 "CONFIG SET": ("opscheck-no-such-option", "x")}  # fmt: skip


@pytest.mark.checklist("O1")
@pytest.mark.level("warning")
def test_redis_user_cannot_flush_or_reconfigure(cache):
    if cache.user is None:
        pytest.skip("the target's Redis URL names no ACL user (redis://USER@host): the suite is the default user")
    allowed = [name for name, args in REDIS_DANGERS.items() if cache.permitted(*name.split(), *args)]
    rules = " ".join(f"-{name.lower().replace(' ', '|')}" for name in allowed)
    assert not allowed, (
        f"the suite's Redis user {cache.user} at {cache.address} may run {', '.join(allowed)}. "
        f"Manual (README): ACL SETUSER {cache.user} {rules} (and ACL SAVE where ACLs live in a file); it needs "
        "+@read +info only"
    )
