"""Run the app's jobs from a terminal, through the same task manager as the web app.

    python cli.py list
    python cli.py run monte_carlo_pi --samples 2000000
    python cli.py run csv_profile --csv-file orders.csv --json
    python cli.py run batch_steps --steps 50 --step-s 0.1 --fail-at 20

Exit codes: 0 done, 1 the job failed, 2 bad command line or parameters, 130 cancelled
(Ctrl-C cancels the job cooperatively and waits for it to stop).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import queue
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table
from rich.text import Text

from jobs import JOBS, Job, JobParamError, Param, get_job
from taskmgr import AsyncTaskManager, TaskSnapshot, TaskStatus
from ui.format import error_summary, format_cell
from ui.terminal_output import LiveProgress, TerminalOutput

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130

_TASK_ID = "cli"
_EXIT_CODES = {
    TaskStatus.SUCCESS: EXIT_OK,
    TaskStatus.ERROR: EXIT_FAILED,
    TaskStatus.CANCELLED: EXIT_CANCELLED,
    TaskStatus.INTERRUPTED: EXIT_FAILED,
}
_METAVARS = {
    "int": "N",
    "float": "X",
    "str": "TEXT",
    "choice": "CHOICE",
    "file": "PATH",
    "bool": "BOOL",
}


class UsageError(Exception):
    """The command line cannot be used; the message says why, in one line."""


class _Parser(argparse.ArgumentParser):
    """Raises instead of printing usage and exiting, so every usage error is one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def main(argv: Sequence[str] | None = None) -> int:
    out = TerminalOutput(Console(), max_rows=50)
    err = TerminalOutput(Console(stderr=True), max_rows=10)
    try:
        args, extra = _command_parser().parse_known_args(argv)
        if args.command == "list":
            if extra:
                raise UsageError(f"list takes no arguments, got {' '.join(extra)}")
            _list_jobs(out.console)
            return EXIT_OK
        job = _find_job(args.job)
        params = job.validate(_job_arguments(job, extra))
    except (UsageError, JobParamError) as exc:
        err.error(str(exc))
        return EXIT_USAGE
    err.show_traceback = args.traceback
    return _run(job, params, as_json=args.json, quiet=args.quiet, out=out, err=err)


def _command_parser() -> _Parser:
    parser = _Parser(
        prog="cli.py",
        description="Run the app's long jobs from a terminal.",
        epilog="Ctrl-C cancels a running job. `cli.py run JOB --help` lists its parameters.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{list,run}")
    commands.add_parser("list", help="show the jobs and their parameters")
    run = commands.add_parser(
        "run", help="run one job", add_help=False, allow_abbrev=False, prefix_chars="-"
    )
    run.add_argument("job", help="the job's key, as `list` shows it")
    run.add_argument("--json", action="store_true", help="print the outcome as JSON")
    run.add_argument("--quiet", action="store_true", help="no live progress")
    run.add_argument("--traceback", action="store_true", help="show a failed job's traceback")
    return parser


def _find_job(key: str) -> Job:
    try:
        return get_job(key)
    except KeyError:
        raise UsageError(f"unknown job {key!r}; known jobs: {', '.join(JOBS)}") from None


def _job_arguments(job: Job, argv: Sequence[str]) -> dict[str, Any]:
    """``--name VALUE`` pairs as raw values for ``Job.validate``; file paths become Paths."""
    namespace, unknown = _job_parser(job).parse_known_args(argv)
    if unknown:
        options = ", ".join(_flag(param) for param in job.params)
        raise UsageError(
            f"{unknown[0]!r} is not a parameter of {job.key}; its parameters are {options}"
        )
    raw: dict[str, Any] = vars(namespace)
    for param in job.params:
        if param.kind == "file" and param.name in raw:
            raw[param.name] = Path(raw[param.name])
    return raw


def _job_parser(job: Job) -> _Parser:
    parser = _Parser(
        prog=f"cli.py run {job.key}",
        description=job.description,
        allow_abbrev=False,
    )
    for param in job.params:
        flags = [_flag(param)]
        if "_" in param.name:
            flags.append(f"--{param.name}")
        parser.add_argument(
            *flags,
            dest=param.name,
            default=argparse.SUPPRESS,
            metavar=_METAVARS[param.kind],
            help=f"{param.help} ({_describe_param(param)})",
        )
    return parser


