"""OutputService for a terminal, drawn with rich; also the CLI's live progress view."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from taskmgr import TaskSnapshot, TaskStatus
from ui.format import (
    Tone,
    chart_columns,
    chart_labels,
    chart_summary,
    classify_data,
    describe_status,
    format_cell,
    format_elapsed,
    format_percent,
    status_label,
    status_tone,
    table_columns,
)
from ui.output import ChartData

_STYLES: dict[Tone, str] = {
    "info": "cyan",
    "success": "green",
    "error": "bold red",
    "warning": "yellow",
}
_BLOCKS = "▁▂▃▄▅▆▇█"
_SPARK_WIDTH = 48


class TerminalOutput:
    """Prints to a rich ``Console`` (stdout by default; pass one to capture the output).

    A terminal cannot fold a panel away, so ``panel`` always shows its body. Long tables
    show ``max_rows`` rows and say how many were left out.
    """

    def __init__(
        self, console: Console | None = None, *, max_rows: int = 20, show_traceback: bool = False
    ) -> None:
        self.console = console if console is not None else Console()
        self.max_rows = max_rows
        self.show_traceback = show_traceback

    # -- the OutputService protocol ------------------------------------------------------

    def title(self, text: str) -> None:
        self.console.print(Text(text, style="bold underline"))

    def markdown(self, text: str) -> None:
        self.console.print(Markdown(text))

    def panel(self, title: str, body_markdown: str, expanded: bool = False) -> None:
        self.console.print(Panel(Markdown(body_markdown), title=title, title_align="left"))

    def progress(self, snapshot: TaskSnapshot) -> None:
        self.console.print(self.render_progress(snapshot))

    def table(self, rows: Sequence[Mapping[str, Any]], title: str | None = None) -> None:
        self.console.print(self.render_table(rows, title))

    def chart(self, series: ChartData, title: str | None = None) -> None:
        self.console.print(self.render_chart(series, title))

    def data(self, value: Any, title: str | None = None) -> None:
        renderable = self.render_data(value, title)
        if renderable is not None:
            self.console.print(renderable)

    def result(self, snapshot: TaskSnapshot) -> None:
        self.console.print(self.render_result(snapshot))

    def error(self, text: str) -> None:
        self.console.print(Text.assemble(("error: ", "bold red"), text), soft_wrap=True)

    def info(self, text: str) -> None:
        self.console.print(Text(text, style="cyan"), soft_wrap=True)

    # -- renderables (the live view builds on these) ------------------------------------

    def render_progress(self, snapshot: TaskSnapshot) -> RenderableType:
        """Status, bar, percent, elapsed time and message on one line."""
        status = snapshot.status
        running = status is TaskStatus.IN_PROGRESS
        if status is TaskStatus.SUCCESS:
            completed = 1.0
        else:
            completed = snapshot.progress if snapshot.progress is not None else 0.0
        line = Table.grid(padding=(0, 1))
        line.add_row(
            Text(status_label(snapshot), style=_STYLES[status_tone(status)]),
            ProgressBar(
                total=1.0,
                completed=completed,
                width=30,
                pulse=running and snapshot.progress is None,
            ),
            Text(format_percent(completed if status.is_final else snapshot.progress)),
            Text(format_elapsed(snapshot.elapsed_s), style="dim"),
            Text(snapshot.message or "", overflow="ellipsis", no_wrap=True),
        )
        return line

    def render_table(
        self, rows: Sequence[Mapping[str, Any]], title: str | None = None, *, last: bool = False
    ) -> RenderableType:
        """The first (or, with ``last``, the latest) ``max_rows`` rows and a count of the rest."""
        columns = table_columns(rows)
        table = Table(title=title, title_justify="left", header_style="bold")
        for name in columns:
            numeric = any(
                isinstance(row.get(name), (int, float)) and not isinstance(row.get(name), bool)
                for row in rows[:50]
            )
            table.add_column(name, justify="right" if numeric else "left", overflow="fold")
        shown = rows[-self.max_rows :] if last else rows[: self.max_rows]
        for row in shown:
            table.add_row(*(format_cell(row.get(name)) for name in columns))
        hidden = len(rows) - len(shown)
        if hidden > 0:
            where = "earlier" if last else "more"
            note = Text(f"{len(rows):,} rows; {hidden:,} {where} not shown", style="dim")
            return Group(table, note)
        if not rows:
            return Group(table, Text("no rows yet", style="dim"))
        return table

    def render_chart(self, series: ChartData, title: str | None = None) -> RenderableType:
        """One sparkline per plotted value, the x range, and the values beside the points."""
        x_key, x_values, lines = chart_columns(series)
        x_label, y_label = chart_labels(series)
        parts: list[RenderableType] = []
        if title:
            parts.append(Text(title, style="bold"))
        if not x_values or not lines:
            parts.append(Text("no points yet", style="dim"))
        else:
            grid = Table.grid(padding=(0, 1))
            for name, values in lines.items():
                finite = [value for value in values if math.isfinite(value)]
                low, high = (min(finite), max(finite)) if finite else (math.nan, math.nan)
                grid.add_row(
                    Text(y_label if y_label and len(lines) == 1 else name, style="bold"),
                    Text(sparkline(values, _SPARK_WIDTH), style="cyan"),
                    Text(
                        f"last {format_cell(values[-1])}  "
                        f"(min {format_cell(low)}, max {format_cell(high)})"
                    ),
                )
            parts.append(grid)
            parts.append(
                Text(
                    f"{x_label or x_key}: {format_cell(x_values[0])} → "
                    f"{format_cell(x_values[-1])}, "
                    f"{len(x_values):,} points",
                    style="dim",
                )
            )
        summary = chart_summary(series)
        if summary:
            facts = Table.grid(padding=(0, 2))
            for key, value in summary.items():
                facts.add_row(Text(key, style="bold"), Text(format_cell(value)))
            parts.append(facts)
        return Group(*parts)

    def render_data(
        self, value: Any, title: str | None = None, *, last: bool = False
    ) -> RenderableType | None:
        """A job's output drawn by its shape; None when there is nothing to show."""
        shape = classify_data(value)
        if shape == "table":
            return self.render_table(value, title, last=last)
        if shape == "chart":
            return self.render_chart(value, title)
        if shape == "text":
            return Group(Text(title, style="bold"), Text(value)) if title else Text(value)
        if shape == "value":
            text = Text(format_cell(value))
            return Group(Text(title, style="bold"), text) if title else text
        return None

    def render_result(self, snapshot: TaskSnapshot) -> RenderableType:
        """A final snapshot: the status line, then the result or what was done so far."""
        if not snapshot.is_final:
            data = self.render_data(snapshot.data, last=True)
            return Group(self.render_progress(snapshot), *([data] if data else []))
        style = _STYLES[status_tone(snapshot.status)]
        parts: list[RenderableType] = [Text(describe_status(snapshot), style=style)]
        if snapshot.status is TaskStatus.SUCCESS:
            rendered = self.render_data(snapshot.result)
        else:
            rendered = self.render_data(snapshot.data, "Partial result", last=True)
        if rendered is not None:
            parts.append(rendered)
        if snapshot.status is TaskStatus.ERROR and self.show_traceback and snapshot.traceback:
            parts.append(Panel(Text(snapshot.traceback.rstrip()), title="Traceback"))
        return Group(*parts)

    def live(self, name: str = "", *, line_interval_s: float = 1.0) -> LiveProgress:
        """A view that follows one task: redrawn in place on a terminal, lines otherwise."""
        return LiveProgress(self, name, line_interval_s=line_interval_s)


