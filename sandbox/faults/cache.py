"""Faults of Redis, the prediction cache."""

from __future__ import annotations

from sandbox.faults.base import CACHE, ERROR, RESTORE, WARNING, Fault
from sandbox.state import Sandbox, State, is_ours


def _redis(sandbox: Sandbox, state: State):
    import redis

    return redis.Redis(
        host="127.0.0.1", port=state.ports["redis"], password=sandbox.secrets()["OPSCHECK_SANDBOX_REDIS_PASSWORD"]
    )


def _fill_redis(sandbox: Sandbox, state: State) -> None:
    """maxmemory squeezed to just above what is used: the cache is about to evict."""
    client = _redis(sandbox, state)
    client.config_set("maxmemory", int(int(client.info("memory")["used_memory"]) * 1.05))


def _unsqueeze_redis(sandbox: Sandbox, state: State) -> None:
    if is_ours(state.pids["redis"], str(sandbox.root)):
        client = _redis(sandbox, state)
        client.config_set("maxmemory", "64mb")
        client.config_resetstat()  # what an operator does once the evictions are dealt with


FILLER = 3000  # keys of 1 kB with a short TTL: what the eviction policy sheds first


def _evict_filler(sandbox: Sandbox, state: State) -> None:
    """Redis full and already shedding keys: maxmemory squeezed, then filler written past it. volatile-ttl makes
    the filler (shortest TTL, nearly every sampled key) what goes, so the platform's own keys stay."""
    client = _redis(sandbox, state)
    client.config_set("maxmemory-policy", "volatile-ttl")
    client.config_set("maxmemory", int(int(client.info("memory")["used_memory"]) + (1 << 20)))
    pipe = client.pipeline(transaction=False)
    for n in range(FILLER):
        pipe.set(f"filler:{n}", b"x" * 1024, ex=120)
    pipe.execute()


def _drop_filler(sandbox: Sandbox, state: State) -> None:
    if is_ours(state.pids["redis"], str(sandbox.root)):
        client = _redis(sandbox, state)
        client.config_set("maxmemory-policy", "volatile-lru")
        for key in client.scan_iter("filler:*", count=1000):
            client.delete(key)
    _unsqueeze_redis(sandbox, state)


def _leak_key(sandbox: Sandbox, state: State) -> None:
    _redis(sandbox, state).set("prediction:LEAKED", "{}")


def _drop_leaked_key(sandbox: Sandbox, state: State) -> None:
    if is_ours(state.pids["redis"], str(sandbox.root)):
        _redis(sandbox, state).delete("prediction:LEAKED")


def _empty_prediction_cache(sandbox: Sandbox, state: State) -> None:
    client = _redis(sandbox, state)
    for key in client.scan_iter("prediction:*"):
        client.delete(key)


FAULTS: list[Fault] = [
    Fault("redis-memory-full", "Redis's maxmemory squeezed to 5 % above its use", ("D1", "D6"),
          {f"{CACHE}::test_redis_memory_has_headroom_and_nothing_was_evicted": WARNING},
          _fill_redis, _unsqueeze_redis),
    Fault("redis-evicting", "Redis full and shedding keys: maxmemory squeezed, then written past", ("D1", "D6"),
          {f"{CACHE}::test_redis_memory_has_headroom_and_nothing_was_evicted": WARNING},
          _evict_filler, _drop_filler),
    Fault("cache-key-without-ttl", "a prediction cached with no TTL", ("P5",),
          {f"{CACHE}::test_cache_keys_expire_within_their_policy": WARNING}, _leak_key, _drop_leaked_key),
    Fault("cache-not-filled", "the API cannot write its cache; the prediction keys are gone", ("R2",),
          {}, _empty_prediction_cache,
          also={"post_restore": {f"{RESTORE}::test_caches_fill_again": ERROR}}),
]  # fmt: skip
