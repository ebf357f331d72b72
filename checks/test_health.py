"""D1 / S1 / S2 — システム全体のヘルスチェック: every declared component up *and* healthy.

The manual's start-up check is `curl :8080/health` and `curl :3000/api/health`; a 200 whose
body says "degraded" is not healthy, so the body is read too.
"""

import pytest

from opscheck.errors import ProbeError
from opscheck.judge.causes import REMEDY
from opscheck.judge.health import health_problems

pytestmark = [
    pytest.mark.daily,
    pytest.mark.morning,
    pytest.mark.post_deploy,
    pytest.mark.post_restore,
    pytest.mark.post_maintenance,
]


@pytest.mark.checklist("D1", "S1", "S2")
@pytest.mark.level("error")
@pytest.mark.logs("app", "frontend", "alerts")
def test_component_reports_healthy(health_endpoint, http):
    try:
        problems = health_problems(http.get(health_endpoint.url))
    except ProbeError as exc:
        problems = [exc.cause]
    assert not problems, (
        f"{health_endpoint.title} at {health_endpoint.url} is not healthy: {'; '.join(problems)}. "
        f"Manual (ERROR, サービス停止): {REMEDY[health_endpoint.component]}"
    )


@pytest.mark.checklist("D1")
@pytest.mark.level("critical")
def test_platform_answers_its_users(target, http, down):
    """Neither the API nor the front end answering is the manual's システム全体停止: CRITICAL."""
    entry_points = {name: c for name in ("api", "frontend") if (c := target.spec.component(name))}
    if not entry_points:
        pytest.skip("the target declares neither an API nor a front end")
    unanswered = []
    for name, component in entry_points.items():
        url = component.base_url + component.entry
        if name in down:  # the preflight found it down: no second timeout to learn it again
            unanswered.append(f"{down[name].id} is down ({down[name].cause})")
            continue
        try:
            answer = http.get(url)
        except ProbeError as exc:
            unanswered.append(exc.what)
            continue
        if answer.status < 500:
            return
        unanswered.append(f"{url} answered HTTP {answer.status}")
    pytest.fail(
        "no entry point answers users: "
        + "; ".join(unanswered)
        + ". Manual (CRITICAL, システム全体停止): convene the emergency team, show the maintenance page, "
        "restore with scripts/full_system_restart.sh",
        pytrace=False,
    )


@pytest.mark.checklist("D1")
@pytest.mark.level("error")
def test_redis_answers(cache):
    assert cache.call("PING") is True, (
        f"Redis at {cache.address} did not answer PING with PONG. Manual: redis-cli ping; "
    )
    "systemctl restart redis-server"
