"""TerminalOutput: what a recorded rich Console shows for real snapshots."""

from __future__ import annotations

import io

from rich.console import Console

from taskmgr import TaskStatus
from tests.ui.conftest import Snapshots, with_changes
from ui import OutputService, TerminalOutput
from ui.format import describe_status
from ui.terminal_output import sparkline


def _output(max_rows: int = 20, show_traceback: bool = False) -> tuple[TerminalOutput, Console]:
    console = Console(record=True, width=120, file=io.StringIO(), color_system=None)
    return TerminalOutput(console, max_rows=max_rows, show_traceback=show_traceback), console


def test_is_an_output_service() -> None:
    assert isinstance(TerminalOutput(), OutputService)


def test_text_elements() -> None:
    out, console = _output()
    out.title("Jobs")
    out.markdown("Some **bold** words")
    out.panel("About", "A *panel* body")
    out.error("it broke")
    out.info("just so you know")
    text = console.export_text()
    assert "Jobs" in text
    assert "Some bold words" in text
    assert "About" in text and "A panel body" in text and "╭" in text
    assert "error: it broke" in text
    assert "just so you know" in text


def test_progress_of_a_running_task(snapshots: Snapshots) -> None:
    out, console = _output()
    out.progress(with_changes(snapshots.running, progress=0.5))
    text = console.export_text()
    assert "Running" in text
    assert "50%" in text
    assert snapshots.running.message in text
    assert "━" * 15 in text  # half of the bar


def test_progress_of_a_queued_task_shows_its_place(snapshots: Snapshots) -> None:
    out, console = _output()
    out.progress(snapshots.queued)
    assert "Queued (#1 in line)" in console.export_text()


def test_table_formats_cells_and_counts_hidden_rows() -> None:
    out, console = _output(max_rows=3)
    rows = [{"step": i, "latency_ms": i * 1000.25, "note": None} for i in range(1, 8)]
    out.table(rows, title="Steps")
    text = console.export_text()
    assert "Steps" in text
    assert "latency_ms" in text and "1,000.25" in text and "—" in text
    assert "3,000.75" in text and "4,001" not in text
    assert "7 rows; 4 more not shown" in text


def test_live_tables_show_the_latest_rows() -> None:
    out, console = _output(max_rows=2)
    rows = [{"step": i} for i in range(1, 6)]
    console.print(out.render_table(rows, last=True))
    text = console.export_text()
    assert "│    5 │" in text and "│    1 │" not in text
    assert "5 rows; 3 earlier not shown" in text


def test_chart_draws_a_sparkline_and_the_summary(snapshots: Snapshots) -> None:
    out, console = _output()
    out.chart(snapshots.chart_done.result, title="Estimate")
    text = console.export_text()
    assert "Estimate" in text
    assert any(block in text for block in "▁▂▃▄▅▆▇█")
    assert "points drawn: 5,000 → 50,000, 10 points" in text
    assert "estimate of pi" in text
    assert "estimate" in text and "ci95" in text


def test_chart_without_points_says_so() -> None:
    out, console = _output()
    out.chart({"series": []})
    assert "no points yet" in console.export_text()


def test_result_of_success_shows_the_table(snapshots: Snapshots) -> None:
    out, console = _output()
    out.result(snapshots.table_done)
    text = console.export_text()
    assert text.startswith("Done · ")
    assert "item-00003" in text


def test_result_of_failure_shows_the_message_but_no_traceback(snapshots: Snapshots) -> None:
    out, console = _output()
    out.result(snapshots.failed)
    text = console.export_text()
    assert "Failed" in text and "step 2 of 4 failed" in text
    assert "Partial result" in text and "failed" in text
    assert "Traceback" not in text


def test_result_of_failure_can_show_the_traceback(snapshots: Snapshots) -> None:
    out, console = _output(show_traceback=True)
    out.result(snapshots.failed)
    text = console.export_text()
    assert "Traceback" in text and "StepFailed" in text


def test_result_of_cancelled_task(snapshots: Snapshots) -> None:
    out, console = _output()
    out.result(snapshots.cancelled)
    text = console.export_text()
    assert text.startswith("Cancelled · ")
    assert "Partial result" in text


def test_result_of_unfinished_task_is_its_progress(snapshots: Snapshots) -> None:
    out, console = _output()
    out.result(snapshots.running)
    text = console.export_text()
    assert "Running" in text
    assert snapshots.running.data[-1]["item"] in text


def test_data_draws_by_shape(snapshots: Snapshots) -> None:
    out, console = _output()
    out.data("plain words", title="Note")
    out.data(42)
    out.data(None)
    out.data(snapshots.table_done.result)
    text = console.export_text()
    assert "Note\nplain words" in text
    assert "42" in text
    assert "item-00001" in text


def test_live_view_prints_status_lines_when_not_a_terminal(snapshots: Snapshots) -> None:
    out, console = _output()
    with out.live("batch_steps", line_interval_s=3600) as view:
        view.update(snapshots.queued)
        view.update(snapshots.running)
        view.update(with_changes(snapshots.running, version=snapshots.running.version + 1))
        view.update(snapshots.cancelled)
    lines = console.export_text().splitlines()
    assert lines == [
        "batch_steps: " + describe_status(snapshots.queued),
        "batch_steps: " + describe_status(snapshots.running),
    ]  # the repeat came too soon; the final state is left to result()
    assert view.snapshot is snapshots.cancelled


def test_live_view_redraws_in_place_on_a_terminal(snapshots: Snapshots) -> None:
    console = Console(record=True, width=120, file=io.StringIO(), force_terminal=True)
    out = TerminalOutput(console)
    with out.live("batch_steps") as view:
        view.update(snapshots.running)
    text = console.export_text()
    assert "batch_steps" in text and "Running" in text
    assert "item-" in text  # the partial table
    assert snapshots.running.status is TaskStatus.IN_PROGRESS


def test_sparkline() -> None:
    assert sparkline([], 10) == ""
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([2, 2, 2], 8) == "▅▅▅"
    assert sparkline([0, float("nan"), 1], 8) == "▁ █"
    assert len(sparkline(list(range(1000)), 40)) == 40
    assert sparkline(list(range(1000)), 40).endswith("█")
