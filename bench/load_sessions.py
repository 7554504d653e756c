"""How many live tabs one ``streamlit run`` process holds: the Jobs page under websocket load.

For each N, a fresh server of the app and N websocket clients that behave like browser
tabs (tests/support/ws_tab.py: time zone, form submit, the fragment's rerun timer), each
on the Jobs page with a long batch job of its own. Over a measuring window it reports,
per N: the gaps between updates each tab saw (p50/p95/max), tabs that saw none, the
server's CPU (cores, from /proc) and resident memory per session. The baseline, run the
same way in the same run: bench/floor_app.py, the same form and a fragment polling a
plain dict (Streamlit's own floor); our CPU and memory per session are printed as ratios
to it. Writes docs/performance.md and its plots. Run:

    .venv/bin/python bench/load_sessions.py [--sizes 10,50,100,200] [--window-s 20]

(the four default sizes take about 10 minutes on 2 cores; ``--more-step 0`` stops at the
last size instead of adding tabs while the app holds; ``--profile DIR`` keeps py-spy's
samples of each server over its window).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the test helpers live in tests/support
    sys.path.insert(0, str(ROOT))

from tests.support.server import StreamlitServer  # noqa: E402
from tests.support.wait import WaitTimeout, wait_until  # noqa: E402
from tests.support.ws_client import StreamlitWsClient  # noqa: E402
from tests.support.ws_tab import LiveTab, open_tabs, submit_all  # noqa: E402

APP = ROOT / "streamlit_app.py"
FLOOR_APP = ROOT / "bench" / "floor_app.py"
#: A batch job that runs for hours: one step (and one partial result) a second or so.
JOB_FORM = {"job-batch_steps-steps": "10000", "job-batch_steps-step_s": "1"}
SUBMIT_KEY = "start-batch_steps"
#: What the issue asks of one process at 200 tabs.
TARGET_P95_GAP_S = 1.5
TARGET_CORES = 1.0
TARGET_RATIO = 1.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
APP_LABEL = "app"
#: How long a batch of tabs may take to open and start its jobs (a starved server is slow).
OPEN_TIMEOUT_S = 300.0
FLOOR_LABEL = "floor"


@dataclass
class Run:
    """One app at one N, over the measuring window."""

    app: str
    tabs: int
    window_s: float
    gaps: list[float]
    silent_tabs: int
    cores: float
    rss_base_mib: float
    rss_mib: float

    @property
    def cpu_ms_per_tab_s(self) -> float:
        """Server CPU per tab: milliseconds per second of wall time."""
        return 1000 * self.cores / self.tabs

    @property
    def rss_kib_per_tab(self) -> float:
        return 1024 * max(0.0, self.rss_mib - self.rss_base_mib) / self.tabs

    def gap(self, share: float) -> float:
        if not self.gaps:
            return float("nan")
        ordered = sorted(self.gaps)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    @property
    def max_gap(self) -> float:
        return max(self.gaps, default=float("nan"))

    @property
    def holds(self) -> bool:
        return (
            self.silent_tabs == 0
            and self.gap(0.95) <= TARGET_P95_GAP_S
            and self.cores <= TARGET_CORES
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def tab_gaps(updates: Sequence[float], start: float, end: float) -> list[float]:
    """Gaps between the updates a tab saw in [start, end]; a stall at the end counts too."""
    seen = [t for t in updates if start <= t <= end]
    gaps = [later - earlier for earlier, later in itertools.pairwise(seen)]
    if seen and (end - seen[-1]) > max(gaps, default=0.0):
        gaps.append(end - seen[-1])
    return gaps


def measure(
    app: Path, label: str, page: str, tabs: int, args: argparse.Namespace, workdir: Path
) -> Run:
    server = StreamlitServer(
        app,
        env={
            "TASKMGR_MAX_WORKERS": str(tabs + 8),
            "DATABASE_URL": f"sqlite:///{workdir}/{label}-{tabs}.db",
        },
        log_path=workdir / f"{label}-{tabs}.log",
    )
    with server, StreamlitWsClient(server.ws_url) as client:
        pid = server.pid
        assert pid is not None
        # A first tab draws a job before the idle size is read: imports and caches done.
        warm = open_tabs(client, 1, page=page, timeout=OPEN_TIMEOUT_S)[0]
        warm.submit(SUBMIT_KEY, JOB_FORM, timeout=OPEN_TIMEOUT_S)
        wait_until(lambda: len(warm.updates) >= 2, timeout=120, message="the warm-up tab's updates")
        warm.close()
        base = rss_mib(pid)
        live: list[LiveTab] = []
        opening = time.monotonic()
        for start in range(0, tabs, args.batch):  # open in batches, as users arrive
            size = min(args.batch, tabs - start)
            batch = open_tabs(client, size, page=page, timeout=OPEN_TIMEOUT_S)
            submit_all(client, batch, SUBMIT_KEY, JOB_FORM, timeout=OPEN_TIMEOUT_S)
            live += batch
            print(
                f"  {label}: {len(live)}/{tabs} tabs open with a job "
                f"({time.monotonic() - opening:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        wait_until(lambda: all(tab.polling for tab in live), timeout=120, message="every tab polls")
        time.sleep(args.warmup_s)  # ok: let every tab's timer settle into its rhythm
        profiler = start_profiler(args, pid, label, tabs)
        cpu0, start_t = cpu_seconds(pid), time.monotonic()
        time.sleep(args.window_s)  # ok: the measuring window
        cpu1, end_t = cpu_seconds(pid), time.monotonic()
        if profiler is not None:
            profiler.wait(timeout=60)
        rss = rss_mib(pid)
        gaps = [gap for tab in live for gap in tab_gaps(tab.updates, start_t, end_t)]
        silent = sum(1 for tab in live if not any(start_t <= t <= end_t for t in tab.updates))
    return Run(
        label, tabs, end_t - start_t, gaps, silent, (cpu1 - cpu0) / (end_t - start_t), base, rss
    )


def start_profiler(
    args: argparse.Namespace, pid: int, label: str, tabs: int
) -> subprocess.Popen[bytes] | None:
    """With ``--profile DIR``: py-spy samples the server over the window (collapsed stacks).

    ``--gil`` samples only the thread holding the GIL, so threads waiting for it do not
    count as busy; py-spy adds about 1-2% of CPU at this rate.
    """
    if args.profile is None:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = Path(args.profile) / f"{label}-{tabs}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [spy, "record", "--gil", "--nonblocking", "-r", "50", "-f", "raw"]
    command += ["-d", str(max(1, round(args.window_s))), "-o", str(out), "-p", str(pid)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fmt_row(run: Run, floor: Run | None) -> str:
    cpu_ratio = run.cpu_ms_per_tab_s / floor.cpu_ms_per_tab_s if floor else float("nan")
    rss_ratio = (
        run.rss_kib_per_tab / floor.rss_kib_per_tab
        if floor and floor.rss_kib_per_tab
        else float("nan")
    )
    return (
        f"| {run.app} | {run.tabs} | {run.gap(0.5):.2f} | {run.gap(0.95):.2f} | "
        f"{run.max_gap:.2f} | {run.silent_tabs} | {run.cores:.2f} | "
        f"{run.cpu_ms_per_tab_s:.2f} | {run.rss_kib_per_tab:.0f} | "
        + (f"{cpu_ratio:.2f}x | {rss_ratio:.2f}x |" if floor else "1 | 1 |")
    )


HEADER = (
    "| app | tabs | gap p50 s | gap p95 s | gap max s | tabs without update | server cores "
    "| CPU ms/s per tab | RSS KiB per tab | CPU vs floor | RSS vs floor |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    import streamlit

    return (
        f"{os.cpu_count()} cores ({model}), {mem_kib / 2**20:.0f} GiB, "
        f"Python {platform.python_version()}, Streamlit {streamlit.__version__}, "
        f"{platform.system()} {platform.release()}"
    )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def plot(runs: Sequence[Run], out_dir: Path) -> list[str]:
    """Update gap and server CPU against tabs, ours beside the floor; returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for fname, ylabel, target in (
        (GAP_PLOT, "seconds between updates (p95; max dashed)", TARGET_P95_GAP_S),
        (CPU_PLOT, "server CPU (cores)", TARGET_CORES),
    ):
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for app, colour in ((APP_LABEL, "tab:blue"), (FLOOR_LABEL, "tab:grey")):
            series = sorted((r for r in runs if r.app == app), key=lambda r: r.tabs)
            xs = [r.tabs for r in series]
            if fname == GAP_PLOT:
                ax.plot(xs, [r.gap(0.95) for r in series], "o-", color=colour, label=f"{app} p95")
                ax.plot(
                    xs,
                    [r.max_gap for r in series],
                    "o--",
                    color=colour,
                    alpha=0.5,
                    label=f"{app} max",
                )
            else:
                ax.plot(xs, [r.cores for r in series], "o-", color=colour, label=app)
        ax.axhline(target, color="tab:red", lw=0.8, label="target")
        ax.set_xlabel("live tabs, each with a running job")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / fname)
        plt.close(fig)
        names.append(fname)
    return names


