"""OutputService for Streamlit pages, drawn with ``st.*`` elements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import altair as alt
import pandas as pd
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
)
from ui.markdown_text import literal
from ui.output import ChartData


def _line_chart(
    x_key: str,
    x_values: Sequence[Any],
    lines: Mapping[str, Sequence[Any]],
    x_label: str | None,
    y_label: str | None,
) -> alt.Chart:
    """Lines over x with a y-axis fitted to the values (not from zero), so a converging
    estimate shows its wobble instead of a flat line."""
    rows = [
        {x_key: x, "series": name, "value": y}
        for name, ys in lines.items()
        for x, y in zip(x_values, ys, strict=False)
        if y is not None
    ]
    encoding: dict[str, Any] = {
        "x": alt.X(f"{x_key}:Q", title=x_label or x_key),
        "y": alt.Y("value:Q", title=y_label or "value", scale=alt.Scale(zero=False)),
    }
    if len(lines) > 1:
        encoding["color"] = alt.Color("series:N", title=None)
    chart: alt.Chart = alt.Chart(pd.DataFrame(rows)).mark_line().encode(**encoding)
    return chart


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
                st.altair_chart(_line_chart(x_key, x_values, lines, x_label, y_label))
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

    def result(self, snapshot: TaskSnapshot) -> None:
        if not snapshot.is_final:
            self.progress(snapshot)
            self.data(snapshot.data)
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
