"""The manual's escalation flow from the suite's history: incident keys, one message per incident, the steps
30 min / +1 h / +2 h, "resolved" once it passes, a root cause as one incident — all on the history's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from opscheck.record.escalation import HQ, incidents, next_log, plan, step, text
from opscheck.target.record import Notify

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
HEALTH = "checks/test_health.py::test_component_reports_healthy[frontend/api/health]"
PORT = "checks/test_ports.py::test_port_listens[frontend]"
SPEC = Notify(webhook_url_env="SLACK_WEBHOOK_URL")


def run(minutes: float, failed: dict[str, str] | None = None, passed: tuple[str, ...] = (), **extra) -> dict:
    """A run summary finished `minutes` after T0, failing `failed` (node id → level) and passing `passed`."""
    checks = [
        {
            "nodeid": n,
            "outcome": "failed",
            "failed_level": lv,
            "level": lv,
            "checklist": ["D1"],
            "message": f"a cause\n\nDuring handling…\nchecks/test_x.py:29: {n} is down. Manual: restart it",
        }
        for n, lv in (failed or {}).items()
    ]
    checks += [{"nodeid": n, "outcome": "passed", "level": "error", "checklist": ["D1"]} for n in passed]  # fmt: skip
    return {"target": "prod", "finished": (T0 + timedelta(minutes=minutes)).isoformat(), "checks": checks, **extra}


def told(history: list[dict], log: dict | None = None) -> tuple[list, dict]:
    events = plan(history, log or {}, SPEC)
    return events, next_log(log or {}, events, [True] * len(events))


def test_steps_follow_the_manual_30_min_then_an_hour_then_two_hours():
    stays = SPEC.escalate_after_min
    assert [step(1, timedelta(minutes=m), stays) for m in (0, 29, 30, 89, 90, 209, 210)] == [1, 1, 2, 2, 3, 3, HQ]
    assert step(3, timedelta(minutes=119), stays) == 3 and step(3, timedelta(minutes=120), stays) == HQ
    assert step(1, timedelta(minutes=10), (5.0, 5.0, 5.0)) == 3, "overridable"


def test_an_incident_begins_with_its_streak_and_a_run_that_did_not_run_the_check_says_nothing():
    history = [run(0, passed=(HEALTH,)), run(10, {HEALTH: "error"}), run(20), run(40, {HEALTH: "error"})]
    [incident] = incidents(history).values()
    assert incident.key == f"check:{HEALTH}" and incident.since == T0 + timedelta(minutes=10)
    assert incident.detail == f"{HEALTH} is down. Manual: restart it"


def test_one_message_per_incident_across_runs_then_escalated_then_resolved():
    history = [run(0, {HEALTH: "error"})]
    events, log = told(history)
    assert [(e.kind, e.step, e.escalated) for e in events] == [("firing", 1, False)]
    history.append(run(20, {HEALTH: "error"}))
    assert told(history, log)[0] == [], "the same incident is told once, not once a run"
    history.append(run(35, {HEALTH: "error"}))
    events, log = told(history, log)
    assert [(e.kind, e.step, e.escalated) for e in events] == [("firing", 2, True)]
    assert "Escalated to Level 2 (#ops-level2)" in text(events[0], "prod", SPEC, T0 + timedelta(minutes=35), Path("r"))
    history.append(run(95, {HEALTH: "error"}))
    events, log = told(history, log)
    assert [(e.step, SPEC.channel(e.step).channel) for e in events] == [(3, "#emergency")]
    history.append(run(215, {HEALTH: "error"}))
    events, log = told(history, log)
    assert events[0].step == HQ and "緊急対策本部設置" in text(events[0], "prod", SPEC, T0, Path("r"))
    history.append(run(230, passed=(HEALTH,)))
    events, log = told(history, log)
    assert [(e.kind, e.step) for e in events] == [("resolved", HQ)] and log == {}
    assert "RESOLVED" in text(events[0], "prod", SPEC, T0 + timedelta(minutes=230), Path("r"))
    assert "3 h 50 min" in text(events[0], "prod", SPEC, T0 + timedelta(minutes=230), Path("r"))


def test_an_incident_found_already_old_is_told_at_the_step_it_has_reached():
    events, _ = told([run(0, {HEALTH: "error"}), run(40, {HEALTH: "error"})])
    assert [(e.step, e.escalated) for e in events] == [(2, False)]
    assert "Escalated to Level 2" in text(events[0], "prod", SPEC, T0 + timedelta(minutes=40), Path("r"))


def test_critical_starts_at_level_3_and_below_the_notify_level_nothing_is_told():
    events, _ = told([run(0, {HEALTH: "critical", PORT: "warning"})])
    assert [(e.key, e.step) for e in events] == [(f"check:{HEALTH}", 3)]


def test_an_undelivered_message_is_told_again_by_the_next_run():
    history = [run(0, {HEALTH: "error"})]
    events = plan(history, {}, SPEC)
    log = next_log({}, events, [False])
    assert log == {} and len(plan([*history, run(5, {HEALTH: "error"})], log, SPEC)) == 1


def test_a_new_failure_after_a_pass_is_a_new_incident():
    history = [run(0, {HEALTH: "error"}), run(10, passed=(HEALTH,)), run(60, {HEALTH: "error"})]
    _, log = told(history[:1])
    events = plan(history, log, SPEC)
    assert [(e.kind, e.step, e.escalated) for e in events] == [("firing", 1, False)]


def test_a_root_cause_is_one_incident_and_its_blocked_checks_are_not():
    root = {"id": "Redis at 127.0.0.1:6379", "part": "redis", "address": "127.0.0.1:6379", "level": "error",
            "message": "Redis at 127.0.0.1:6379 is down: refused", "remedy": "restart redis",
            "blocks": [HEALTH, PORT]}  # as summary.json's root_causes has it  # fmt: skip
    down = run(0, {HEALTH: "error", PORT: "error"}, root_causes=[root])
    events, log = told([down])
    key = "root:Redis at 127.0.0.1:6379"
    assert [(e.key, e.title) for e in events] == [(key, "Redis at 127.0.0.1:6379 (2 check(s) blocked by it)")]
    assert events[0].detail == "Redis at 127.0.0.1:6379 is down: refused — restart redis"
    events, _ = told([down, run(30, passed=(HEALTH, PORT), root_causes=[])], log)
    assert [(e.kind, e.key) for e in events] == [("resolved", key)]
    assert "Redis at 127.0.0.1:6379 (2 check(s) blocked by it) answers again" in text(events[0], "p", SPEC, T0, Path())


def test_a_level_given_only_its_webhook_keeps_the_manuals_channel_and_starts_at_may_name_one_level():
    spec = Notify.model_validate({"level2": {"webhook_url_env": "L2"}, "starts_at": {"critical": 2}})
    assert (spec.channel(2).channel, spec.channel(2).webhook_url_env) == ("#ops-level2", "L2")
    assert (spec.starts_at.error, spec.starts_at.critical) == (1, 2)


def test_a_failure_the_run_could_not_level_is_told_as_an_error():
    unlevelled = run(0, {HEALTH: ""})
    assert [(e.level, e.step) for e in plan([unlevelled], {}, SPEC)] == [("error", 1)]


def test_an_incident_older_than_the_history_read_keeps_its_start_from_the_log():
    """Runs past [notify] history_hours are not read: the log's start stands, so the incident is not told anew."""
    _, log = told([run(0, {HEALTH: "error"}), run(300, {HEALTH: "error"})])
    assert [told.step for told in log.values()] == [HQ]
    assert plan([run(3000, {HEALTH: "error"}), run(3010, {HEALTH: "error"})], log, SPEC) == []
    assert len(plan([run(2990, passed=(HEALTH,)), run(3000, {HEALTH: "error"})], log, SPEC)) == 1, "a new one"
