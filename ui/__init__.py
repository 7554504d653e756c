"""One OutputService protocol with a Streamlit and a terminal (rich) implementation.

``StreamlitOutput`` is imported on first use, so the CLI can use ``ui`` without paying
for importing Streamlit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ui.output import ChartData, OutputService
from ui.terminal_output import LiveProgress, TerminalOutput

if TYPE_CHECKING:
    from ui.streamlit_output import StreamlitOutput

__all__ = ["ChartData", "LiveProgress", "OutputService", "StreamlitOutput", "TerminalOutput"]


def __getattr__(name: str) -> Any:
    if name == "StreamlitOutput":
        from ui.streamlit_output import StreamlitOutput

        return StreamlitOutput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
