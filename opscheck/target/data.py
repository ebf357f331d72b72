"""The application's data the checks judge: nightly batch runs (D2), price integrity (D4), predictions (D9)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from opscheck.target.base import Section

BATCH_COLUMNS = ("job", "started_at", "finished_at", "status", "rows_processed")
PREDICTION_COLUMNS = ("made_at", "target_date", "correct")


class Batch(Section):
    """The nightly jobs (夜間バッチ) as the platform records their runs: `source` is a read-only query returning
    one row a run with the columns job, started_at, finished_at (NULL while running), status, rows_processed
    (and, where there is one, message); `succeeded` the status values that mean the run succeeded."""

    source: str = "SELECT job, started_at, finished_at, status, rows_processed, message FROM batch_runs"
    succeeded: list[str] = ["succeeded"]
    jobs: list[str] = ["ingest", "predict", "train"]
    deadline: str = Field("06:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # in the target's timezone
    max_age_hours: Annotated[float, Field(gt=0)] = 26.0
    history_runs: Annotated[int, Field(ge=2, le=100)] = 7
    row_band_percent: Annotated[float, Field(gt=0)] = 50.0


class IntegrityRule(Section):
    """A read-only query returning the rows that break a rule; more than `limit` rows fail at `level`."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    sql: str
    level: Literal["warning", "error", "critical"] = "error"
    limit: Annotated[int, Field(ge=0)] = 0
    remedy: str = ""


class Integrity(Section):
    holidays: list[date] = []
    max_daily_move_percent: Annotated[float, Field(gt=0)] = 50.0
    # Prices land after the market closes: the newest complete day is this many trading days back.
    expected_lag_trading_days: Annotated[int, Field(ge=0, le=10)] = 1
    rules: list[IntegrityRule] = []


class Predictions(Section):
    """D9, D10: realised predictions, from `source` (a read-only query with the columns made_at, target_date and
    correct: true, false, or NULL while the outcome is not known)."""

    source: str = "SELECT made_at, target_date, correct FROM predictions"
    # Or, where the platform reports its own accuracy (the manual's get_system_dashboard()['metrics']['accuracy']):
    # a JSON endpoint (a URL, or a path on the API) and the dotted path to the figure in it (a share or a percent).
    accuracy_url: str | None = None
    accuracy_path: str = "metrics.accuracy"
    accuracy_window_days: Annotated[int, Field(ge=1, le=365)] = 7
    accuracy_margin_percent: Annotated[float, Field(ge=0)] = 5.0
    min_outcomes: Annotated[int, Field(ge=1)] = 50
    model_max_age_hours: Annotated[float, Field(gt=0)] = 26.0
