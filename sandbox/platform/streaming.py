"""The streaming engine (realtime_streaming_engine.py): price ticks into a Redis stream (or, in the manual shape,
on a pub/sub channel), market data into the cache."""

from __future__ import annotations

import asyncio
import json
import random
import time
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from sandbox.data import BASE_SYMBOLS
from sandbox.platform.common import app_logger, ports, secret, shape

log = app_logger("miraikakaku.streaming", "streaming.log")
TICK_S = 0.5
STALL_AFTER_S = 5.0
CACHE = redis.Redis(
    host="127.0.0.1", port=ports()["redis"], password=secret("SANDBOX_REDIS_PASSWORD"),
    socket_timeout=2, socket_connect_timeout=2, decode_responses=True, retry=Retry(NoBackoff(), 0),
)  # fmt: skip
# The last published tick, and whether the latest attempt since failed: a Redis just restarted (empty) answers
# pings before the engine has published to it again, and until then the engine is not ticking.
last_tick = {"at": 0.0, "failing": False}


async def feed() -> None:
    rng = random.Random(3)
    prices = {symbol: rng.uniform(20, 600) for symbol in BASE_SYMBOLS}
    while True:
        symbol = rng.choice(BASE_SYMBOLS)
        prices[symbol] *= 1 + rng.gauss(0, 0.001)
        tick = {"symbol": symbol, "price": f"{prices[symbol]:.4f}", "ts": f"{time.time():.3f}"}
        try:
            if shape().stream:
                await CACHE.xadd("ticks", tick, maxlen=10_000, approximate=True)
            else:  # the manual shape's engine publishes ticks to subscribers and keeps no stream
                await CACHE.publish("ticks", json.dumps(tick))
            await CACHE.set(f"market:{symbol}:last", json.dumps(tick), ex=60)
            last_tick.update(at=time.time(), failing=False)
        except redis.RedisError as exc:
            last_tick["failing"] = True
            log.error("tick not published: %s", type(exc).__name__)
        await asyncio.sleep(TICK_S)


@asynccontextmanager
async def lifespan(app: FastAPI):
    task = asyncio.create_task(feed())
    log.info("streaming engine started")
    yield
    task.cancel()


app = FastAPI(title="Miraikakaku streaming engine", lifespan=lifespan)


@app.get("/health")
async def health() -> JSONResponse:
    age = time.time() - last_tick["at"]
    try:
        redis_state = "ok" if await CACHE.ping() else "down"
    except redis.RedisError:
        redis_state = "down"
    ticking = "ok" if age <= STALL_AFTER_S and not last_tick["failing"] else "stalled"
    healthy = redis_state == ticking == "ok"
    body = {
        "status": "ok" if healthy else "degraded",
        "last_tick_age_s": round(age, 1),
        "checks": {"redis": redis_state, "ticks": ticking},
    }
    return JSONResponse(body, 200 if healthy else 503)
