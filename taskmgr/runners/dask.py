"""Runs plain tasks on a Dask cluster: the manager keeps everything but the running.

Each of the manager's ``max_workers`` slots is a local thread that submits one task
to the cluster and stays with it: it forwards a cancel (a per-task
``distributed.Event``), applies the task's reports (worker events on this runner's
topic, coalesced, in order) and returns its outcome. A task that ignores a cancel
for ``cancel_grace_s`` is ended by restarting its worker; a task whose worker dies
ends in ``WorkerLost``; the cluster going away ends its tasks in
``ClusterUnavailable`` and refuses new ones until it is back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import cloudpickle
from distributed import Client, Event, Future, KilledWorker, SpecCluster
from distributed.client import FutureCancelledError

from taskmgr.errors import TaskCancelled
from taskmgr.runners.dask_cluster import cluster_environment, start_local_cluster
from taskmgr.runners.dask_worker import Returned, run_task
from taskmgr.runners.threads import ThreadPoolRunner
from taskmgr.settings import read_setting

if TYPE_CHECKING:
    from taskmgr.context import TaskContext

logger = logging.getLogger(__name__)

#: How long a task that ignores a cancel keeps its worker before the worker is restarted.
CANCEL_GRACE_S = 10.0
#: How long a local cluster's workers may take to start (they import the project).
START_TIMEOUT_S = 120.0
#: How long closing may wait for a scheduler that has gone away.
CLOSE_TIMEOUT_S = 5.0
#: How long the last reports may trail the result on their way from the worker.
REPORT_TRAIL_S = 2.0
#: How long to wait for the scheduler's dashboard to answer, once.
DASHBOARD_PROBE_S = 5.0
#: A file only the dashboard serves, relative to its status page.
DASHBOARD_PROBE_PATH = "static/js/bokeh.min.js"


class WorkerLost(RuntimeError):
    """The worker running the task died (killed, out of memory, ``os._exit``)."""


class ClusterUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached: tasks cannot run until it is back."""


_DONE = object()
_CANCEL = object()


