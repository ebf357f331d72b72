"""D2 — 夜間バッチ処理の結果確認: last night's jobs ran, finished, succeeded, on time, with plausible row counts.

Read from the target's batch source ([batch] source: by default the batch_runs table's job, started_at,
finished_at, status, rows_processed and message).
"""

from datetime import UTC, datetime, time, timedelta
from statistics import median

import pytest

from opscheck.target.data import BATCH_COLUMNS

pytestmark = [pytest.mark.daily, pytest.mark.morning, pytest.mark.checklist("D2")]


@pytest.fixture
def runs(db, target, batch_job):
    """The job's latest runs, newest first: last night's and the history it is compared with."""
    batch = target.spec.batch
    return db.source("[batch] source", batch.source, BATCH_COLUMNS, "WHERE job = %s ORDER BY started_at DESC LIMIT %s",
                     (batch_job, batch.history_runs + 1))  # fmt: skip


@pytest.mark.level("error")
def test_last_nightly_run_succeeded(runs, target, batch_job, measured):
    batch = target.spec.batch
    assert runs, (
        f"the {batch_job} job has no recorded run ([batch] source). Manual: check the nightly batch's scheduler and log"
    )
    last = runs[0]
    age_h = (datetime.now(UTC) - last["started_at"]).total_seconds() / 3600
    measured("started_hours_ago", round(age_h, 1))
    assert age_h <= batch.max_age_hours, (
        f"the {batch_job} job last started {age_h:.0f} h ago (limit {batch.max_age_hours:g} h): it did not run last "
        "night. Manual: check the scheduler (cron) and run the job by hand"
    )
    assert last["finished_at"] is not None, f"the {batch_job} job started at {last['started_at']:%H:%M} never finished"
    assert last["status"] in batch.succeeded, (
        f"the {batch_job} job of {last['started_at']:%Y-%m-%d %H:%M} ended {last['status']!r}: "
        f"{last.get('message') or '(no message)'}. "
        "Manual (ERROR): read the batch log, fix the cause, re-run the job"
    )


@pytest.mark.level("warning")
def test_last_nightly_run_finished_before_the_deadline(runs, target, batch_job, measured):
    if not runs or runs[0]["finished_at"] is None:
        pytest.fail(f"the {batch_job} job has no finished run to judge. Manual: check cron and its log", pytrace=False)
    zone = target.spec.zone()
    finished = runs[0]["finished_at"].astimezone(zone)
    hour, minute = map(int, target.spec.batch.deadline.split(":"))
    started = runs[0]["started_at"].astimezone(zone)
    deadline = datetime.combine(started.date(), time(hour, minute), zone)
    if deadline < started:
        deadline += timedelta(days=1)
    measured("minutes_before_the_deadline", round((deadline - finished).total_seconds() / 60))
    assert finished <= deadline, (
        f"the {batch_job} job finished at {finished:%Y-%m-%d %H:%M %Z}, after its {deadline:%H:%M} deadline: "
        "the morning's data is late. Manual (WARNING): find what slowed it (database, input feed)"
    )


@pytest.mark.level("error")
def test_last_nightly_run_processed_a_plausible_row_count(runs, target, batch_job, measured):
    if not runs:
        pytest.fail(f"the {batch_job} job has no run to judge. Manual: check cron and its log", pytrace=False)
    rows = runs[0]["rows_processed"]
    measured("rows_processed", rows)
    assert rows > 0, (
        f"the {batch_job} job 'succeeded' having processed 0 rows: nothing was ingested or predicted. "
        "Manual: read its log, check the input feed, run it again"
    )
    history = [r["rows_processed"] for r in runs[1:] if r["status"] in target.spec.batch.succeeded]
    if len(history) < 2:
        pytest.fail(
            f"the {batch_job} job has {len(history)} earlier successful run(s): too few to judge. Manual: "
            "wait for more nightly runs or read its history",
            pytrace=False,
        )
    usual = median(history)
    band = target.spec.batch.row_band_percent
    low, high = usual * (1 - band / 100), usual * (1 + band / 100)
    assert low <= rows <= high, (
        f"the {batch_job} job processed {rows} rows; the previous {len(history)} runs processed {usual:g} (median), "
        f"so {low:g}–{high:g} was expected. Manual: check the input feed and the job's log"
    )