def _flag(param: Param) -> str:
    return "--" + param.name.replace("_", "-")


def _describe_param(param: Param) -> str:
    parts = [param.range_text(), f"default: {_default_text(param)}"]
    return "; ".join(part for part in parts if part)


def _default_text(param: Param) -> str:
    if param.default is None:
        return "none"
    return format_cell(param.default)


def _list_jobs(console: Console) -> None:
    for job in JOBS.values():
        table = Table(
            title=Text.assemble((job.key, "bold cyan"), f"  {job.title}"),
            title_justify="left",
            caption=job.description,
            caption_justify="left",
        )
        table.add_column("parameter", no_wrap=True, style="bold")
        table.add_column("kind", no_wrap=True)
        table.add_column("default", no_wrap=True, justify="right")
        table.add_column("range")
        table.add_column("help")
        for param in job.params:
            table.add_row(
                param.name, param.kind, _default_text(param), param.range_text(), param.help
            )
        console.print(table)
        console.print()
    console.print(
        "Run one with: python cli.py run JOB --parameter VALUE ... "
        "(dashes or underscores; a file parameter takes a path)",
        soft_wrap=True,
        highlight=False,
    )


def _run(
    job: Job,
    params: Mapping[str, Any],
    *,
    as_json: bool,
    quiet: bool,
    out: TerminalOutput,
    err: TerminalOutput,
) -> int:
    # Explicitly, because a parent that ignores SIGINT would otherwise make Ctrl-C a no-op.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # The outcome is reported below; the manager's own warning about a failed task is noise.
    logging.getLogger("taskmgr").setLevel(logging.ERROR)
    manager = AsyncTaskManager(max_workers=1)
    updates: queue.SimpleQueue[TaskSnapshot] = queue.SimpleQueue()
    manager.add_listener(updates.put)
    try:
        with contextlib.ExitStack() as stack:
            view = None if quiet else stack.enter_context(err.live(job.key))
            try:
                first = manager.submit(_TASK_ID, job.fn, params, name=job.key)
                final = _follow(first, updates, view)
            except KeyboardInterrupt:
                if manager.cancel(_TASK_ID):
                    err.info("Cancelling: waiting for the job to stop (Ctrl-C again to quit)")
                final = _follow(manager.get_result(_TASK_ID), updates, view)
    except KeyboardInterrupt:
        err.error("interrupted again; quitting without waiting for the job to stop")
        manager.shutdown(wait=False, cancel=True)
        return EXIT_CANCELLED
    manager.shutdown(wait=True, cancel=True)
    _show_outcome(job, final, as_json=as_json, out=out, err=err)
    return _EXIT_CODES.get(final.status, EXIT_FAILED)


def _follow(
    snapshot: TaskSnapshot, updates: queue.SimpleQueue[TaskSnapshot], view: LiveProgress | None
) -> TaskSnapshot:
    """Wait for snapshots (no polling) until the task is final; return the final one."""
    latest = snapshot
    if view is not None:
        view.update(latest)
    while not latest.is_final:
        update = updates.get()
        # Listeners run on whichever thread made the change, so an older one can come late.
        if update.version > latest.version:
            latest = update
            if view is not None:
                view.update(latest)
    return latest


def _show_outcome(
    job: Job, final: TaskSnapshot, *, as_json: bool, out: TerminalOutput, err: TerminalOutput
) -> None:
    if as_json:
        print(json.dumps(outcome_record(job, final), default=str))
        if final.status is TaskStatus.ERROR:
            err.error(error_summary(final.error))
        elif final.status is not TaskStatus.SUCCESS:
            err.result(final)
    elif final.status is TaskStatus.SUCCESS:
        out.result(final)
    else:
        err.result(final)


def outcome_record(job: Job, final: TaskSnapshot) -> dict[str, Any]:
    """What ``--json`` prints: the status, the result or error, and the last partial result."""
    success = final.status is TaskStatus.SUCCESS
    return {
        "job": job.key,
        "status": final.status.name,
        "result": final.result if success else None,
        "partial": None if success else final.data,
        "error": error_summary(final.error) or None,
        "message": final.message,
        "elapsed_s": final.elapsed_s,
    }


if __name__ == "__main__":
    sys.exit(main())
