"""D6 / P7 — システムパフォーマンス確認: response times under the manual's 500 ms; P6 the pool fits the server."""

import math

import pytest

from opscheck.errors import ProbeError


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def _latency(http, target, path: str) -> tuple[float, list[float]]:
    api = target.spec.components.api
    if api is None:
        pytest.skip("the target declares no API ([components.api] absent)")
    url = api.base_url + path
    samples = []
    for _ in range(target.spec.performance.samples):
        try:
            answer = http.get(url, part="API server")
        except ProbeError as exc:
            pytest.fail(f"could not time {url}: {exc}", pytrace=False)
        if answer.status >= 500:
            pytest.fail(
                f"{url} answered HTTP {answer.status} while being timed. Manual: its health check (D1) says "
                "what is down; fix that, then time it again",
                pytrace=False,
            )
        samples.append(answer.elapsed_ms)
    return p95(samples), samples


def _verdict(path: str, worst: float, samples: list[float], limit: float) -> str:
    return (
        f"p95 of {len(samples)} requests to {path} is {worst:.0f} ms (limit {limit:g} ms; median "
        f"{sorted(samples)[len(samples) // 2]:.0f} ms). Manual (WARNING): check resources (htop, free -h), "
        "slow queries (T5), then scale out"
    )


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.post_maintenance
@pytest.mark.checklist("D6", "MW3")
@pytest.mark.level("warning")
@pytest.mark.logs("app")
@pytest.mark.needs("api")
def test_endpoint_answers_within_the_response_limit(http, target, thresholds, endpoint, measured):
    worst, samples = _latency(http, target, endpoint)
    measured("p95_ms", round(worst, 1))
    assert worst <= thresholds.response_ms, _verdict(endpoint, worst, samples, thresholds.response_ms)


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("P7")
@pytest.mark.level("warning")
@pytest.mark.needs("api")
def test_prediction_endpoint_answers_within_the_response_limit(http, target, thresholds, measured):
    path = target.spec.performance.prediction_path
    worst, samples = _latency(http, target, path)
    measured("p95_ms", round(worst, 1))
    assert worst <= thresholds.response_ms, _verdict(path, worst, samples, thresholds.response_ms)


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.checklist("P6")
@pytest.mark.level("warning")
def test_application_pool_fits_under_max_connections(db, target, thresholds, measured):
    app = target.spec.app
    if app.db_pool_max is None:
        pytest.skip("the target declares no application pool size ([app] db_pool_max)")
    row = db.rows(
        "SELECT current_setting('max_connections')::int AS max,"
        " current_setting('superuser_reserved_connections')::int AS reserved"
    )[0]
    usable = row["max"] - row["reserved"]
    allowed = usable * thresholds.db_connections_percent / 100
    wanted = app.db_pool_max * app.instances
    measured("pool_connections", wanted)
    measured("connections_allowed", round(allowed))
    assert wanted <= allowed, (
        f"{app.instances} instance(s) × a pool of {app.db_pool_max} may open {wanted} connections; PostgreSQL has "
        f"{usable} usable, {allowed:.0f} within the {thresholds.db_connections_percent:g} % limit. Manual: adjust "
        "the connection pool (DATABASE_POOL_CONFIG max_connections) or the server's max_connections"
    )
