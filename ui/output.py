"""OutputService: what a front end must offer to show jobs, their progress and results.

Pages and the CLI talk to this protocol only; StreamlitOutput draws with ``st.*`` and
TerminalOutput with rich, so the same calls work in a browser and in a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from taskmgr import TaskSnapshot

#: A chart's data: ``{"series": [{"x": .., "y": ..}, ...], "x_label": .., "y_label": ..,
#: **scalars}`` (labels and scalars optional) or a plain list of records.
ChartData = Sequence[Mapping[str, Any]] | Mapping[str, Any]


@runtime_checkable
class OutputService(Protocol):
    def title(self, text: str) -> None:
        """A heading for the screen or the run."""

    def markdown(self, text: str) -> None:
        """A paragraph of Markdown."""

    def panel(self, title: str, body_markdown: str, expanded: bool = False) -> None:
        """Markdown under a title: a collapsible expander in Streamlit, a box in a terminal."""

    def progress(self, snapshot: TaskSnapshot) -> None:
        """A progress bar with the status, message, elapsed time, and place in line if queued."""

    def table(self, rows: Sequence[Mapping[str, Any]], title: str | None = None) -> None:
        """Rows of a table, one mapping per row; columns in order of first appearance."""

    def chart(self, series: ChartData, title: str | None = None) -> None:
        """A line chart of ``x`` against every other numeric key of the points."""

    def data(self, value: Any, title: str | None = None) -> None:
        """Any job output (a partial or final result), drawn by its shape (ui.format)."""

    def result(self, snapshot: TaskSnapshot) -> None:
        """A task as it ended: its result, its error (no traceback by default), or a notice."""

    def error(self, text: str) -> None:
        """A message that something went wrong."""

    def info(self, text: str) -> None:
        """A neutral notice."""
