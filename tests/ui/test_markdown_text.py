"""literal(): markdown that shows the text as it is."""

from __future__ import annotations

import pytest

from ui.markdown_text import _short_cell, literal, markdown_table

ZWSP = "\u200b"


@pytest.mark.parametrize(
    "text",
    [
        "Wrong password. You can try again in 1 second.",
        "Steps: is empty; expected a whole number",
        "Started “Batch of slow steps” as task batch_steps-1.",
        "Restart at 18:00, 3.5 s",
    ],
)
def test_plain_sentences_come_out_unchanged(text: str) -> None:
    assert literal(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[a](http://e.example)", f"\\[a\\](http:{ZWSP}//e.example)"),
        ("![i](x.png)", "!\\[i\\](x.png)"),
        ("<img src=x>", "\\<img src=x\\>"),
        ("*em* _u_ `c` ~s~ $x$", "\\*em\\* \\_u\\_ \\`c\\` \\~s\\~ \\$x\\$"),
        ("www.e.example", f"w{ZWSP}ww.e.example"),
        ("a@e.example", f"a{ZWSP}@e.example"),
        (":red[x] :smile:", f":{ZWSP}red\\[x\\] :{ZWSP}smile:"),
        ("# h\n- i\n1. one", "\\# h  \n\\- i  \n1\\. one"),
    ],
)
def test_markup_is_escaped_and_links_are_broken(text: str, shown: str) -> None:
    assert literal(text) == shown


def test_a_table_shows_each_cell_as_text_on_one_line() -> None:
    table = markdown_table(
        ["item", "note"], [["a|b", "line one\nline two"], ["[x](http://e.org)", ""]]
    )
    assert table.splitlines() == [
        "| item | note |",
        "| --- | --- |",
        "| a\\|b | line one line two |",
        f"| \\[x\\](http:{ZWSP}//e.org) |   |",
    ]


def test_a_long_cell_is_escaped_like_a_short_one_but_not_kept() -> None:
    """Cells are the job's text (an uploaded file's field, say): a cache of long ones
    would hold them long after their task is gone."""
    long = "[x](http://e.org) " + "y" * 5000
    markdown_table(["c"], [])  # the header is short: kept
    kept = _short_cell.cache_info().currsize
    assert markdown_table(["c"], [[long]]).splitlines()[2] == f"| {literal(long)} |"
    assert _short_cell.cache_info().currsize == kept
