"""D9 — 予測精度の確認 and T4 — the ML engine's own view of its model.

Accuracy is realised accuracy: predictions whose target day has passed, compared with what
the price did. Normally 80 %; the manual's incident is a fall to 60 %.
"""

from datetime import UTC, datetime

import pytest

from opscheck.errors import ProbeError
from opscheck.judge.levels import Level, fail_at
from opscheck.target.data import PREDICTION_COLUMNS


def _accuracy_from_service(target, http) -> tuple[float, str]:
    """The platform's own figure (the manual's get_system_dashboard()['metrics']['accuracy']): a share or a percent."""
    spec = target.spec.predictions
    url = spec.accuracy_url if "://" in spec.accuracy_url else target.spec.components.api.base_url + spec.accuracy_url
    try:
        value = http.get(url, part="accuracy report").json()
        for key in spec.accuracy_path.split("."):
            value = value[key]
        figure = float(value)
    except (ProbeError, ValueError, KeyError, TypeError, IndexError) as exc:
        pytest.fail(f"could not read the accuracy at {url} ({spec.accuracy_path}): {exc}. Manual: check that the "
                    "accuracy report is published there", pytrace=False)  # fmt: skip
    return (100 * figure if figure <= 1 else figure), f"as {url} reports it ({spec.accuracy_path})"


def _accuracy_from_outcomes(db, target) -> tuple[float, str]:
    spec = target.spec.predictions
    window = spec.accuracy_window_days
    [row] = db.source("[predictions] source", spec.source, PREDICTION_COLUMNS,
                      "WHERE correct IS NOT NULL AND target_date > current_date - %s", (window,),
                      select="count(*) FILTER (WHERE correct) AS right, count(*) AS total")  # fmt: skip
    right, total = row["right"], row["total"]
    if total < spec.min_outcomes:
        pytest.fail(
            f"only {total} predictions with outcomes in the last {window} days "
            f"(at least {spec.min_outcomes} needed to judge). Manual: check that the outcome job runs",
            pytrace=False,
        )
    return 100.0 * right / total, f"over the last {window} days ({right} of {total})"


@pytest.mark.daily
@pytest.mark.intraday
@pytest.mark.checklist("D9")
@pytest.mark.level("warning")
def test_prediction_accuracy_holds(db, target, thresholds, http, measured):
    if target.spec.predictions.accuracy_url:
        accuracy, over = _accuracy_from_service(target, http)
    else:
        accuracy, over = _accuracy_from_outcomes(db, target)
    measured("judged_accuracy_percent", round(accuracy, 1))
    normal, alarm = thresholds.accuracy_normal_percent, thresholds.accuracy_alarm_percent
    floor = normal - target.spec.predictions.accuracy_margin_percent
    found = f"accuracy {over} is {accuracy:.1f} %"
    remedy = "Manual: check the training data and data quality (T4), then retrain (engine.retrain_models())"
    if accuracy <= alarm:
        fail_at(Level.ERROR, f"{found}, at or below the {alarm:g} % alarm (normal {normal:g} %). {remedy}")
    if accuracy < floor:
        fail_at(Level.WARNING, f"{found}, below the normal {normal:g} % by more than the margin. {remedy}")


@pytest.mark.daily
@pytest.mark.morning
@pytest.mark.checklist("T4")
@pytest.mark.level("warning")
@pytest.mark.needs("ml_engine")
def test_ml_engine_model_is_freshly_trained(target, http, measured):
    component = target.spec.components.ml_engine
    if component is None:
        pytest.skip("the target declares no ML engine ([components.ml_engine] absent)")
    url = component.health_urls()[0]
    try:
        body = http.get(url, part="ML engine").json()
    except (ProbeError, ValueError) as exc:
        pytest.fail(f"could not read the ML engine's health at {url}: {exc}. Manual: see that the ML engine runs "
                    "and answers its health", pytrace=False)  # fmt: skip
    trained = body.get("last_trained") if isinstance(body, dict) else None
    assert trained, (
        f"the ML engine at {url} does not report when its model was last trained. Manual: check that the engine "
        "runs (its health, its log); retrain if it lost its model (engine.retrain_models())"
    )
    age_h = (datetime.now(UTC) - datetime.fromisoformat(trained)).total_seconds() / 3600
    measured("model_age_hours", round(age_h, 1))
    limit = target.spec.predictions.model_max_age_hours
    assert age_h <= limit, (
        f"the model ({body.get('model_version')}) was last trained {age_h:.0f} h ago (limit {limit:g} h). "
        "Manual: check the nightly train job (D2) and retrain (engine.retrain_models())"
    )
