"""The draft's guesses: a log's format from its lines, a data source from a schema, plan patterns from names."""

from __future__ import annotations

from opscheck.judge import drafting
from opscheck.judge.logformats import DEFAULT_ACCESS_FORMAT

COMBINED_RT = b'198.51.100.7 - - [29/Nov/2026:08:00:00 +0000] "GET /api/health HTTP/1.1" 200 55 "-" "curl/8" 0.004'
MAIN_RT = (b'10.0.0.2 - - [29/Nov/2026:17:00:00 +0900] "GET /api/health HTTP/1.1" 200 55 "-" "curl/8" '
           b'"198.51.100.7" rt=0.004')  # fmt: skip


def test_the_access_format_that_reads_the_lines_is_chosen():
    assert drafting.access_format([COMBINED_RT] * 20).value == (DEFAULT_ACCESS_FORMAT, "remote_addr")
    log_format, client = drafting.access_format([MAIN_RT] * 20).value
    assert "rt=$request_time" in log_format and client == "http_x_forwarded_for"
    assert drafting.access_format([b"something else entirely"] * 20) is None


def test_the_application_format_that_reads_the_lines_is_chosen():
    lines = [b"[2026-11-29T09:00:00.123+09:00] WARN api.auth: login failed: user=a ip=b"] * 10
    assert drafting.app_format(lines).value[1] == "iso"
    assert drafting.app_format([b"2026-11-29 08:00:00,001 ERROR api boom"] * 10).value[1] == "%Y-%m-%d %H:%M:%S"


def test_a_batch_source_is_drafted_from_the_table_that_looks_like_one():
    tables = {"job_history": ["id", "job_name", "start_time", "end_time", "state", "records", "detail"],
              "users": ["id", "username"]}  # fmt: skip
    found = drafting.source("batch", tables)
    assert found is not None and found.table == "job_history"
    assert found.sql == ("SELECT job_name AS job, start_time AS started_at, end_time AS finished_at, state AS status,"
                         " records AS rows_processed, detail AS message FROM job_history")  # fmt: skip
    assert drafting.source("predictions", tables) is None
    assert drafting.succeeded(["SUCCESS", "FAILED", "RUNNING"]) == ["SUCCESS"]


def test_plan_patterns_from_the_files_names():
    found = drafting.plan_patterns(["2026/12/2026-12-05-maintenance-db.md", "2026/12/2026-12-06-no-maintenance",
                                    "deploy/2026-W50/api-2.4.md", "maintenance-2026-12-05.md",
                                    "deploy-2026-W50.none"])  # fmt: skip
    assert found["maintenance"] == ["{year}/{month}/{date}*.md", "maintenance-{date}*.md"]
    assert found["no_maintenance"] == ["{year}/{month}/{date}-no-maintenance"]
    assert found["deploy"] == ["deploy/{iso_year}-W{iso_week}/*.md"]
    assert found["no_deploy"] == ["deploy-{iso_year}-W{iso_week}.none"]
    assert drafting.review_line(["# x\nApproved-by: 山田\n"]).value == "(?m)^Approved-by:[ \\t]*\\S"
