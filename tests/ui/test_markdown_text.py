"""literal(): markdown that shows the text as it is."""

from __future__ import annotations

import pytest

from ui.markdown_text import literal

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
