"""Reading a health endpoint: a 200 is not enough, the body must say healthy, and so must every part it lists."""

from __future__ import annotations

from typing import Protocol

HEALTHY = {"ok", "healthy", "up", "pass", "passing"}


class Answer(Protocol):
    """What a health answer must offer: its status, its body, and that body as JSON."""

    status: int
    body: str

    def json(self) -> object: ...


def health_problems(answer: Answer) -> list[str]:
    """What is wrong with a health answer; empty when it is healthy."""
    if answer.status != 200:
        return [f"answered HTTP {answer.status}"]
    try:
        body = answer.json()
    except ValueError:
        return ["answered 200 but the body is not JSON: " + answer.body[:80]]
    if not isinstance(body, dict):
        return ["answered 200 but the body is not a JSON object"]
    problems = []
    status = body.get("status")
    if not isinstance(status, str):
        problems.append("the body has no 'status' field")
    elif status.lower() not in HEALTHY:
        problems.append(f"reports status {status!r}")
    for group in ("checks", "components", "dependencies"):
        parts = body.get(group)
        if isinstance(parts, dict):
            for name, state in parts.items():
                value = state.get("status") if isinstance(state, dict) else state
                if not (isinstance(value, str) and value.lower() in HEALTHY):
                    problems.append(f"reports {name}: {value!r}")
    return problems
