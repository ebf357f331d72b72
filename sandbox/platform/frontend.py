"""The front end (miraikakakufront, `npm start` in the manual): a page, and /api/health that asks the API."""

from __future__ import annotations

import ssl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from sandbox.platform.common import app_logger, harden, ports, sandbox

log = app_logger("miraikakaku.frontend", "frontend.log")
API = f"https://127.0.0.1:{ports()['api']}"
CLIENT = httpx.Client(timeout=2.0, verify=ssl.create_default_context(cafile=str(sandbox().tls / "ca.pem")))

app = FastAPI(title="Miraikakaku front end", openapi_url=None, docs_url=None, redoc_url=None)

PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>未来価格 Miraikakaku</title></head>
<body><h1>未来価格</h1><p>Stock price predictions.</p></body></html>"""


@app.middleware("http")
async def security_headers(request: Request, call_next):
    response = await call_next(request)
    harden(response.headers, https=False, origin=request.headers.get("origin"))
    return response


@app.get("/", response_class=HTMLResponse)
def page() -> str:
    return PAGE


@app.get("/api/health")
def health() -> JSONResponse:
    try:
        api = "ok" if CLIENT.get(f"{API}/health").status_code == 200 else "failing"
    except httpx.HTTPError as exc:
        log.error("API unreachable from the front end: %s", type(exc).__name__)
        api = "unreachable"
    healthy = api == "ok"
    return JSONResponse({"status": "ok" if healthy else "degraded", "checks": {"api": api}}, 200 if healthy else 503)
