"""A health answer: a 200 is not enough; the body must say healthy, and so must every part it lists."""

from __future__ import annotations

import json
from dataclasses import dataclass

from opscheck.judge.health import health_problems


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> object:
        return json.loads(self.body)


def test_a_healthy_answer_has_no_problem():
    assert health_problems(Reply(200, '{"status": "ok", "checks": {"db": "up", "redis": {"status": "pass"}}}')) == []


def test_each_unhealthy_part_is_named():
    said = health_problems(Reply(200, '{"status": "degraded", "components": {"redis": {"status": "down"}}}'))
    assert said == ["reports status 'degraded'", "reports redis: 'down'"]


def test_a_200_that_is_not_a_json_object_is_a_problem():
    assert health_problems(Reply(503, "")) == ["answered HTTP 503"]
    assert health_problems(Reply(200, "<html>ok</html>"))[0].startswith("answered 200 but the body is not JSON")
    assert health_problems(Reply(200, "[]")) == ["answered 200 but the body is not a JSON object"]
    assert health_problems(Reply(200, "{}")) == ["the body has no 'status' field"]