class LiveProgress:
    """Follows a task's snapshots; use as a context manager and call ``update``.

    On a terminal the bar and the partial result are redrawn in place (and the elapsed
    time keeps ticking); written to a pipe or file, a status line is printed when the
    status changes and at most every ``line_interval_s`` otherwise. The final state is
    left to ``TerminalOutput.result``.
    """

    def __init__(self, output: TerminalOutput, name: str, *, line_interval_s: float) -> None:
        self._output = output
        self._prefix = f"{name}: " if name else ""
        self._line_interval_s = line_interval_s
        self._snapshot: TaskSnapshot | None = None
        self._live: Live | None = None
        self._printed: tuple[TaskStatus, int] | None = None
        self._printed_at = -math.inf

    def __enter__(self) -> LiveProgress:
        console = self._output.console
        if console.is_terminal:
            self._live = Live(
                _LiveView(self), console=console, refresh_per_second=4, transient=True
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    @property
    def snapshot(self) -> TaskSnapshot | None:
        return self._snapshot

    def update(self, snapshot: TaskSnapshot) -> None:
        self._snapshot = snapshot
        if self._live is not None:
            self._live.refresh()
            return
        if snapshot.is_final:
            return  # the outcome is for ``TerminalOutput.result`` to show
        now = time.monotonic()
        status_changed = self._printed is None or self._printed[0] is not snapshot.status
        news = self._printed is None or self._printed[1] != snapshot.version
        if status_changed or (news and now - self._printed_at >= self._line_interval_s):
            self._printed, self._printed_at = (snapshot.status, snapshot.version), now
            self._output.console.print(
                Text(self._prefix + describe_status(snapshot)), soft_wrap=True
            )

    def render(self) -> RenderableType:
        snapshot = self._snapshot
        if snapshot is None:
            return Text(self._prefix + "starting…", style="dim")
        partial = self._output.render_data(snapshot.data, last=True)
        header = Text(self._prefix.rstrip(": "), style="bold") if self._prefix else None
        parts = (header, self._output.render_progress(snapshot), partial)
        return Group(*(part for part in parts if part is not None))


class _LiveView:
    """Rendered afresh on every refresh, so the elapsed time ticks between snapshots."""

    def __init__(self, view: LiveProgress) -> None:
        self._view = view

    def __rich__(self) -> RenderableType:
        return self._view.render()


def sparkline(values: Sequence[float], width: int) -> str:
    """The values as a row of block characters, at most ``width`` long (NaN as a space)."""
    if not values or width <= 0:
        return ""
    if len(values) > width:
        # One character per bucket of points: the bucket's last value, as a line chart ends.
        step = len(values) / width
        values = [values[min(len(values) - 1, int((i + 1) * step) - 1)] for i in range(width)]
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return " " * len(values)
    low, high = min(finite), max(finite)
    span = high - low
    chars = []
    for value in values:
        if not math.isfinite(value):
            chars.append(" ")
        elif span == 0:
            chars.append(_BLOCKS[len(_BLOCKS) // 2])
        else:
            chars.append(_BLOCKS[round((value - low) / span * (len(_BLOCKS) - 1))])
    return "".join(chars)
