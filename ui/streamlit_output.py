"""OutputService for Streamlit pages, drawn with ``st.*`` elements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from taskmgr import TaskSnapshot, TaskStatus
from ui.format import (
    chart_columns,
    chart_labels,
    chart_summary,
    classify_data,
    describe_status,
    format_cell,
    status_tone,
    table_columns,
)
from ui.live_view import LIVE_POINTS, LIVE_ROWS, ViewCache, column_table, downsample, tail_rows
from ui.markdown_text import literal, markdown_table
from ui.output import ChartData


def _line_chart(
    x_key: str,
    x_values: Sequence[Any],
    lines: Mapping[str, Sequence[Any]],
    x_label: str | None,
    y_label: str | None,
) -> tuple[Any, dict[str, Any]]:
    """Long-form data (x, series, value) and a Vega-Lite line spec with a y-axis fitted to
    the values (not from zero), so a converging estimate shows its wobble instead of a
    flat line. A plain spec, not Altair: building and validating an Altair chart costs
    milliseconds, which a list redrawn every second pays for every tab."""
    xs: list[Any] = []
    names: list[str] = []
    values: list[Any] = []
    for name, ys in lines.items():
        for x, y in zip(x_values, ys, strict=False):
            if y is not None:
                xs.append(x)
                names.append(name)
                values.append(y)
    data = column_table(
        [{x_key: x, "series": n, "value": v} for x, n, v in zip(xs, names, values, strict=True)],
        (x_key, "series", "value"),
    )
    encoding: dict[str, Any] = {
        "x": {"field": x_key, "type": "quantitative", "title": x_label or x_key},
        "y": {
            "field": "value",
            "type": "quantitative",
            "title": y_label or "value",
            "scale": {"zero": False},
        },
    }
    if len(lines) > 1:
        encoding["color"] = {"field": "series", "type": "nominal", "title": None}
    return data, {"mark": "line", "encoding": encoding}


@dataclass(frozen=True)
class _LiveTable:
    """The latest rows as a markdown table. Not ``st.dataframe``: each fragment run is a
    new thread, where every pyarrow call costs about 60 µs more than on a thread that
    made one before; converting and serialising the rows took half of the script
    threads' busy time with 100 polling tabs (py-spy). A finished task's whole table is
    an ``st.dataframe``, drawn once."""

    markdown: str
    total: int


@dataclass(frozen=True)
class _LiveChart:
    data: Any
    spec: dict[str, Any]
    summary: str


#: The latest prepared view of each running task's partial result, by (owner, task id).
_live_views = ViewCache()


def _prepare_live(value: Any) -> _LiveTable | _LiveChart | None:
    """The bounded view of a partial result; None for what is drawn as it is (text, a value)."""
    shape = classify_data(value)
    if shape == "table":
        return _prepare_table(value)
    if shape == "chart":
        return _prepare_chart(value)
    return None


def _prepare_table(rows: Sequence[Mapping[str, Any]]) -> _LiveTable:
    shown = tail_rows(rows, LIVE_ROWS)
    columns = table_columns(shown)
    cells = ([format_cell(row.get(column)) for column in columns] for row in shown)
    return _LiveTable(markdown_table(columns, cells), len(rows))


def _prepare_chart(series: ChartData) -> _LiveChart:
    x_key, x_values, lines = chart_columns(series)
    keep = downsample(range(len(x_values)), LIVE_POINTS)
    x_label, y_label = chart_labels(series)
    data, spec = _line_chart(
        x_key,
        [x_values[i] for i in keep],
        {name: [ys[i] for i in keep] for name, ys in lines.items()},
        x_label,
        y_label,
    )
    summary = " · ".join(
        f"{key}: {format_cell(value)}" for key, value in chart_summary(series).items()
    )
    return _LiveChart(data if x_values and lines else None, spec, summary)


class StreamlitOutput:
    """Draws into ``container`` (a column, tab, ``st.empty()``...) or the page where called.

    Call it from the script thread (a page or a fragment), never from a task's thread.
    """

    def __init__(
        self, container: DeltaGenerator | None = None, *, show_traceback: bool = False
    ) -> None:
        self._container = container
        self.show_traceback = show_traceback

    def _place(self) -> AbstractContextManager[object]:
        return self._container if self._container is not None else nullcontext()

    def title(self, text: str) -> None:
        with self._place():
            st.title(text)

    def markdown(self, text: str) -> None:
        with self._place():
            st.markdown(text)

    def panel(self, title: str, body_markdown: str, expanded: bool = False) -> None:
        with self._place():
            st.expander(title, expanded=expanded).markdown(body_markdown)

    def progress(self, snapshot: TaskSnapshot) -> None:
        if snapshot.status is TaskStatus.SUCCESS:
            value = 1.0
        else:
            value = snapshot.progress if snapshot.progress is not None else 0.0
        with self._place():
            st.progress(min(1.0, max(0.0, value)), text=literal(describe_status(snapshot)))

    def table(self, rows: Sequence[Mapping[str, Any]], title: str | None = None) -> None:
        with self._place():
            if title:
                st.markdown(f"**{literal(title)}**")
            if not rows:
                st.caption("No rows yet.")
                return
            st.dataframe([dict(row) for row in rows], hide_index=True)

    def chart(self, series: ChartData, title: str | None = None) -> None:
        x_key, x_values, lines = chart_columns(series)
        x_label, y_label = chart_labels(series)
        summary = chart_summary(series)
        with self._place():
            if title:
                st.markdown(f"**{literal(title)}**")
            if x_values and lines:
                data, spec = _line_chart(x_key, x_values, lines, x_label, y_label)
                st.vega_lite_chart(data, spec)
            else:
                st.caption("No points yet.")
            if summary:
                st.caption(
                    literal(
                        " · ".join(f"{key}: {format_cell(value)}" for key, value in summary.items())
                    )
                )

    def data(self, value: Any, title: str | None = None) -> None:
        shape = classify_data(value)
        if shape == "table":
            self.table(value, title)
        elif shape == "chart":
            self.chart(value, title)
        elif shape in ("text", "value"):
            with self._place():
                if title:
                    st.markdown(f"**{literal(title)}**")
                st.markdown(literal(value if shape == "text" else format_cell(value)))

    def live_data(self, snapshot: TaskSnapshot) -> None:
        """A running task's partial result, bounded (ui.live_view), prepared once per version:
        telling a table from a chart reads every row, which a tick must not pay again."""
        value = snapshot.data
        view = _live_views.get(
            (snapshot.owner, snapshot.id), snapshot.version, lambda: _prepare_live(value)
        )
        if isinstance(view, _LiveTable):
            with self._place():
                st.markdown(view.markdown)
                if view.total > LIVE_ROWS:
                    st.caption(f"The latest {LIVE_ROWS} of {view.total:,} rows.")
        elif isinstance(view, _LiveChart):
            with self._place():
                if view.data is not None:
                    st.vega_lite_chart(view.data, view.spec)
                else:
                    st.caption("No points yet.")
                if view.summary:
                    st.caption(literal(view.summary))
        else:
            self.data(value)

    def result(self, snapshot: TaskSnapshot) -> None:
        if not snapshot.is_final:
            self.progress(snapshot)
            self.live_data(snapshot)
            return
        line = describe_status(snapshot)
        tone = status_tone(snapshot.status)
        with self._place():
            if tone == "success":
                st.success(literal(line))
            elif tone == "error":
                st.error(literal(line))
            else:
                st.warning(literal(line))
            if tone == "error" and self.show_traceback and snapshot.traceback:
                st.expander("Traceback").code(snapshot.traceback, language=None)
        if snapshot.status is TaskStatus.SUCCESS:
            self.data(snapshot.result)
        else:
            self.data(snapshot.data, "Partial result")

    def error(self, text: str) -> None:
        with self._place():
            st.error(literal(text))

    def info(self, text: str) -> None:
        with self._place():
            st.info(literal(text))
