"""負荷テスト: realistic traffic from locust (load/locustfile.py) and k6-style thresholds, one check per
threshold so the report says exactly which one failed and by how much. Locust's own HTML report and
CSV statistics are kept in the run's artifacts and linked from each check."""

import pytest
import pytest_html

from opscheck.probes.load import METRICS

pytestmark = [pytest.mark.load, pytest.mark.post_maintenance]


@pytest.mark.checklist("P7", "MW3")
def test_load_threshold(load_threshold, load_run, target, measured, extras):
    extras.append(pytest_html.extras.url("artifacts/locust.html", name="locust report"))
    threshold = load_threshold
    figures = load_run.of(threshold.endpoint)
    where = "all requests" if threshold.endpoint == "overall" else threshold.endpoint
    profile = load_run.profile
    run = f"profile {profile.name}: {profile.users} users, {profile.duration_s} s, {load_run.workers or 1} process(es)"
    assert figures and figures["requests"] >= target.spec.load.min_requests, (
        f"{where} got {figures['requests'] if figures else 0} requests under load ({run}), fewer than the "
        f"{target.spec.load.min_requests} needed to judge its {METRICS[threshold.metric]}. Manual: give it more weight "
        "or users in the load profile"
    )
    metric = threshold.metric.removeprefix("min_")
    value = figures[metric]
    measured(metric, value)
    measured("requests", figures["requests"])
    measured("profile", profile.name)
    stopped = load_run.figures.get("stopped_early")
    unit = "requests/s" if metric == "rps" else ("%" if "percent" in metric else "ms")
    assert threshold.passes(value), (
        f"{where}: {METRICS[threshold.metric]} {value:g} {unit}"
        f" ({'at least' if metric == 'rps' else 'at most'} {threshold.limit:g}) under {run}"
        + (f"; locust stopped the run early: {stopped}" if stopped else "")
        + f". See {load_run.folder / 'locust.html'}. Manual (P7, 負荷テスト): find the slow or failing endpoint's "
        "queries and cache misses before the next release; do not ship under a failed threshold"
    )
