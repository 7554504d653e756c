"""ui.format: the shared words and numbers, checked on real snapshots."""

from __future__ import annotations

import math

import pytest

from taskmgr import TaskSnapshot, TaskStatus
from tests.ui.conftest import Snapshots, with_changes
from ui.format import (
    chart_columns,
    chart_labels,
    chart_summary,
    classify_data,
    describe_status,
    error_summary,
    format_cell,
    format_elapsed,
    format_percent,
    status_label,
    status_tone,
    table_columns,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (math.nan, ""),
        (-1.0, "0.0 s"),
        (0.04, "0.0 s"),
        (3.25, "3.2 s"),
        (12.6, "13 s"),
        (59.4, "59 s"),
        (125.0, "2:05"),
        (3725.0, "1:02:05"),
    ],
)
def test_format_elapsed(seconds: float | None, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_format_percent_is_floored_and_clamped() -> None:
    assert format_percent(None) == ""
    assert format_percent(0.999) == "99%"
    assert format_percent(1.0) == "100%"
    assert format_percent(1.7) == "100%"
    assert format_percent(-0.2) == "0%"


def _timed(snapshot: TaskSnapshot, seconds: float) -> TaskSnapshot:
    """The same snapshot with a fixed run time, so the text is predictable."""
    finished = snapshot.started_at + seconds if snapshot.is_final else None
    return with_changes(snapshot, started_at=snapshot.started_at or 1000.0, finished_at=finished)


def test_queued_shows_its_place_in_line(snapshots: Snapshots) -> None:
    assert snapshots.queued.queue_position == 1
    assert status_label(snapshots.queued) == "Queued (#1 in line)"
    assert describe_status(snapshots.queued) == "Queued (#1 in line)"
    assert status_tone(TaskStatus.INIT) == "info"


def test_running_shows_percent_elapsed_and_message(snapshots: Snapshots) -> None:
    text = describe_status(snapshots.running)
    label, percent, elapsed, message = text.split(" · ")
    assert label == "Running"
    assert percent == format_percent(snapshots.running.progress)
    assert elapsed.endswith(" s")
    assert message == snapshots.running.message and message.startswith("step ")


def test_final_states_read_plainly(snapshots: Snapshots) -> None:
    assert describe_status(_timed(snapshots.table_done, 3.21)) == "Done · 3.2 s"
    failed = describe_status(_timed(snapshots.failed, 0.5))
    assert failed == (
        "Failed · 0.5 s · step 2 of 4 failed: simulated upstream error for item-00002 "
        "(the job was asked to fail at step 2)"
    )
    cancelled = describe_status(_timed(snapshots.cancelled, 75))
    assert cancelled.startswith("Cancelled · 1:15 · step ")
    assert status_tone(TaskStatus.SUCCESS) == "success"
    assert status_tone(TaskStatus.ERROR) == "error"
    assert status_tone(TaskStatus.CANCELLED) == "warning"


def test_interrupted_says_why(snapshots: Snapshots) -> None:
    lost = with_changes(_timed(snapshots.cancelled, 2), status=TaskStatus.INTERRUPTED)
    assert describe_status(lost) == "Interrupted · 2.0 s · the process running it stopped"


def test_error_summary_is_one_line_without_a_traceback() -> None:
    assert error_summary(None) == ""
    assert error_summary(ValueError("bad value")) == "bad value"
    assert error_summary(KeyError("key")) == "KeyError: 'key'"
    assert error_summary(ZeroDivisionError("division by zero")) == (
        "ZeroDivisionError: division by zero"
    )
    assert error_summary(RuntimeError("first line\nsecond line")) == "first line"
    assert error_summary(TimeoutError()) == "TimeoutError"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (True, "true"),
        (1234567, "1,234,567"),
        (2000.5, "2,000.5"),
        (3.14159265, "3.14159"),
        (0.15042, "0.1504"),
        (0.00001234, "1.234e-05"),
        (12.0, "12"),
        (math.inf, "inf"),
        ("text", "text"),
    ],
)
def test_format_cell(value: object, text: str) -> None:
    assert format_cell(value) == text


def test_classify_data_by_shape(snapshots: Snapshots) -> None:
    assert classify_data(snapshots.table_done.result) == "table"
    assert classify_data(snapshots.chart_done.result) == "chart"
    assert classify_data([{"x": 1, "y": 2}]) == "table"
    assert classify_data("some text") == "text"
    assert classify_data(42) == "value"
    for empty in (None, [], {}, ""):
        assert classify_data(empty) == "empty"


def test_table_columns_keep_first_seen_order() -> None:
    rows = [{"b": 1, "a": 2}, {"a": 3, "c": 4}]
    assert table_columns(rows) == ["b", "a", "c"]


def test_chart_columns_and_summary_of_a_job_result(snapshots: Snapshots) -> None:
    result = snapshots.chart_done.result
    x_key, xs, lines = chart_columns(result)
    assert x_key == "x"
    assert xs == [float(n) for n in range(5_000, 50_001, 5_000)]
    assert list(lines) == ["y"] and lines["y"][-1] == result["estimate"]
    assert chart_labels(result) == ("points drawn", "estimate of pi")
    summary = chart_summary(result)
    assert not {"series", "x_label", "y_label"} & set(summary)
    assert summary["samples"] == 50_000 and summary["estimate"] == result["estimate"]


def test_chart_columns_of_records_without_x_use_the_first_key() -> None:
    x_key, xs, lines = chart_columns([{"t": 0, "a": 1.0, "b": "n/a"}, {"t": 1, "a": 2.0}])
    assert x_key == "t"
    assert xs == [0.0, 1.0]
    assert list(lines) == ["a"]  # a column with no numbers is not plotted
    assert chart_summary([{"t": 0}]) == {}
    assert chart_labels([{"t": 0}]) == (None, None)
    assert chart_labels({"series": [], "x_label": 3}) == (None, None)
