"""Text for Streamlit's markdown-rendering elements that shows as text, never as markup.

``st.error``, ``st.progress(text=)``, ``st.table`` cells and the like render markdown,
and Streamlit's renderer turns bare addresses into links even when every punctuation
mark is backslash-escaped. So the characters that start markup are escaped, and the
pieces an automatic link is recognised by (``://``, ``www.``, ``@``) get a zero-width
space, which the reader does not see. Plain sentences come out unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

_ZERO_WIDTH_SPACE = "\u200b"
#: Markup anywhere in a line: emphasis, code, links and images, HTML, formulas, tables,
#: strikethrough, entities; ``_`` only where it can open or close emphasis.
_INLINE = re.compile(r"[\\`*\[\]<>$|~&{}]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: Streamlit's ``:red[...]``, ``:material/icon:`` and ``:emoji:`` start with a colon
#: followed by a name (Streamlit replaces them even when escaped).
_DIRECTIVE = re.compile(r"(?<=:)(?=[A-Za-z_+\-/\[]|\d+:)")
#: Markup at the start of a line: headings, quotes, lists, rules, setext underlines.
_LINE_START = re.compile(r"(?m)^(\s*)([#>+\-=]|\d+(?=[.)]))")
_LINK_START = re.compile(r"(?i)(?<=:)(?=//)|(?<=w)(?=ww\.)|(?=@)")


def literal(text: str) -> str:
    """``text`` as markdown that displays exactly ``text``: no links, images, HTML,
    colours, icons or formulas, whatever it holds."""
    escaped = _INLINE.sub(lambda m: "\\" + m.group(0), text)
    escaped = _DIRECTIVE.sub(_ZERO_WIDTH_SPACE, escaped)
    escaped = _LINE_START.sub(_escape_line_start, escaped)
    escaped = _LINK_START.sub(_ZERO_WIDTH_SPACE, escaped)
    return escaped.replace("\n", "  \n")  # a line break stays a line break


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match.group(1), match.group(2)
    if mark[0].isdigit():  # "1." or "1)" starts an ordered list: escape what follows
        return f"{indent}{mark}\\"
    return f"{indent}\\{mark}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A markdown (GitHub) table whose every cell shows as text: each is ``literal`` on one
    line. A table drawn this way needs no Arrow conversion, which a polling fragment
    would pay on a new thread every second (see ui/streamlit_output.py)."""
    lines = ["| " + " | ".join(map(_cell, header)) + " |", "|" + " --- |" * len(header)]
    lines.extend("| " + " | ".join(map(_cell, row)) + " |" for row in rows)
    return "\n".join(lines)


#: Longer cells are escaped on every draw, not kept: their text is the job's (a field of
#: an uploaded file, say), and the cache would hold it long after the task is gone.
_CACHED_CELL_CHARS = 256


def _cell(text: str) -> str:
    """One cell: a live table's rows repeat from one redraw to the next, hence the cache."""
    return _short_cell(text) if len(text) <= _CACHED_CELL_CHARS else _escape_cell(text)


def _escape_cell(text: str) -> str:
    return literal(" ".join(text.split())) or " "


_short_cell = lru_cache(maxsize=8192)(_escape_cell)