def write_doc(
    runs: Sequence[Run], notes: Sequence[str], command: str, loads: tuple[str, str], took_s: float
) -> None:
    plots = plot(runs, DOC.parent)
    floors = {r.tabs: r for r in runs if r.app == FLOOR_LABEL}
    rows = [fmt_row(r, floors.get(r.tabs)) for r in sorted(runs, key=lambda r: (r.tabs, r.app))]
    text = DOC_TEMPLATE.format(
        command=command,
        machine=machine(),
        load_before=loads[0],
        load_after=loads[1],
        took=f"{took_s:.0f}",
        table="\n".join([HEADER, *rows]),
        gap_plot=plots[0],
        cpu_plot=plots[1],
        verdict="\n\n".join([verdict(runs), *notes]),
    )
    DOC.write_text(text)


def verdict(runs: Sequence[Run]) -> str:
    ours = sorted((r for r in runs if r.app == APP_LABEL), key=lambda r: r.tabs)
    held = [r.tabs for r in ours if r.holds]
    if not held:
        return "No size held the targets in this run."
    return (
        f"Largest size that held every target (every tab updated, p95 gap <= "
        f"{TARGET_P95_GAP_S:g} s, <= {TARGET_CORES:g} core): {max(held)} tabs."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,50,100,200", help="numbers of tabs")
    parser.add_argument(
        "--more-step",
        type=int,
        default=100,
        help="after the sizes, add this many tabs while the app holds (0: no)",
    )
    parser.add_argument("--max-tabs", type=int, default=400, help="stop adding tabs here")
    parser.add_argument("--window-s", type=float, default=20.0, help="measuring window")
    parser.add_argument("--warmup-s", type=float, default=4.0, help="settling before it")
    parser.add_argument("--batch", type=int, default=25, help="tabs opened at once")
    parser.add_argument("--budget-s", type=float, default=1800.0, help="no new size after this")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy the servers over each window into DIR"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    command = " ".join(["python bench/load_sessions.py", *sys.argv[1:]])
    started = time.monotonic()
    load_before = load()
    runs: list[Run] = []
    notes: list[str] = []
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as workdir:
        tabs = 0
        queue = list(sizes)
        while queue and time.monotonic() - started < args.budget_s:
            tabs = queue.pop(0)
            opening = FLOOR_LABEL
            try:
                floor = measure(FLOOR_APP, FLOOR_LABEL, "", tabs, args, Path(workdir))
                runs.append(floor)
                print(fmt_row(floor, None), flush=True)
                opening = APP_LABEL
                ours = measure(APP, APP_LABEL, "Jobs", tabs, args, Path(workdir))
            except (TimeoutError, WaitTimeout) as exc:
                notes.append(
                    f"{tabs} tabs: not measured, the {opening}'s tabs could not all open and "
                    f"start their jobs in time ({type(exc).__name__}); see the load average above."
                )
                print(notes[-1], file=sys.stderr, flush=True)
                break
            runs.append(ours)
            print(fmt_row(ours, floor), flush=True)
            if (
                not queue
                and ours.holds
                and args.more_step
                and tabs + args.more_step <= args.max_tabs
            ):
                queue.append(tabs + args.more_step)
    took = time.monotonic() - started
    print(verdict(runs))
    print(f"(benchmark took {took:.0f} s; load {load_before} -> {load()})")
    if not args.no_doc:
        write_doc(runs, notes, command, (load_before, load()), took)
        print(f"wrote {DOC.relative_to(ROOT)}")


DOC = ROOT / "docs" / "performance.md"
GAP_PLOT = "performance_gap.png"
CPU_PLOT = "performance_cpu.png"
DOC_TEMPLATE = """# Performance: live tabs on one server process

Written by `bench/load_sessions.py`; run it again to regenerate this page and its plots.

- Command: `{command}` (took {took} s)
- Machine: {machine}
- Load average (1, 5, 15 min) before and after: {load_before} -> {load_after}

Each tab is a websocket client that speaks Streamlit's protocol and behaves like a browser
tab (tests/support/ws_tab.py): it opens the page, submits the batch job's form (10,000
steps of about a second), and then, like the frontend, sends a fragment rerun every
`run_every` seconds for as long as the page asks for it. An update is a fragment run that
finished; the gap is the time between two updates a tab saw, over the measuring window
(a tab stalled at the end counts its open gap). "floor" is `bench/floor_app.py`: the same
form and a fragment polling a plain dict, under the same `.streamlit/config.toml`.
CPU is the server process's user + system time over the window (`/proc/<pid>/stat`);
RSS per tab is the server's resident memory growth over its idle size, divided by tabs.

{verdict}

{table}

![update gap against tabs]({gap_plot})

![server CPU against tabs]({cpu_plot})

## Where a tick's time goes

Profiled with py-spy against the real `streamlit run` servers of this benchmark:
`python bench/load_sessions.py --sizes 100 --more-step 0 --no-doc --profile DIR` runs
`py-spy record --gil --nonblocking -r 50 -f raw` on each server over its window (`--gil`:
only the thread holding the GIL is sampled, so threads waiting for it do not count as busy).
Shares below are of the app's samples.

- Earlier rounds: Streamlit's full garbage collection after every script and fragment run
  (about a quarter of the CPU; `runner.postScriptGC = false` now, `app/collector.py`
  collects every 15 s instead), and converting each task's whole, ever-growing table
  through pandas to Arrow on every tick (now the latest 20 rows, built once per version).
- The store's writer thread encoded every running task's whole partial result (a table
  that gains a row a second) to JSON with every batch: 42% of the samples at 120 tabs,
  growing with the jobs' age, and with it 120 and 200 tabs could not even all open in five
  minutes. A running task's progress and message are still written with every batch, its
  data within a 5% share of a core (`store/data_pacing.py`): the writer is now about 8%,
  half of it SQL.
- Streamlit builds a `new_session` message for every script and fragment run, reading the
  six theme sections of its config, each read walking all 370 options under the config
  lock: 20-35% of the floor's samples, 10% of ours. The app keeps each section's values
  until Streamlit reads its config again (`sessions/runtime.py`): now under 1%. The
  floor app keeps paying it, so part of the floor is dearer than the app's same machinery.
- Arrow on new threads: Streamlit runs every script and fragment run on a new thread,
  and on a thread that never called pyarrow before, each pyarrow call costs about 60 µs
  more (`pa.array([1, 2, 3])`: 8 µs on a warm thread, 68 µs on a new one; any memory
  pool). Building and serialising the live table's 20 rows with `st.dataframe` was half
  of the script threads' busy samples (py-spy, all threads, 100 tabs). A running task's
  latest 10 rows are now a markdown table of text cells (`ui/markdown_text.py`), built
  once per version; a finished task's whole table stays an `st.dataframe`, drawn once.
  Server CPU at 100 tabs went from 0.54 to 0.44 cores (the floor: 0.32).
- The page icon was a file, which Streamlit registers as a media file of every session;
  every script and fragment run then walks all sessions' media files to find orphans
  (2.6% of the samples at 200 tabs). It is a `data:` URL now (`app/page_icon.py`).
- Now (100 tabs, all threads): the script-run threads take about 53% of the busy
  samples, of which our fragment body about a quarter (the live table's view, built
  once per version, 8%; drawing it 8%; the progress line 7%); the rest is Streamlit's
  run machinery, as in the floor (its `uuid4` per run alone: 18% of these threads). The event loop
  (websockets, Streamlit's message handling) takes about 10%, the store's writer 3%, the
  job threads under 1%.
- Memory per tab (tracemalloc in the server, 5 then 45 tabs, against the floor the same
  way): Python objects are about 124 KiB a tab against the floor's 57. The difference is
  mostly the page, not the task manager. The four job forms' 17 widgets (13 fields, 4
  Start buttons; the floor has 4) take about 25 KiB: each widget costs a session about
  1.5 KiB of Streamlit's widget state and of the sets of the last run's widget ids. The
  running job takes about 30 KiB resident with its worker thread (`bench/bench_task_cost.py`:
  30.5 KiB a task, 22.5 of which a bare thread running the same loop costs too; the floor's
  "job" is an entry in a dict). Streamlit's copy of each card's fragment (its container
  stack, deep-copied: about 5 KiB) and the live table's text (under 2 KiB) are most of
  the rest that is ours.
- Two changes would cut it, each at a price, and neither is done. Drawing only the
  selected job's form (Streamlit's lazy tabs, `tab.open`) saves about 16 KiB a tab, but a
  user who looks at another job's tab loses what they typed and did not submit, and their
  chosen upload. Running the batch job as `async def` saves about 20 KiB a task in the
  manager alone (10.9 instead of 30.5 KiB) and measured 144-148 against 169-173 KiB a tab
  at 100 tabs (three and two runs), but one run at 200 tabs saved nothing and had a p95
  gap of 8.7 s, not explained yet; and it takes the job off the worker pool that the
  fair-share reserve, the queue limits and the Dask runner act on, which this job
  demonstrates. Even both together would leave the app near 1.9x the floor's memory per
  tab at 200 tabs: the rest is what a page with four forms, task cards and a live table
  costs Streamlit per session.
"""


if __name__ == "__main__":
    main()
