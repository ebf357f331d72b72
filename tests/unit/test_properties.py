"""Property tests: whatever bytes a log holds and whatever a target file says, the parsers and the loader answer
with a value, None, or the suite's own one-line error — never anything else."""

from __future__ import annotations

import contextlib
from datetime import UTC

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opscheck.errors import TargetError
from opscheck.judge.logformats import AccessFormat, AppFormat
from opscheck.judge.logstats import level_summary, traffic
from opscheck.judge.schedules import cron_line
from opscheck.judge.threats import add_application_log, from_access
from opscheck.target.loader import load_target
from opscheck.target.security import Security

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LINES = st.lists(st.binary(max_size=300), max_size=20)
LOGISH = st.lists(st.one_of(st.binary(max_size=200), st.sampled_from([
    b'1.2.3.4 - - [29/Nov/2026:08:00:00 +0000] "GET /x HTTP/1.1" 200 5 "-" "a" 0.1',
    b'1.2.3.4 - - [29/Feb/2026:25:61:00 +9999] "GET" x y "-"',
    b"2026-11-29 08:00:00,123 ERROR api boom",
    b"2026-13-45 99:99:99,000 CRITICAL x",
    b'"""""""', b"[", b"\x00\xff\xfe"])), max_size=30)  # fmt: skip
NGINX = AccessFormat.of('$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_x_forwarded_for" '
                        "rt=$request_time", "http_x_forwarded_for")  # fmt: skip
APP = AppFormat.of(r"\[(?P<time>[^\]]+)\] (?P<level>\w+) (?P<message>.*)", "iso", UTC)


@FAST
@given(LOGISH)
def test_access_lines_parse_or_give_nothing(lines):
    for form in (AccessFormat.of(), NGINX):
        for line in lines:
            form.parse(line), form.time_of(line), form.request_line(line)
        traffic(lines, form)
        from_access(lines, Security(), form)


@FAST
@given(LOGISH)
def test_application_lines_parse_or_give_nothing(lines):
    for form in (AppFormat.of(), APP):
        for line in lines:
            form.entry(line), form.time_of(line)
        level_summary(lines, form)
    add_application_log(from_access([], Security()), lines, Security())


@FAST
@given(st.text(max_size=80))
def test_a_log_format_compiles_or_is_refused_as_a_value_error(log_format):
    with contextlib.suppress(ValueError):
        AccessFormat.of(log_format)


@FAST
@given(st.text(max_size=120), st.booleans())
def test_crontab_lines_parse_or_give_nothing(line, with_user):
    cron_line(line, with_user)


TOML_VALUES = st.recursive(
    st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=20), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=8,
)
SECTIONS = st.sampled_from(["logs", "backups", "postgres", "redis", "plans", "batch", "hosts", "components.api",
                            "security", "thresholds", "predictions"])  # fmt: skip
KEYS = st.sampled_from(["root", "url", "host", "user", "dir", "source", "access_format", "app_format", "schedules",
                        "stream", "enabled", "on", "set_name", "name", "timeout_s", "base_url", "parts"])  # fmt: skip


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + "}"
    return repr(value)


@FAST
@given(st.text(max_size=300))
def test_any_text_as_a_target_loads_or_is_refused_in_one_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("t") / "t.toml"
    path.write_text(text, encoding="utf-8")
    _loads_or_one_line(path)


@FAST
@given(SECTIONS, st.dictionaries(KEYS, TOML_VALUES, max_size=4))
def test_any_section_loads_or_is_refused_in_one_line(tmp_path_factory, section, values):
    path = tmp_path_factory.mktemp("t") / "t.toml"
    body = "\n".join(f"{key} = {_toml(value)}" for key, value in values.items())
    header = "[[hosts]]" if section == "hosts" else f"[{section}]"
    path.write_text(f'name = "t"\n{header}\n{body}\n', encoding="utf-8")
    _loads_or_one_line(path)


def _loads_or_one_line(path) -> None:
    try:
        load_target(path, environ={})
    except TargetError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
