"""The session tracker on a real ``streamlit run`` server, with 10, 50 and 100 sessions.

For each grace window (0 s and 2 s) and each number of sessions, held by
websocket clients that speak Streamlit's protocol, each with a running or
queued job of its own:

- end latency: a tab closing -> the tracker's ``on_end`` (reported minus the
  grace window), for one tab alone and for all the others closing at once;
- cancel latency: a tab closing -> its job CANCELLED by the orphan reaper;
- disconnect detection: the tracker (its session-end hook) beside the baseline
  it replaces, a fixed 2 s poll of the session list, run in the same server;
- tracker CPU per heartbeat tick (``time.thread_time`` on the tracker thread),
  and per 100 sessions, with no heartbeat listener (grace 0 server) and with
  one no-op heartbeat listener (grace 2 server).

The whole run is bounded by ``--budget-s`` (default 300). Run:
    .venv/bin/python bench/bench_sessions.py [--sizes 10,50,100] [--graces 0,2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the test helpers live in tests/support
    sys.path.insert(0, str(ROOT))

from tests.sessions.tracker_server import APP, tracker_env  # noqa: E402
from tests.support.event_log import EventLog  # noqa: E402
from tests.support.server import StreamlitServer  # noqa: E402
from tests.support.wait import WaitTimeout, wait_until  # noqa: E402
from tests.support.ws_client import StreamlitWsClient, WsSession  # noqa: E402

HEARTBEAT_S = 2.0
NAIVE_POLL_S = 2.0
TICKS_PER_CPU_SAMPLE = 4


class OutOfTime(RuntimeError):
    """The benchmark's own time budget ran out."""


class Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self, at_most: float = 120.0) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OutOfTime("the benchmark ran out of its time budget (--budget-s)")
        return min(remaining, at_most)


@dataclass
class CloseResult:
    grace_s: float
    sessions: int
    closed: int
    end_s: list[float] = field(default_factory=list)
    cancel_s: list[float] = field(default_factory=list)
    detect_s: list[float] = field(default_factory=list)
    naive_detect_s: list[float] = field(default_factory=list)


@dataclass
class CpuResult:
    grace_s: float
    sessions: int
    ticks: int
    tick_cpu_s: float
    beat_listener: bool

    @property
    def per_tick_ms(self) -> float:
        return 1000 * self.tick_cpu_s / self.ticks

    @property
    def per_tick_per_100_ms(self) -> float:
        return self.per_tick_ms * 100 / max(self.sessions, 1)


def owner_of(session: WsSession) -> str:
    """The owner the tracker app shows (``owner=...``): a client without cookies has its own."""
    for text in session.texts:
        key, _, value = text.partition("=")
        if key == "owner":
            return value
    raise AssertionError(f"no owner shown by the session: {session.texts!r}")


def read_stats(stats_session: WsSession) -> dict[str, Any]:
    stats_session.rerun()
    stats: dict[str, Any] = json.loads(stats_session.texts[0])
    return stats


def measure_cpu(
    stats_session: WsSession, grace_s: float, sessions: int, beat_listener: bool, budget: Budget
) -> CpuResult:
    """Tracker-thread CPU over a few heartbeat ticks with ``sessions`` (+1 stats) sessions."""

    def seeing_all() -> dict[str, Any] | None:
        stats = read_stats(stats_session)
        return stats if stats["last_tick_sessions"] >= sessions else None

    first = wait_until(seeing_all, timeout=budget.left(), interval=0.5)
    target = first["ticks"] + TICKS_PER_CPU_SAMPLE

    def ticked() -> dict[str, Any] | None:
        stats = read_stats(stats_session)
        return stats if stats["ticks"] >= target else None

    last = wait_until(ticked, timeout=budget.left(), interval=0.5)
    return CpuResult(
        grace_s,
        last["last_tick_sessions"],
        last["ticks"] - first["ticks"],
        last["tick_cpu_s"] - first["tick_cpu_s"],
        beat_listener,
    )


def measure_close(
    client: StreamlitWsClient,
    events: EventLog,
    closing: list[WsSession],
    grace_s: float,
    total: int,
    budget: Budget,
) -> CloseResult:
    """Close ``closing`` at once; time each one's end, its job's cancel and its detection."""
    client.close_many(closing)
    result = CloseResult(grace_s, total, len(closing))
    for session in closing:
        assert session.session_id is not None and session.closed_at is not None
        end = events.wait_for("end", sid=session.session_id, timeout=budget.left())[0]
        cancelled = events.wait_for(
            "task", owner=owner_of(session), status="CANCELLED", timeout=budget.left()
        )[0]
        naive = events.wait_for("naive_end", sid=session.session_id, timeout=budget.left())[0]
        result.end_s.append(end["t"] - session.closed_at)
        result.cancel_s.append(cancelled["t"] - session.closed_at)
        result.detect_s.append(end["disconnected_at"] - session.closed_at)
        result.naive_detect_s.append(naive["t"] - session.closed_at)
    return result


