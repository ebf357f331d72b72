"""Redis and the streaming engine: memory with headroom, no evictions, P5 cache TTLs, fresh price ticks."""

import time

import pytest

pytestmark = [pytest.mark.daily]


@pytest.mark.intraday
@pytest.mark.checklist("D1", "D6")
@pytest.mark.level("warning")
def test_redis_memory_has_headroom_and_nothing_was_evicted(cache, thresholds, measured):
    """Memory and evictions are judged together: a full Redis has usually evicted already, and both are news."""
    memory = cache.call("INFO", "memory")
    stats = cache.call("INFO", "stats")
    used, limit = int(memory["used_memory"]), int(memory["maxmemory"])
    evicted = int(stats["evicted_keys"])
    measured("evicted_keys", evicted)
    if limit > 0:
        measured("memory_percent", round(100.0 * used / limit, 1))
    found = []
    if limit <= 0:
        found.append("has no maxmemory: it grows until the host runs out. Set maxmemory and an eviction policy")
    elif (percent := 100.0 * used / limit) > thresholds.redis_memory_percent:
        found.append(f"uses {used / 1e6:.1f} MB of its {limit / 1e6:.1f} MB maxmemory ({percent:.0f} %; limit "
                     f"{thresholds.redis_memory_percent:g} %). Raise maxmemory or find what fills it")  # fmt: skip
    if evicted:
        found.append(f"has evicted {evicted} key(s) since it started (or since CONFIG RESETSTAT): the cache is too "
                     "small for its load. Raise maxmemory, then CONFIG RESETSTAT")  # fmt: skip
    assert not found, f"Redis at {cache.address} " + "; it ".join(found) + ". Manual: redis-cli info memory"


@pytest.mark.morning
@pytest.mark.checklist("P5")
@pytest.mark.level("warning")
def test_cache_keys_expire_within_their_policy(cache, target, measured):
    """Every sampled key of a cached kind has a TTL, no longer than its policy (300 s / 60 s / 3600 s)."""
    spec = target.spec.redis
    problems = []
    for pattern, longest in spec.ttl_policy.items():
        for key in cache.scan(pattern, spec.ttl_sample):
            ttl = cache.call("TTL", key)
            if ttl == -1:
                problems.append(f"{key} has no TTL (a leak; policy {longest} s)")
            elif ttl > longest:
                problems.append(f"{key} expires in {ttl} s (policy {longest} s)")
    measured("keys_breaking_ttl_policy", len(problems))
    assert not problems, (
        f"{len(problems)} cache key(s) break the TTL policy: {'; '.join(problems[:5])}. Manual (CACHE_CONFIG): "
        "prediction_cache_ttl 300, market_data_cache_ttl 60, user_session_ttl 3600"
    )


@pytest.mark.intraday
@pytest.mark.checklist("D1")
@pytest.mark.level("error")
@pytest.mark.declared("redis.stream", "tick stream")
def test_streaming_engine_ticks_are_fresh(cache, target, measured):
    stream, limit = target.spec.redis.stream, target.spec.redis.stream_max_age_s
    if stream is False:
        pytest.skip("the target declares no tick stream ([redis] stream = false)")
    newest = cache.call("XREVRANGE", stream, "+", "-", "COUNT", 1)
    assert newest, f"the stream {stream!r} in Redis is empty: the streaming engine has published nothing"
    age_s = time.time() - int(newest[0][0].split("-")[0]) / 1000
    measured("newest_tick_age_s", round(age_s, 1))
    assert age_s <= limit, (
        f"the newest tick in {stream!r} is {age_s:.0f} s old (limit {limit:g} s): the streaming engine has "
        "stopped publishing. Manual: restart realtime_streaming_engine.py and check Redis"
    )