class DaskRunner:
    """A ``TaskRunner`` that runs each task on a Dask worker.

    ``scheduler`` is an address (``tcp://host:8786``); None reads ``DASK_SCHEDULER``,
    and without it a local cluster of worker processes is started (and stopped with
    the runner).
    """

    def __init__(
        self,
        max_workers: int,
        scheduler: str | None = None,
        *,
        n_workers: int | None = None,
        cancel_grace_s: float = CANCEL_GRACE_S,
    ) -> None:
        self.max_workers = max_workers
        self.cancel_grace_s = cancel_grace_s
        self._slots = ThreadPoolRunner(max_workers, thread_name_prefix="taskmgr-dask")
        address = scheduler or os.environ.get("DASK_SCHEDULER") or None
        self._cluster: SpecCluster | None = None
        if address is None:
            self._cluster = start_local_cluster(max_workers, n_workers)
            address = self._cluster.scheduler_address
        else:
            cluster_environment()
        self.scheduler_address: str = address
        self._client = Client(address, set_as_default=False)
        if self._cluster is not None:  # its workers are still importing: wait, bounded
            self._client.wait_for_workers(len(self._cluster.workers), timeout=START_TIMEOUT_S)
        self._topic = f"taskmgr-{uuid.uuid4().hex}"
        self._inboxes: dict[str, queue.SimpleQueue[Any]] = {}
        self._inboxes_lock = threading.Lock()
        self._client.subscribe_topic(self._topic, self._on_event)
        self._dashboard: str | None = None
        self._dashboard_known = False
        self._dashboard_lock = threading.Lock()

    @property
    def client(self) -> Client:
        return self._client

    @property
    def dashboard_link(self) -> str | None:
        """Where people open the cluster's dashboard: ``DASK_DASHBOARD_URL`` when set (the
        address a proxy publishes it at), else the scheduler's own, when it serves one."""
        public = read_setting("DASK_DASHBOARD_URL", "", str).strip()
        if public:
            return public
        with self._dashboard_lock:
            if not self._dashboard_known:
                self._dashboard, self._dashboard_known = self._served_dashboard()
            return self._dashboard

    def _served_dashboard(self) -> tuple[str | None, bool]:
        """The scheduler's dashboard link if it serves one, and whether that is settled. A
        scheduler started without the dashboard still names a port (its HTTP server's), so
        ask it for BokehJS, which only the dashboard serves (a cheap ``HEAD``; the status
        page itself would build a whole Bokeh document)."""
        try:
            link = self._client.dashboard_link
        except Exception:
            return None, False
        if not link:
            return None, True
        probe = urllib.request.Request(urljoin(link, DASHBOARD_PROBE_PATH), method="HEAD")
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with no_proxy.open(probe, timeout=DASHBOARD_PROBE_S) as response:
                return (link if response.status == 200 else None), True
        except urllib.error.HTTPError:
            return None, True  # it answered: no dashboard there
        except (OSError, ValueError):
            return None, False  # unreachable or slow for now: asked again next time

    def start(self, work: Callable[[], None]) -> None:
        self._slots.start(work)

    def check(self, fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> None:
        """Refuse at submit what cannot run on the cluster: unpicklable work, no cluster."""
        for what, value in (("function", fn), ("parameters", kwargs)):
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                raise TypeError(
                    f"the task's {what} cannot be sent to a Dask worker: it cannot be "
                    f"pickled ({type(exc).__name__}: {exc}); use a module-level function "
                    "and plain data"
                ) from None
        self._require_cluster()

    def call(self, fn: Callable[..., Any], ctx: TaskContext, kwargs: Mapping[str, Any]) -> Any:
        """Run ``fn(ctx, **kwargs)`` on a worker and wait for it here, in the slot's thread."""
        self._require_cluster()
        key = f"taskmgr-{uuid.uuid4().hex}"
        inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        with self._inboxes_lock:
            self._inboxes[key] = inbox
        cancel = Event(f"{key}-cancel", client=self._client)
        try:
            future = self._client.submit(
                run_task,
                fn,
                dict(kwargs),
                key=key,
                pure=False,
                task_key=key,
                topic=self._topic,
                cancel_name=cancel.name,
                task_id=ctx.task_id,
                owner=ctx.owner,
            )
            future.add_done_callback(lambda _: inbox.put(_DONE))
            ctx._when_cancelled(lambda: inbox.put(_CANCEL))
            return self._follow(future, ctx, inbox, cancel)
        finally:
            with self._inboxes_lock:
                del self._inboxes[key]
            try:
                if self._client.status == "running":  # else it would wait out a timeout
                    cancel.clear()  # so the scheduler forgets the event
            except Exception:
                logger.debug("could not clear the cancel event of %s", key, exc_info=True)

    def shutdown(self, wait: bool) -> None:
        """Release the slots, the client and a local cluster; without ``wait`` the
        closing (seconds) happens on a thread of its own: the caller may hold a lock."""
        self._slots.shutdown(wait=wait)
        if wait:
            self._close()
        else:
            threading.Thread(target=self._close, name="taskmgr-dask-close", daemon=True).start()

    def _close(self) -> None:
        try:
            self._client.close(timeout=CLOSE_TIMEOUT_S)
        finally:
            if self._cluster is not None:
                self._cluster.close()

    # -- following one task ------------------------------------------------------------

    def _follow(
        self,
        future: Future[Returned],
        ctx: TaskContext,
        inbox: queue.SimpleQueue[Any],
        cancel: Event,
    ) -> Any:
        """Apply reports and forward a cancel until the future ends; then its outcome."""
        follower = _Follower(ctx)
        grace_ends: float | None = None
        while not future.done():
            timeout = None if grace_ends is None else grace_ends - time.monotonic()
            if timeout is not None and timeout <= 0:
                self._end_ignoring_task(future, follower.worker)
                raise TaskCancelled(ctx.task_id)
            try:
                item = inbox.get(timeout=timeout)
            except queue.Empty:
                continue
            items = [item, *_drain(inbox)]
            if _CANCEL in items and grace_ends is None:
                cancel.set()
                grace_ends = time.monotonic() + self.cancel_grace_s
            follower.take([i for i in items if isinstance(i, dict)])
            follower.publish()
        returned = self._outcome(future, ctx)
        follower.catch_up(inbox, returned[2])
        if returned[0]:
            raise TaskCancelled(ctx.task_id)
        return returned[1]

    def _outcome(self, future: Future[Returned], ctx: TaskContext) -> Returned:
        try:
            returned: Returned = future.result()
        except KilledWorker as exc:
            if ctx.cancelled:
                raise TaskCancelled(ctx.task_id) from None
            raise WorkerLost(
                f"worker lost: the Dask worker running this task died ({exc})"
            ) from None
        except FutureCancelledError:
            if ctx.cancelled:
                raise TaskCancelled(ctx.task_id) from None
            raise ClusterUnavailable(
                "the Dask cluster went away while this task ran "
                f"(scheduler {self.scheduler_address})"
            ) from None
        return returned

    def _end_ignoring_task(self, future: Future[Returned], worker: str | None) -> None:
        """The task ignored its cancel past the grace: drop it, and restart its worker."""
        logger.warning(
            "task %s ignored its cancel for %g s: restarting its worker %s",
            future.key,
            self.cancel_grace_s,
            worker,
        )
        future.cancel()
        if worker is not None:
            try:
                self._client.restart_workers([worker], raise_for_error=False)
            except Exception:
                logger.exception("could not restart worker %s", worker)

    def _require_cluster(self) -> None:
        if self._client.status != "running":
            raise ClusterUnavailable(
                f"the Dask cluster at {self.scheduler_address} is not available "
                f"(client {self._client.status}); tasks cannot run until it is back"
            )

    def _on_event(self, event: tuple[float, Any]) -> None:
        """On the client's event loop: route a worker's event to its task's inbox."""
        msg = event[1]
        if not isinstance(msg, dict):
            return
        with self._inboxes_lock:
            inbox = self._inboxes.get(msg.get("k", ""))
        if inbox is not None:
            inbox.put(msg)


class _Follower:
    """One task's reports as they arrive: merged, then published in one call."""

    def __init__(self, ctx: TaskContext) -> None:
        self.ctx = ctx
        self.worker: str | None = None
        self.seq = 0
        self._progress: float | None = None
        self._message: str | None = None
        self._data: bytes | None = None
        self._pending = False

    def take(self, messages: list[dict[str, Any]]) -> None:
        for msg in messages:
            if "w" in msg:
                self.worker = msg["w"]
                continue
            self.seq = max(self.seq, msg["seq"])
            self._pending = True
            if msg["p"] is not None:
                self._progress = msg["p"]
            if msg["m"] is not None:
                self._message = msg["m"]
            if msg["d"] is not None:
                self._data = msg["d"]

    def publish(self) -> None:
        if not self._pending:
            return
        data = None if self._data is None else cloudpickle.loads(self._data)
        progress, message = self._progress, self._message
        self._progress = self._message = self._data = None
        self._pending = False
        with contextlib.suppress(TaskCancelled):  # late reports of a cancelled task: dropped
            self.ctx.report(progress=progress, message=message, data=data)

    def catch_up(self, inbox: queue.SimpleQueue[Any], last_seq: int) -> None:
        """Wait (briefly) for reports still on their way, then publish them."""
        deadline = time.monotonic() + REPORT_TRAIL_S
        while self.seq < last_seq:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = inbox.get(timeout=remaining)
            except queue.Empty:
                break
            self.take([i for i in [item, *_drain(inbox)] if isinstance(i, dict)])
        self.take([i for i in _drain(inbox) if isinstance(i, dict)])
        self.publish()


def _drain(inbox: queue.SimpleQueue[Any]) -> list[Any]:
    items = []
    while True:
        try:
            items.append(inbox.get_nowait())
        except queue.Empty:
            return items
