"""The words and numbers shown for a task, kept in one place for every front end.

Pure functions only: the Streamlit pages, StreamlitOutput and TerminalOutput all call
these, so a status reads the same in the browser and in the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from taskmgr import TaskSnapshot, TaskStatus
from ui.output import ChartData

DataShape = Literal["table", "chart", "text", "value", "empty"]
Tone = Literal["info", "success", "error", "warning"]

_LABELS: dict[TaskStatus, str] = {
    TaskStatus.INIT: "Queued",
    TaskStatus.IN_PROGRESS: "Running",
    TaskStatus.CANCELLING: "Cancelling",
    TaskStatus.SUCCESS: "Done",
    TaskStatus.ERROR: "Failed",
    TaskStatus.CANCELLED: "Cancelled",
    TaskStatus.INTERRUPTED: "Interrupted",
}
_TONES: dict[TaskStatus, Tone] = {
    TaskStatus.INIT: "info",
    TaskStatus.IN_PROGRESS: "info",
    TaskStatus.CANCELLING: "warning",
    TaskStatus.SUCCESS: "success",
    TaskStatus.ERROR: "error",
    TaskStatus.CANCELLED: "warning",
    TaskStatus.INTERRUPTED: "warning",
}
#: Keys of a chart's data that are not values to show beside it.
_CHART_KEYS = frozenset({"series", "x_label", "y_label"})
#: Exception types whose message speaks for itself; others are shown as ``Type: message``.
_SELF_EXPLAINING = (ValueError, RuntimeError)


def format_elapsed(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``2:05``, ``1:02:05``; an empty string when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_percent(progress: float | None) -> str:
    """``42%``; an empty string when the task has not said how far it is."""
    if progress is None:
        return ""
    return f"{math.floor(max(0.0, min(1.0, progress)) * 100)}%"


def status_label(snapshot: TaskSnapshot) -> str:
    """One or two words for the status, with the place in line while queued."""
    label = _LABELS.get(snapshot.status, snapshot.status.name.title())
    if snapshot.status is TaskStatus.INIT and snapshot.queue_position is not None:
        return f"{label} (#{snapshot.queue_position} in line)"
    return label


def status_tone(status: TaskStatus) -> Tone:
    """How a front end should colour the status: info, success, error or warning."""
    return _TONES.get(status, "info")


def error_summary(error: BaseException | None) -> str:
    """The error in one line, without a traceback."""
    if error is None:
        return ""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if not message:
        return type(error).__name__
    if isinstance(error, _SELF_EXPLAINING):
        return message
    return f"{type(error).__name__}: {message}"


def describe_status(snapshot: TaskSnapshot) -> str:
    """The whole state in one line, e.g. ``Running · 42% · 3.1 s · step 3/10 done``."""
    status = snapshot.status
    parts = [status_label(snapshot)]
    if status is TaskStatus.IN_PROGRESS:
        parts.append(format_percent(snapshot.progress))
    parts.append(format_elapsed(snapshot.elapsed_s))
    if status is TaskStatus.ERROR:
        parts.append(error_summary(snapshot.error))
    elif status is TaskStatus.INTERRUPTED:
        parts.append("the process running it stopped")
    elif status is not TaskStatus.SUCCESS and snapshot.message:
        parts.append(snapshot.message)
    return " · ".join(part for part in parts if part)


def format_cell(value: Any) -> str:
    """A table cell as text: numbers grouped and rounded, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-4):
            return f"{value:.4g}"
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.6g}" if abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def table_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows, in the order they first appear."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


def chart_points(series: ChartData) -> list[Mapping[str, Any]]:
    """The records to plot: ``{"series": [...]}`` gives its list, a list is used as it is."""
    if isinstance(series, Mapping):
        points = series.get("series", [])
        return list(points) if isinstance(points, (list, tuple)) else []
    return list(series)


def chart_columns(
    series: ChartData,
) -> tuple[str, list[float], dict[str, list[float]]]:
    """The x axis name and values, and one list of y values per other numeric key."""
    points = [point for point in chart_points(series) if isinstance(point, Mapping)]
    keys = table_columns(points)
    x_key = "x" if "x" in keys else (keys[0] if keys else "x")
    x_values = [_number(point.get(x_key)) for point in points]
    lines: dict[str, list[float]] = {}
    for key in keys:
        if key == x_key:
            continue
        values = [_number(point.get(key)) for point in points]
        if any(not math.isnan(value) for value in values):
            lines[key] = values
    return x_key, x_values, lines


def chart_labels(series: ChartData) -> tuple[str | None, str | None]:
    """The axis titles a chart's data may carry as ``x_label`` and ``y_label``."""
    if not isinstance(series, Mapping):
        return None, None
    x_label, y_label = series.get("x_label"), series.get("y_label")
    return (
        x_label if isinstance(x_label, str) else None,
        y_label if isinstance(y_label, str) else None,
    )


def chart_summary(series: ChartData) -> dict[str, Any]:
    """The plain values next to the points, e.g. ``{"estimate": 3.14, "error": 0.001}``."""
    if not isinstance(series, Mapping):
        return {}
    return {
        str(key): value
        for key, value in series.items()
        if key not in _CHART_KEYS and isinstance(value, (int, float, str, bool))
    }


def classify_data(data: Any) -> DataShape:
    """How a job's output should be drawn, judged from its shape alone."""
    if data is None or (isinstance(data, (list, tuple, dict, str)) and not data):
        return "empty"
    if isinstance(data, str):
        return "text"
    if isinstance(data, Mapping) and isinstance(data.get("series"), (list, tuple)):
        return "chart"
    if isinstance(data, (list, tuple)) and all(isinstance(row, Mapping) for row in data):
        return "table"
    return "value"


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)
