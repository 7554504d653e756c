"""A choice and a button that acts on it: the Admin page's "pick a task, cancel it" rows."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import streamlit as st

K = TypeVar("K", bound=Hashable)


def action_picker(
    label: str,
    options: Sequence[K],
    describe: Callable[[K], str],
    *,
    key: str,
    placeholder: str,
    action: str,
    action_key: str,
    on_action: Callable[[], None],
) -> None:
    """A selectbox of ``options`` (the first chosen) and a button for ``on_action``, which
    reads the choice from ``st.session_state[key]``; both say so when there is nothing."""
    st.selectbox(
        label,
        options,
        format_func=describe,
        key=key,
        placeholder=placeholder,
        index=0 if options else None,
    )
    st.button(action, key=action_key, on_click=on_action, disabled=not options)