def run_server(
    grace_s: float, sizes: list[int], beat_listener: bool, budget: Budget, workdir: Path
) -> tuple[list[CloseResult], list[CpuResult]]:
    events_path = workdir / f"events-grace{grace_s:g}.jsonl"
    server = StreamlitServer(
        APP,
        env={
            **tracker_env(events_path, grace_s=grace_s, heartbeat_s=HEARTBEAT_S),
            "TASKMGR_MAX_WORKERS": "8",
            "TASKMGR_MAX_QUEUED_PER_OWNER": "10",
            "TEST_LOG_HEARTBEATS": "0",
            "TEST_NAIVE_POLL_S": str(NAIVE_POLL_S),
            "TEST_NOOP_HEARTBEAT_LISTENER": "1" if beat_listener else "0",
        },
        log_path=workdir / f"server-grace{grace_s:g}.log",
    )
    closes: list[CloseResult] = []
    cpus: list[CpuResult] = []
    with server, StreamlitWsClient(server.ws_url) as client:
        events = EventLog(events_path)
        stats_session = client.open("view=stats")
        events.wait_for("wired", timeout=budget.left())
        for size in sizes:
            print(f"  grace {grace_s:g} s, {size} sessions ...", file=sys.stderr, flush=True)
            sessions = client.open_many(["job=1"] * size, timeout=budget.left())
            for session in sessions:
                events.wait_for("start", sid=session.session_id, timeout=budget.left())
            cpus.append(measure_cpu(stats_session, grace_s, size, beat_listener, budget))
            closes.append(measure_close(client, events, sessions[:1], grace_s, size, budget))
            closes.append(measure_close(client, events, sessions[1:], grace_s, size, budget))
        stats_session.close()
    return closes, cpus


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.3f} {p95:7.3f} {ordered[-1]:7.3f}"


def report(closes: list[CloseResult], cpus: list[CpuResult]) -> None:
    print("\nClose latency, seconds after the tab closed (median / p95 / max):")
    print(
        f"{'grace':>5} {'sessions':>8} {'closed':>6} | {'end - grace':^23} | "
        f"{'job CANCELLED - grace':^23} | {'disconnect seen':^23}"
    )
    for r in closes:
        minus = [value - r.grace_s for value in r.end_s]
        cancel = [value - r.grace_s for value in r.cancel_s]
        print(
            f"{r.grace_s:5g} {r.sessions:8d} {r.closed:6d} | {summary(minus)} | "
            f"{summary(cancel)} | {summary(r.detect_s)}"
        )
    detect = [value for r in closes for value in r.detect_s]
    naive = [value for r in closes for value in r.naive_detect_s]
    worst_end = max(value - r.grace_s for r in closes for value in r.end_s)
    print(
        f"\nDisconnect detection, median over {len(detect)} closes: tracker "
        f"{statistics.median(detect) * 1000:.1f} ms, baseline {NAIVE_POLL_S:g} s poll "
        f"{statistics.median(naive) * 1000:.1f} ms "
        f"(baseline / tracker = {statistics.median(naive) / statistics.median(detect):.0f}x)"
    )
    print(f"Worst end latency past the grace window: {worst_end * 1000:.1f} ms (target < 500 ms)")

    print("\nTracker CPU per heartbeat tick (thread CPU time of the tracker thread):")
    print(
        f"{'grace':>5} {'listener':>8} {'sessions':>8} {'ticks':>5}"
        f" {'ms/tick':>8} {'ms/tick/100':>11}"
    )
    for c in cpus:
        print(
            f"{c.grace_s:5g} {'no-op' if c.beat_listener else 'none':>8} {c.sessions:8d} "
            f"{c.ticks:5d} {c.per_tick_ms:8.3f} {c.per_tick_per_100_ms:11.3f}"
        )
    for beat_listener in (False, True):
        runs = [c for c in cpus if c.beat_listener == beat_listener]
        runs.sort(key=lambda c: c.sessions)
        if len(runs) < 2:
            continue
        small, large = runs[0], runs[-1]
        slope_us = (
            1000 * (large.per_tick_ms - small.per_tick_ms) / (large.sessions - small.sessions)
        )
        label = "with a no-op heartbeat listener" if beat_listener else "no heartbeat listener"
        print(
            f"{label:>31}: "
            f"{large.per_tick_ms:.3f} ms per tick at {large.sessions} sessions "
            f"(target < 1 ms per 100), {slope_us:.1f} us more per extra session"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,50,100", help="numbers of sessions")
    parser.add_argument("--graces", default="0,2", help="grace windows in seconds")
    parser.add_argument("--budget-s", type=float, default=300.0, help="stop after this long")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    graces = [float(grace) for grace in args.graces.split(",")]
    budget = Budget(args.budget_s)
    closes: list[CloseResult] = []
    cpus: list[CpuResult] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-sessions-") as workdir:
        try:
            for index, grace in enumerate(graces):
                beat_listener = index % 2 == 1
                server_closes, server_cpus = run_server(
                    grace, sizes, beat_listener, budget, Path(workdir)
                )
                closes += server_closes
                cpus += server_cpus
        except (OutOfTime, WaitTimeout) as exc:
            print(f"\nstopped early: {exc}; partial results follow", file=sys.stderr)
    if closes and cpus:
        report(closes, cpus)
    print(f"\n(benchmark took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
