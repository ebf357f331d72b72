"""The Miraikakaku API (simple_api_server.py in the manual): FastAPI over PostgreSQL and Redis.

Writes the application log (api.log) and an access log in nginx's combined format with
the request time appended, as the nginx in front of the real API would.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import redis
from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from pydantic import BaseModel
from redis.backoff import NoBackoff
from redis.retry import Retry

from sandbox.data import MODEL_VERSION, password_hash
from sandbox.platform.common import FAULTS, app_logger, harden, ports, sandbox, secret, shape

log = app_logger("miraikakaku.api", "api.log")
SHAPE = shape()
B = {c: SHAPE.col("batch", c) for c in ("job", "finished_at", "status")}
P = {c: SHAPE.col("predictions", c) for c in ("symbol", "made_at", "target_date", "correct", "model_version")}
CACHE_TTL = {"prediction": 300, "market": 60, "session": 3600}


def _pool() -> ConnectionPool:
    conninfo = (
        f"host=127.0.0.1 port={ports()['postgres']} dbname=miraikakaku user=miraikakaku "
        f"password={secret('SANDBOX_PG_OWNER_PASSWORD')} connect_timeout=2 application_name=miraikakaku-api"
    )
    return ConnectionPool(
        conninfo,
        min_size=1,
        max_size=8,
        timeout=3,
        open=False,
        kwargs={"row_factory": dict_row},
        check=ConnectionPool.check_connection,
    )


POOL = _pool()
CACHE = redis.Redis(
    host="127.0.0.1", port=ports()["redis"], password=secret("SANDBOX_REDIS_PASSWORD"),
    socket_timeout=2, socket_connect_timeout=2, decode_responses=True, retry=Retry(NoBackoff(), 0),
)  # fmt: skip


def cache_get(key: str) -> str | None:
    """The cache is an accelerator: when Redis is down the API answers from the database, only slower."""
    try:
        return CACHE.get(key)
    except redis.RedisError as exc:
        log.warning("cache read failed, serving from the database: %s", type(exc).__name__)
        return None


def cache_set(key: str, value: str, ttl: int) -> None:
    if "cache-not-filled" in FAULTS:  # the fault: the API was restored pointing at a cache it cannot write
        log.warning("cache write failed: ReadOnlyError")
        return
    try:
        CACHE.set(key, value, ex=ttl)
    except redis.RedisError as exc:
        log.warning("cache write failed: %s", type(exc).__name__)


@asynccontextmanager
async def lifespan(app: FastAPI):
    POOL.open(wait=False)
    log.info("API server started")
    yield
    log.info("API server stopping")
    POOL.close()


app = FastAPI(title="Miraikakaku API", version="1.2.0", lifespan=lifespan)


ONE_AT_A_TIME = asyncio.Lock()  # the load-throughput-cap fault: a single worker, 200 ms a request
PRICE_REQUESTS = itertools.count(1)


@app.middleware("http")
async def access_log(request: Request, call_next):
    started = time.perf_counter()
    if "load-throughput-cap" in FAULTS:
        async with ONE_AT_A_TIME:
            await asyncio.sleep(0.2)
            response = await call_next(request)
    else:
        response = await call_next(request)
    harden(response.headers, https=True, origin=request.headers.get("origin"))
    elapsed = time.perf_counter() - started
    # Behind nginx the client is the first X-Forwarded-For address (real_ip), as the access log shows it.
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
    client = forwarded or (request.client.host if request.client else "-")
    line = SHAPE.access_line(client, datetime.now(UTC), request.method, request.url.path, response.status_code,
                             int(response.headers.get("content-length", 0)), elapsed,
                             request.headers.get("user-agent", "-"))  # fmt: skip
    if "access-log-missing" not in FAULTS:  # the fault: logging broken and the old logs gone
        with open(sandbox().logs / "access.log", "a", encoding="utf-8") as out:
            out.write(line)
    return response


@app.get("/health")
def health() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok", "service": "miraikakaku-api", "version": app.version}


def _probe_database() -> str:
    try:
        with POOL.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        log.error("database connection error: %s", type(exc).__name__)
        return "down"


def _probe_redis() -> str:
    try:
        CACHE.ping()
        return "ok"
    except redis.RedisError as exc:
        log.error("redis connection error: %s", type(exc).__name__)
        return "down"


@app.get("/api/health")
def deep_health() -> JSONResponse:
    """Readiness: the API can reach what it serves from."""
    checks = {"database": _probe_database(), "redis": _probe_redis()}
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


@app.get("/api/ml/health")
def ml_health() -> JSONResponse:
    """The ML engine's get_system_health(): model loaded, trained recently, recent accuracy."""
    if "ml-degraded" in FAULTS:
        log.error("ML engine: model file missing, predictions served from fallback")
        return JSONResponse({"status": "degraded", "model_version": None, "reason": "model not loaded"}, 503)
    try:
        with POOL.connection(timeout=2) as conn:
            row = conn.execute(
                f"SELECT (SELECT max({B['finished_at']}) FROM {SHAPE.batch_table} WHERE {B['job']} = 'train'"
                f"  AND {B['status']} = '{SHAPE.statuses['succeeded']}') AS last_trained,"
                f" (SELECT avg({P['correct']}::int) FROM {SHAPE.predictions_table} WHERE {P['correct']} IS NOT NULL"
                f"   AND {P['made_at']} > now() - interval '30 days') AS accuracy"
            ).fetchone()
    except Exception as exc:
        log.error("ML engine: training data unavailable: %s", type(exc).__name__)
        return JSONResponse({"status": "degraded", "reason": "training data unavailable"}, 503)
    last_trained = row["last_trained"]
    if "ml-model-stale" in FAULTS:
        last_trained = datetime.now(UTC) - timedelta(days=4)
    return JSONResponse(
        {
            "status": "ok",
            "model_version": MODEL_VERSION,
            "last_trained": last_trained.isoformat() if last_trained else None,
            "accuracy": float(row["accuracy"] or 0),
        }
    )


