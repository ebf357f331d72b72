"""Faults the running services act out themselves: they read faults.json, where `inject` records
every active fault, and answer degraded, slow, erroring or insecure while it is there."""

from __future__ import annotations

from sandbox.faults.base import API_SCAN, ERROR, HARDENING, HEALTH, PERF, WARNING, Fault
from sandbox.state import Sandbox, State

LOAD = "checks/test_load.py::test_load_threshold"


def _flag(sandbox: Sandbox, state: State) -> None:
    """Nothing to do here: the service reads faults.json, where `inject` records every active fault."""


FAULTS: list[Fault] = [
    Fault("ml-degraded", "the ML engine reports itself degraded: its model is not loaded", ("D1", "T4"),
          {f"{HEALTH}[ml_engine/api/ml/health]": ERROR,
           "checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING}, _flag),
    Fault("ml-model-stale", "the ML engine reports a model trained four days ago", ("T4",),
          {"checks/test_predictions.py::test_ml_engine_model_is_freshly_trained": WARNING}, _flag),
    Fault("slow-predictions", "/api/predictions answers after 600 ms", ("D6", "P7"),
          {f"{PERF}::test_endpoint_answers_within_the_response_limit[/api/predictions/AAPL]": WARNING,
           f"{PERF}::test_prediction_endpoint_answers_within_the_response_limit": WARNING}, _flag,
          also={"load": {f"{LOAD}[/api/predictions/{{symbol}}-p95_ms]": WARNING}}),
    Fault("prices-erroring", "every tenth /api/stock_prices request answers 500", ("P7", "MW3"),
          {}, _flag, also={"load": {f"{LOAD}[/api/stock_prices/{{symbol}}-error_percent]": ERROR}}),
    Fault("load-throughput-cap", "the API serves one request at a time, 200 ms each (5 requests/s)",
          ("P7", "MW3"), {}, _flag,
          also={"load": {f"{LOAD}[overall-min_rps]": WARNING, f"{LOAD}[*-p95_ms]": WARNING,
                         f"{LOAD}[overall-p99_ms]": WARNING}}),
    Fault("hsts-missing", "the API stopped sending Strict-Transport-Security (a proxy config rewrite)",
          ("W2",), {}, _flag,
          also={"security": {f"{HARDENING}::test_security_headers_are_sent[api]": WARNING}}),
    Fault("server-banner", "server_tokens on: Server: nginx/1.18.0 (Ubuntu), X-Powered-By: Express 4.17.1",
          ("W2",), {}, _flag,
          also={"security": {f"{HARDENING}::test_server_does_not_tell_its_version[*]": WARNING}}),
    Fault("cors-open", "any origin allowed with credentials (Access-Control-Allow-Origin reflected)", ("W2",),
          {}, _flag,
          also={"security": {f"{HARDENING}::test_cors_does_not_trust_any_origin_with_credentials[*]": WARNING}}),
    Fault("symbol-crash", "/api/stock_prices crashes (500) on a symbol outside [A-Z0-9.-]", ("X4", "W2"),
          {}, _flag, also={"security": {f"{API_SCAN}::test_no_input_makes_the_api_fail": ERROR}}),
    Fault("schema-drift", "/api/predictions sends predicted_close as a string, against its OpenAPI document",
          ("X4", "W2"), {}, _flag,
          also={"security": {f"{API_SCAN}::test_answers_match_the_api_schema": WARNING}}),
    Fault("admin-open", "/api/admin/users answers without a session", ("X4", "W2"),
          {}, _flag,
          also={"security": {f"{API_SCAN}::test_protected_endpoints_refuse_anonymous_callers": ERROR}}),
]  # fmt: skip
