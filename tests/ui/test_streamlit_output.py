"""StreamlitOutput: the elements a page gets, checked with Streamlit's AppTest."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import Snapshots, with_changes
from ui import OutputService, StreamlitOutput


def _draw(calls: list[tuple[str, tuple[object, ...]]], options: dict[str, bool]) -> None:
    """The page under test: one StreamlitOutput, the given calls in order.

    AppTest runs this function's source as a script, so it imports what it uses and its
    annotations name builtins only.
    """
    from ui import StreamlitOutput

    output = StreamlitOutput(**options)
    for method, args in calls:
        getattr(output, method)(*args)


def _into_second_column(text: str) -> None:
    import streamlit as st

    from ui import StreamlitOutput

    StreamlitOutput(st.columns(2)[1]).info(text)


def _page(*calls: tuple[str, tuple[Any, ...]], **options: bool) -> AppTest:
    app = AppTest.from_function(_draw, args=(list(calls), options), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def test_is_an_output_service() -> None:
    assert isinstance(StreamlitOutput(), OutputService)


def test_text_elements() -> None:
    app = _page(
        ("title", ("Jobs",)),
        ("markdown", ("Some **bold** words",)),
        ("error", ("it broke",)),
        ("info", ("just so you know",)),
    )
    assert app.title[0].value == "Jobs"
    assert app.markdown[0].value == "Some **bold** words"
    assert app.error[0].value == "it broke"
    assert app.info[0].value == "just so you know"


def test_panel_is_an_expander() -> None:
    app = _page(("panel", ("About", "A *panel* body")), ("panel", ("Open", "x", True)))
    closed, opened = app.expander
    assert closed.label == "About" and closed.proto.expanded is False
    assert [md.value for md in closed.markdown] == ["A *panel* body"]
    assert opened.proto.expanded is True


def test_progress_shows_status_percent_and_message(snapshots: Snapshots) -> None:
    running = with_changes(snapshots.running, progress=0.42)
    app = _page(("progress", (running,)))
    bar = app.progress[0]
    assert bar.value == 42
    assert bar.proto.text.startswith("Running · 42% · ")
    assert bar.proto.text.endswith(running.message)


def test_progress_of_queued_and_done_tasks(snapshots: Snapshots) -> None:
    app = _page(("progress", (snapshots.queued,)), ("progress", (snapshots.table_done,)))
    queued, done = app.progress
    assert (queued.value, queued.proto.text) == (0, "Queued (#1 in line)")
    assert done.value == 100 and done.proto.text.startswith("Done · ")


def test_table_is_a_dataframe_with_a_title(snapshots: Snapshots) -> None:
    rows = snapshots.table_done.result
    app = _page(("table", (rows, "Steps")), ("table", ([],)))
    assert app.markdown[0].value == "**Steps**"
    frame = app.dataframe[0].value
    assert list(frame.columns) == ["step", "item", "status", "latency_ms", "bytes"]
    assert list(frame["item"]) == ["item-00001", "item-00002", "item-00003"]
    assert app.caption[0].value == "No rows yet."


def test_chart_is_a_line_chart_with_its_summary(snapshots: Snapshots) -> None:
    app = _page(("chart", (snapshots.chart_done.result, "Estimate")))
    assert app.markdown[0].value == "**Estimate**"
    (chart,) = app.get("vega_lite_chart")
    assert "points drawn" in chart.proto.spec and "estimate of pi" in chart.proto.spec
    caption = app.caption[0].value
    assert "samples: 50,000" in caption and "estimate: " in caption


def test_result_of_success(snapshots: Snapshots) -> None:
    app = _page(("result", (snapshots.table_done,)), ("result", (snapshots.chart_done,)))
    assert [box.value.split(" · ")[0] for box in app.success] == ["Done", "Done"]
    assert len(app.dataframe) == 1
    assert len(app.get("vega_lite_chart")) == 1


def test_result_of_failure_hides_the_traceback_by_default(snapshots: Snapshots) -> None:
    app = _page(("result", (snapshots.failed,)))
    assert "step 2 of 4 failed" in app.error[0].value
    assert "Traceback" not in app.error[0].value
    assert not app.code and not app.expander
    assert app.markdown[0].value == "**Partial result**"
    assert list(app.dataframe[0].value["status"]) == ["ok", "failed"]


def test_result_of_failure_can_show_the_traceback(snapshots: Snapshots) -> None:
    app = _page(("result", (snapshots.failed,)), show_traceback=True)
    assert app.expander[0].label == "Traceback"
    assert "StepFailed" in app.expander[0].code[0].value


def test_result_of_cancelled_and_running_tasks(snapshots: Snapshots) -> None:
    app = _page(("result", (snapshots.cancelled,)), ("result", (snapshots.running,)))
    assert app.warning[0].value.startswith("Cancelled · ")
    assert len(app.progress) == 1 and app.progress[0].proto.text.startswith("Running")
    # The cancelled task's partial result is a dataframe; the running one's latest rows
    # are a markdown table, redrawn every second without Arrow.
    assert len(app.dataframe) == 1
    (live,) = [md.value for md in app.markdown if md.value.startswith("| ")]
    assert live.splitlines()[0] == "| step | item | status | latency_ms | bytes |"


def test_a_running_tasks_table_shows_its_latest_rows_as_text(snapshots: Snapshots) -> None:
    rows = [{"step": i, "note": "**bold** http://example.com"} for i in range(1, 31)]
    # A new version, as every report makes: views are prepared once per version.
    running = with_changes(snapshots.running, data=rows, version=snapshots.running.version + 1)
    app = _page(("result", (running,)))
    (live,) = [md.value for md in app.markdown if md.value.startswith("| ")]
    lines = live.splitlines()
    assert len(lines) == 2 + 10  # header, rule, the latest 10 rows
    assert lines[2].startswith("| 21 | ") and lines[-1].startswith("| 30 | ")
    assert "**" not in live and "http://" not in live  # shown as text, never as markup
    assert app.caption[0].value == "The latest 10 of 30 rows."


def test_output_goes_into_the_given_container() -> None:
    app = AppTest.from_function(_into_second_column, args=("in the column",))
    app.run(timeout=30)
    assert not app.exception
    assert app.columns[1].info[0].value == "in the column"
    assert not app.columns[0].info
