"""D9 — 予測精度の確認 and T4 — the ML engine's own view of its model.

Accuracy is realised accuracy: predictions whose target day has passed, compared with what
the price did. Normally 80 %; the manual's incident is a fall to 60 %.
"""

from datetime import UTC, datetime

import pytest

from opscheck.errors import ProbeError
from opscheck.judge.levels import Level, fail_at

ACCURACY = """
SELECT count(*) FILTER (WHERE correct) AS right, count(*) AS total FROM predictions
WHERE correct IS NOT NULL AND target_date > current_date - %s
"""


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D9")
@pytest.mark.level("warning")
def test_prediction_accuracy_holds(db, target, thresholds):
    window = target.spec.predictions.accuracy_window_days
    row = db.rows(ACCURACY, (window,))[0]
    if row["total"] < target.spec.predictions.min_outcomes:
        pytest.fail(
            f"only {row['total']} predictions with outcomes in the last {window} days "
            f"(at least {target.spec.predictions.min_outcomes} needed to judge): is the outcome job running?",
            pytrace=False,
        )
    accuracy = 100.0 * row["right"] / row["total"]
    normal, alarm = thresholds.accuracy_normal_percent, thresholds.accuracy_alarm_percent
    floor = normal - target.spec.predictions.accuracy_margin_percent
    found = f"accuracy over the last {window} days is {accuracy:.1f} % ({row['right']} of {row['total']})"
    remedy = "Manual: check the training data and data quality (T4), then retrain (engine.retrain_models())"
    if accuracy <= alarm:
        fail_at(Level.ERROR, f"{found}, at or below the {alarm:g} % alarm (normal {normal:g} %). {remedy}")
    if accuracy < floor:
        fail_at(Level.WARNING, f"{found}, below the normal {normal:g} % by more than the margin. {remedy}")


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.checklist("T4")
@pytest.mark.level("warning")
def test_ml_engine_model_is_freshly_trained(target, http):
    component = target.spec.components.ml_engine
    if component is None:
        pytest.skip("the target declares no ML engine ([components.ml_engine] absent)")
    url = component.health_urls()[0]
    try:
        body = http.get(url, part="ML engine").json()
    except (ProbeError, ValueError) as exc:
        pytest.fail(f"could not read the ML engine's health at {url}: {exc}", pytrace=False)
    trained = body.get("last_trained") if isinstance(body, dict) else None
    assert trained, f"the ML engine at {url} does not report when its model was last trained"
    age_h = (datetime.now(UTC) - datetime.fromisoformat(trained)).total_seconds() / 3600
    limit = target.spec.predictions.model_max_age_hours
    assert age_h <= limit, (
        f"the model ({body.get('model_version')}) was last trained {age_h:.0f} h ago (limit {limit:g} h). "
        "Manual: check the nightly train job (D2) and retrain (engine.retrain_models())"
    )
