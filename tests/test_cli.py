"""cli.py, run for real as a subprocess: listing, running, bad input and Ctrl-C."""

from __future__ import annotations

import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jobs import JOBS

ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 60.0
# Wide, so rich does not wrap the lines the tests look for.
ENV = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        env=ENV,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


def test_list_shows_every_job_and_its_parameters() -> None:
    done = run_cli("list")
    assert done.returncode == 0, done.stderr
    for key, job in JOBS.items():
        assert key in done.stdout
        assert job.title in done.stdout
        for param in job.params:
            assert param.name in done.stdout
            assert param.range_text() in done.stdout
    assert "1 to 1,000,000,000" in done.stdout  # samples: the range column
    assert "1,000,000,000" in done.stdout  # samples: the default column


def test_run_with_json_prints_the_outcome() -> None:
    done = run_cli("run", "monte_carlo_pi", "--samples", "200000", "--batch", "20000", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["job"] == "monte_carlo_pi" and outcome["status"] == "SUCCESS"
    assert outcome["error"] is None and outcome["partial"] is None
    result = outcome["result"]
    assert result["samples"] == 200_000
    assert abs(result["estimate"] - math.pi) < 0.05
    assert len(result["series"]) == 10


def test_an_async_job_runs_from_the_cli_like_any_other() -> None:
    args = ["run", "fetch_pages", "--pages", "8", "--concurrency", "4", "--latency-s", "0.01"]
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["job"] == "fetch_pages" and outcome["status"] == "SUCCESS"
    assert [row["page"] for row in outcome["result"]] == list(range(1, 9))
    assert {row["orders"] for row in outcome["result"]} == {25}


def test_file_parameter_takes_a_path(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,age\nAda,36\nAlan,41\nGrace,\n", encoding="utf-8")
    done = run_cli("run", "csv_profile", "--csv-file", str(path), "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rows = {row["name"]: row for row in json.loads(done.stdout)["result"]}
    assert rows["age"]["dtype"] == "int"
    assert (rows["age"]["count"], rows["age"]["nulls"], rows["age"]["mean"]) == (2, 1, 38.5)


def test_success_prints_the_result_table() -> None:
    done = run_cli("run", "batch_steps", "--steps", "3", "--step_s", "0.01")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Done · ")
    assert "item-00003" in done.stdout
    assert "batch_steps: Running" in done.stderr  # progress goes to stderr


def test_failed_job_exits_1_with_its_message() -> None:
    done = run_cli("run", "batch_steps", "--steps", "4", "--step-s", "0.01", "--fail-at", "2")
    assert done.returncode == 1
    assert "Failed · " in done.stderr
    assert "step 2 of 4 failed: simulated upstream error" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_failed_job_with_json_reports_the_error() -> None:
    done = run_cli(
        "run", "batch_steps", "--steps", "4", "--step-s", "0.01", "--fail-at", "2", "--json"
    )
    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "ERROR"
    assert outcome["error"].startswith("step 2 of 4 failed")
    assert [row["status"] for row in outcome["partial"]] == ["ok", "failed"]


BAD_COMMANDS = [
    (["run", "monte_carlo_pi", "--samples", "0"], "samples: must be at least 1, got 0"),
    (["run", "monte_carlo_pi", "--samples", "lots"], "samples: expected a whole number"),
    (["run", "monte_carlo_pi", "--samples", "5e9"], "samples: must be at most 1,000,000,000"),
    (["run", "batch_steps", "--step-s", "-1"], "step_s: must be at least 0.001, got -1"),
    (["run", "batch_steps", "--steps", "5", "--fail-at", "9"], "fail_at: step 9 is past"),
    (["run", "batch_steps", "--stepz", "3"], "'--stepz' is not a parameter of batch_steps"),
    (["run", "batch_steps", "--steps"], "argument --steps: expected one argument"),
    (["run", "csv_profile", "--csv-file", "/no/such.csv"], "csv_file: no such file"),
    (["run", "csv_profile", "--csv-file", sys.executable], "csv_file: does not look like a CSV"),
    (
        ["run", "nope"],
        "unknown job 'nope'; known jobs: csv_profile, monte_carlo_pi, batch_steps, fetch_pages",
    ),
    (["run", "fetch_pages", "--pages", "3", "--fail-page", "4"], "fail_page: page 4 is past"),
    (["list", "extra"], "list takes no arguments"),
    ([], "the following arguments are required"),
]


@pytest.mark.parametrize(("args", "words"), BAD_COMMANDS)
def test_bad_command_exits_2_with_a_one_line_message(args: list[str], words: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert words in lines[0]


def test_job_help_lists_its_parameters() -> None:
    done = run_cli("run", "batch_steps", "--help")
    assert done.returncode == 0
    for flag in ("--steps", "--step-s", "--fail-at"):
        assert flag in done.stdout


def test_cli_does_not_import_streamlit() -> None:
    code = "import sys, cli; cli.main(['list']); print('streamlit' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("False")


def _lines(stream: object, into: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)
    into.put(None)


def test_ctrl_c_cancels_the_job_and_exits_130() -> None:
    args = ["run", "batch_steps", "--steps", "1000", "--step-s", "0.05", "--json"]
    proc = subprocess.Popen(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + WAIT_S
        while not any("step " in line for line in seen):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"the CLI ended before showing progress: {seen}"
            seen.append(line)
        proc.send_signal(signal.SIGINT)
        returncode = proc.wait(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=WAIT_S)
    while (line := lines.get_nowait()) is not None:
        seen.append(line)
    assert proc.stdout is not None and proc.stderr is not None
    outcome = json.loads(proc.stdout.read())
    proc.stdout.close()
    proc.stderr.close()
    assert returncode == 130
    stderr = "".join(seen)
    assert "Cancelling" in stderr and "Cancelled · " in stderr
    assert outcome["status"] == "CANCELLED"
    assert 0 < len(outcome["partial"]) < 1000
