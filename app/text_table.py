"""A table whose cells are shown as the text they hold.

Cells carry what clients sent (user agents, pages, task ids, messages), and
``st.table`` renders markdown in cells: every string goes through ``literal`` first.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.markdown_text import literal


def text_table(rows: list[dict[str, object]], key: str, empty: str) -> None:
    """``rows`` as a table in a container keyed ``key``, or the caption ``empty``."""
    if not rows:
        st.caption(empty)
        return
    with st.container(key=key):
        safe = [{name: _cell(value) for name, value in row.items()} for row in rows]
        st.table(pd.DataFrame(safe), hide_index=True)


def _cell(value: object) -> object:
    return literal(value) if isinstance(value, str) else value