class Prediction(BaseModel):
    """What the API documents for a prediction (OpenAPI), and what clients are built from."""

    symbol: str
    target_date: str
    predicted_close: float
    direction: Literal["up", "down"]
    model_version: str


@app.get("/api/predictions/{symbol}", response_model=None, responses={200: {"model": Prediction}})
def prediction(symbol: Annotated[str, PathParam(examples=["AAPL"])]) -> dict:
    if "slow-predictions" in FAULTS:
        time.sleep(0.6)
    cached = cache_get(f"prediction:{symbol}")
    if cached:
        return _drifted(json.loads(cached))
    with POOL.connection(timeout=3) as conn:
        row = conn.execute(
            f"SELECT {P['symbol']} AS symbol, {P['target_date']} AS target_date, predicted_close, predicted_up,"
            f" {P['model_version']} AS model_version FROM {SHAPE.predictions_table}"
            f" WHERE {P['symbol']} = %s ORDER BY {P['made_at']} DESC LIMIT 1",
            (symbol,),
        ).fetchone()
    if row is None:
        raise HTTPException(404, f"no prediction for {symbol}")
    body = {
        "symbol": row["symbol"],
        "target_date": row["target_date"].isoformat(),
        "predicted_close": float(row["predicted_close"]),
        "direction": "up" if row["predicted_up"] else "down",
        "model_version": row["model_version"],
    }
    cache_set(f"prediction:{symbol}", json.dumps(body), CACHE_TTL["prediction"])
    return _drifted(body)


def _drifted(body: dict) -> dict:
    """The schema-drift fault: a release that sends the price as a formatted string, against the document."""
    return {**body, "predicted_close": f"{body['predicted_close']:,.2f}"} if "schema-drift" in FAULTS else body


SYMBOL = re.compile(r"^[A-Z0-9.\-]{1,10}$")


@app.get("/api/stock_prices/{symbol}")
def stock_prices(symbol: str, days: Annotated[int, Query(ge=1, le=400)] = 30) -> dict:
    if "symbol-crash" in FAULTS and not SYMBOL.match(symbol):  # the input check dropped in a refactor
        raise RuntimeError(f"unexpected symbol {symbol!r} reached the price query")
    if "prices-erroring" in FAULTS and next(PRICE_REQUESTS) % 10 == 0:
        log.error("price query failed: canceling statement due to statement timeout")
        raise HTTPException(500, "internal error")
    with POOL.connection(timeout=3) as conn:
        rows = conn.execute(
            "SELECT date, open, high, low, close, volume FROM stock_prices WHERE symbol = %s"
            " ORDER BY date DESC LIMIT %s",
            (symbol, days),
        ).fetchall()
    if not rows:
        raise HTTPException(404, f"unknown symbol {symbol}")
    prices = [
        {"date": r["date"].isoformat(), **{k: float(r[k]) for k in ("open", "high", "low", "close")},
         "volume": r["volume"]}
        for r in rows
    ]  # fmt: skip
    cache_set(f"market:{symbol}", json.dumps(prices[0]), CACHE_TTL["market"])
    return {"symbol": symbol, "prices": prices}


@app.get("/api/admin/users")
def admin_users(request: Request) -> dict:
    """Administrators only: an admin session (cookie) is required, unless the admin-open fault removed the check."""
    session = request.cookies.get("session")
    if "admin-open" not in FAULTS and not (session and cache_get(f"admin:{session}")):
        raise HTTPException(401, "authentication required")
    with POOL.connection(timeout=3) as conn:
        count = conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"]
    return {"users": count}


class Login(BaseModel):
    username: str
    password: str


@app.post("/api/auth/login")
def login(body: Login, request: Request, response: Response) -> dict:
    client = request.client.host if request.client else "-"
    with POOL.connection(timeout=3) as conn:
        row = conn.execute("SELECT id, password_sha256 FROM users WHERE username = %s", (body.username,)).fetchone()
    if row is None or not secrets.compare_digest(row["password_sha256"], password_hash(body.password)):
        log.warning("%s", SHAPE.failed_login(body.username, client))
        raise HTTPException(401, "authentication failed")
    session = secrets.token_hex(16)
    cache_set(f"session:{session}", str(row["id"]), CACHE_TTL["session"])
    log.info("login user=%s from %s", body.username, client)
    response.set_cookie("session", session, httponly=True, secure=True, samesite="strict")
    return {"status": "ok"}
