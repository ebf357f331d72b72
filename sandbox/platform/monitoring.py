"""The monitoring and alert system (monitoring_alert_system.py): polls the API and raises alerts by level.

It also plays the platform's users (synthetic traffic), the way a synthetic-monitoring probe does.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sandbox import metrics, traffic
from sandbox.data import DEMO_USER
from sandbox.platform.common import app_logger, ports, sandbox
from sandbox.state import State

alerts = app_logger("miraikakaku.alerts", "alerts.log")
POLL_S = 2.0
last_poll = {"at": 0.0, "api": "unknown"}


async def poll() -> None:
    context = ssl.create_default_context(cafile=str(sandbox().tls / "ca.pem"))
    async with httpx.AsyncClient(timeout=2.0, verify=context) as client:
        while True:
            try:
                answer = await client.get(f"https://127.0.0.1:{ports()['api']}/api/health")
                state = "ok" if answer.status_code == 200 else "degraded"
            except httpx.HTTPError:
                state = "down"
            if state != last_poll["api"]:
                if state == "ok":
                    alerts.info("INFO api recovered")
                else:
                    alerts.error("ERROR api %s", state)
            last_poll.update(at=time.time(), api=state)
            await asyncio.sleep(POLL_S)


async def users() -> None:
    """Synthetic users at the platform's usual hourly rate, so traffic never stops while the sandbox runs."""
    rng = random.Random()
    context = ssl.create_default_context(cafile=str(sandbox().tls / "ca.pem"))
    base = f"https://127.0.0.1:{ports()['api']}"
    async with httpx.AsyncClient(base_url=base, timeout=2.0, verify=context) as client:
        while True:
            await asyncio.sleep(rng.expovariate(traffic.requests_per_hour(datetime.now(UTC)) / 3600))
            method, path, _, _ = traffic.request(rng)
            headers = {"x-forwarded-for": rng.choice(traffic.CLIENTS), "user-agent": traffic.AGENT}
            body = {"username": DEMO_USER[0], "password": DEMO_USER[1]} if method == "POST" else None
            with contextlib.suppress(httpx.HTTPError):
                await client.request(method, path, headers=headers, json=body)


async def record_resources() -> None:
    """Append what the sandbox really uses to the resource history, as an exporter scraped every SAMPLE_S would."""
    state = sandbox().read_state() or State()
    sampler = metrics.Sampler(state.cgroup, metrics.data_path(sandbox(), state))
    while True:
        await asyncio.sleep(metrics.SAMPLE_S)
        with contextlib.suppress(OSError), sandbox().metrics.open("a", encoding="utf-8") as history:
            history.write(sampler.sample())


@asynccontextmanager
async def lifespan(app: FastAPI):
    tasks = [asyncio.create_task(poll()), asyncio.create_task(users()), asyncio.create_task(record_resources())]
    alerts.info("INFO monitoring started")
    yield
    for task in tasks:
        task.cancel()


app = FastAPI(title="Miraikakaku monitoring", lifespan=lifespan)


@app.get("/health")
def health() -> JSONResponse:
    """Healthy while it keeps polling; what it sees of the API is reported, not judged, here."""
    age = time.time() - last_poll["at"]
    healthy = age <= 3 * POLL_S + 2
    body = {"status": "ok" if healthy else "stalled", "last_poll_age_s": round(age, 1), "observed": last_poll}
    return JSONResponse(body, 200 if healthy else 503)


@app.get("/api/v1/query_range")
def query_range(query: str, start: float, end: float, step: float) -> JSONResponse:
    """The part of Prometheus's HTTP API that D11 asks: one resource of one host over a window."""
    if step <= 0 or end < start or (end - start) / step > 11_000:
        return JSONResponse({"status": "error", "errorType": "bad_data", "error": "bad start, end or step"}, 400)
    answer = metrics.query_range(sandbox().metrics, query, start, end, step)
    return JSONResponse(answer, 200 if answer["status"] == "success" else 400)
