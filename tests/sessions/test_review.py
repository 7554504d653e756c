"""Review tests for sessions/: races, lost or repeated events, leaks, stop() and bad input.

Most tests drive ``SessionCallbackManager`` directly over a fake runtime (``FakeRuntime``):
the functions of ``sessions.runtime`` that reach Streamlit are replaced for the test, so a
"session" is a record in a fake session manager, a "script run" is a call to
``register_session`` with that session's context, and a closed tab is the record leaving
the manager's map followed by its end hook firing, in Streamlit's order.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from sessions import SessionCallbackManager, SessionInfo, on_presence_change, reap_orphans
from sessions import runtime as adapter
from sessions.owner import new_owner_token
from tests.sessions.tracker_server import TrackerServer, start_tracker_server
from tests.support.fixtures import ServerFactory
from tests.support.wait import wait_until
from tests.support.ws_client import StreamlitWsClient

DEADLINE_S = 20.0


class FakeSessionManager:
    """The shape of Streamlit's session manager that ``sessions.runtime`` reads."""

    def __init__(self) -> None:
        self._active_session_info_by_id: dict[str, Any] = {}

    def list_active_sessions(self) -> list[Any]:
        return list(self._active_session_info_by_id.values())

    def get_active_session_info(self, session_id: str) -> Any:
        return self._active_session_info_by_id.get(session_id)


def fake_handle(session_id: str, pages: dict[str, Any] | None = None, page: str = "") -> Any:
    """A record shaped like ``ActiveSessionInfo`` (one per connection)."""
    session = SimpleNamespace(
        id=session_id,
        page_script_hash=page,
        get_pages=lambda: dict(pages or {}),
        # What the tracker's callbacks run with (a real one reaches st.session_state).
        create_detached_script_run_ctx=lambda **_: SimpleNamespace(session_id=session_id),
    )
    return SimpleNamespace(session=session, client=SimpleNamespace(), script_run_count=0)


class FakeRuntime:
    """Stands in for Streamlit: sessions connect, run scripts, drop and close."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, listing: bool) -> None:
        self.manager = FakeSessionManager()
        self.listing = listing
        self.hooks: dict[str, adapter.ReleaseNotify] = {}
        self.armed: list[tuple[str, object]] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        monkeypatch.setattr(
            adapter, "_session_manager", lambda: self.manager if self.listing else None
        )
        monkeypatch.setattr(adapter, "current_context", self._current_context)
        monkeypatch.setattr(adapter, "callback_context", lambda session_id: None)
        monkeypatch.setattr(adapter, "arm_release_hook", self._arm)

    def _current_context(self) -> Any:
        session_id = getattr(self._local, "session_id", None)
        return None if session_id is None else SimpleNamespace(session_id=session_id)

    def _arm(self, session_id: str, notify: adapter.ReleaseNotify, context: Any = None) -> bool:
        if context is None and self._current_context() is None:
            return False
        with self._lock:
            self.hooks[session_id] = notify
            self.armed.append((session_id, context))
        return True

    def connect(self, session_id: str, **handle: Any) -> Any:
        """A browser connects (or reconnects: a new record for the same id)."""
        record = fake_handle(session_id, **handle)
        self.manager._active_session_info_by_id[session_id] = record
        return record

    def run(
        self, tracker: SessionCallbackManager, session_id: str, owner: str, **callbacks: Any
    ) -> str:
        """One script run of the session that calls ``register_session``."""
        if self.listing and session_id not in self.manager._active_session_info_by_id:
            self.connect(session_id)
        self._local.session_id = session_id
        try:
            return tracker.register_session(owner=owner, **callbacks)
        finally:
            self._local.session_id = None

    def close(self, session_id: str) -> None:
        """The tab closes: Streamlit drops the session from its map, then the hook fires."""
        self.manager._active_session_info_by_id.pop(session_id, None)
        with self._lock:
            notify = self.hooks.pop(session_id, None)
        if notify is not None:
            notify(session_id, time.monotonic())


def record_presence(tracker: SessionCallbackManager) -> list[bool]:
    """The presence flips of ``tracker``: True on first connected, False on last gone."""
    flips: list[bool] = []
    on_presence_change(
        tracker,
        on_first_connected=lambda: flips.append(True),
        on_last_disconnected=lambda: flips.append(False),
    )
    return flips


class Recorder:
    """A global listener that records (kind, session id, owner) for every event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()

    def listener(self, kind: str) -> Callable[[SessionInfo], None]:
        def record(info: SessionInfo) -> None:
            with self._lock:
                self.events.append((kind, info.session_id, info.owner))

        return record

    def attach(self, tracker: SessionCallbackManager) -> Callable[[], None]:
        return tracker.add_listener(
            on_start=self.listener("start"),
            on_end=self.listener("end"),
            on_disconnect=self.listener("disconnect"),
            on_resume=self.listener("resume"),
        )

    def of(self, kind: str, session_id: str | None = None) -> list[tuple[str, str, str | None]]:
        with self._lock:
            return [
                event
                for event in self.events
                if event[0] == kind and (session_id is None or event[1] == session_id)
            ]


TrackerFactory = Callable[..., SessionCallbackManager]


@pytest.fixture(autouse=True)
def quiet_tracker_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tracker logs tracebacks from its own thread; CPython 3.11 formats them with
    ast.parse, which is not thread-safe against pytest formatting a failure at the same
    moment ("AST constructor recursion depth mismatch"). These tests never read the log."""
    monkeypatch.setattr(logging.getLogger("sessions.tracker"), "disabled", True)


@pytest.fixture
def make_tracker() -> Iterator[TrackerFactory]:
    """Trackers that are stopped when the test ends (before its monkeypatches are undone)."""
    made: list[SessionCallbackManager] = []

    def make(heartbeat_interval_s: float = 0.05, grace_s: float = 0.0) -> SessionCallbackManager:
        tracker = SessionCallbackManager(heartbeat_interval_s=heartbeat_interval_s, grace_s=grace_s)
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.stop(timeout=5)


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    """No session list (AppTest, bare Python): registrations and end hooks only."""
    return FakeRuntime(monkeypatch, listing=False)


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    """A runtime whose sessions can be listed, as under ``streamlit run``."""
    return FakeRuntime(monkeypatch, listing=True)


class Gate:
    """A listener that blocks the tracker thread on one session's start until released.

    Listeners added after it run after it; whatever registers while the thread is held
    is emitted together, in the tracker's next batch.
    """

    def __init__(self, tracker: SessionCallbackManager) -> None:
        self.session_id = f"gate-{new_owner_token()}"
        self.entered = threading.Event()
        self._open = threading.Event()
        tracker.add_listener(on_start=self._block)

    def _block(self, info: SessionInfo) -> None:
        if info.session_id == self.session_id:
            self.entered.set()
            self._open.wait(DEADLINE_S)

    def hold(self, tracker: SessionCallbackManager, fake: FakeRuntime) -> None:
        fake.run(tracker, self.session_id, owner=new_owner_token())
        assert self.entered.wait(DEADLINE_S), "the tracker thread reached the gate"

    @property
    def released(self) -> bool:
        return self._open.is_set()

    def release(self) -> None:
        self._open.set()


# -- bugs ---------------------------------------------------------------------------------


def test_a_listener_is_not_called_after_its_remove_returned(
    make_tracker: TrackerFactory, bare: FakeRuntime
) -> None:
    """remove() returns while the tracker is emitting a batch: the removed listener still
    gets every remaining event of that batch (_emit reads _by_kind once per batch)."""
    tracker = make_tracker()
    gate = Gate(tracker)
    calls: list[str] = []
    remove = tracker.add_listener(on_start=lambda info: calls.append(info.session_id))
    done = threading.Event()
    tracker.add_listener(on_start=lambda info: done.set())
    gate.hold(tracker, bare)  # the thread is emitting [start gate], before `calls` ran

    remove()
    gate.release()
    assert done.wait(DEADLINE_S)
    assert calls == [], f"the removed listener was called after remove() returned: {calls}"


def test_no_callback_runs_after_stop_was_called(
    make_tracker: TrackerFactory, bare: FakeRuntime
) -> None:
    """stop() promises "no more callbacks"; the batch being emitted goes on regardless
    (here stop() is called by a callback, as an app shutting down on the last end might)."""
    tracker = make_tracker()
    gate = Gate(tracker)
    gate.hold(tracker, bare)
    calls: list[str] = []

    def stop_on_first(info: SessionInfo) -> None:
        calls.append(info.session_id)
        tracker.stop()

    tracker.add_listener(on_start=stop_on_first)
    bare.run(tracker, "a", owner=new_owner_token())
    bare.run(tracker, "b", owner=new_owner_token())
    gate.release()  # the next batch is [start a, start b]
    wait_until(lambda: calls, timeout=DEADLINE_S)
    tracker.stop(timeout=DEADLINE_S)  # joins the thread: the batch is over
    assert calls == ["a"], f"callbacks ran after stop(): {calls}"


def test_sessions_whose_callbacks_raise_leave_nothing_behind_when_they_end(
    make_tracker: TrackerFactory, bare: FakeRuntime
) -> None:
    """Each ended session whose on_session_end raised stays in the tracker's log-once set."""
    tracker = make_tracker()
    recorder = Recorder()
    recorder.attach(tracker)

    def explode() -> None:
        raise RuntimeError("on_session_end fails")

    ids = [f"raising-{n}" for n in range(50)]
    for session_id in ids:
        bare.run(tracker, session_id, owner=new_owner_token(), on_session_end=explode)
    for session_id in ids:
        bare.close(session_id)
    wait_until(lambda: len(recorder.of("end")) == len(ids), timeout=DEADLINE_S)
    assert tracker.stats().callback_errors == len(ids)
    assert tracker.live_session_count() == 0
    leftovers = [key for key in tracker._reported if isinstance(key, tuple) and key[1] in ids]
    assert leftovers == [], f"{len(leftovers)} ended sessions are still kept"


@pytest.mark.parametrize("interval", [1e10, math.inf])
def test_a_huge_heartbeat_interval_is_refused_or_works(
    make_tracker: TrackerFactory, bare: FakeRuntime, interval: float
) -> None:
    """ "Never beat" (inf, or 1e10 s, above threading.TIMEOUT_MAX): the thread's
    Condition.wait overflows and the thread dies silently; nothing is tracked after."""
    try:
        tracker = make_tracker(heartbeat_interval_s=interval)
    except ValueError:
        return  # refused up front: fine
    started = threading.Event()
    tracker.add_listener(on_start=lambda info: started.set())
    wait_until(lambda: tracker.stats().passes >= 1, timeout=DEADLINE_S)
    bare.run(tracker, "s", owner=new_owner_token())
    assert started.wait(3), "the tracker thread is dead: a registered session never started"


@pytest.mark.parametrize("kind", ["on_session_start", "on_heartbeat", "on_session_end"])
def test_register_session_refuses_callbacks_that_are_not_callable(
    make_tracker: TrackerFactory, bare: FakeRuntime, kind: str
) -> None:
    """add_listener raises TypeError at once; register_session takes anything and the
    mistake shows up later, on the tracker thread, as "a callback raised"."""
    tracker = make_tracker()
    with pytest.raises(TypeError, match=kind):
        bare.run(tracker, "s", owner=new_owner_token(), **{kind: "not a function"})


def test_one_unreadable_session_does_not_stop_tracking_the_others(
    make_tracker: TrackerFactory, listed: FakeRuntime
) -> None:
    """The adapter promises to degrade, not crash. A session whose page registry has
    another shape (``get_pages()`` values without ``.get``) raises AttributeError in
    ``runtime.page_name``, outside its try; ``_scan`` dies after draining the pending
    events, and dies again on every pass while that session stays connected."""
    tracker = make_tracker()
    recorder = Recorder()
    recorder.attach(tracker)
    listed.connect("odd", pages={"p1": SimpleNamespace(page_name="home")}, page="p1")
    listed.run(tracker, "fine", owner=new_owner_token())
    wait_until(lambda: tracker.stats().ticks >= 3, timeout=DEADLINE_S)
    assert recorder.of("start", "fine"), "the registered session's start was lost"
    listed.close("fine")
    wait_until(lambda: recorder.of("end", "fine"), timeout=5, message="its end")


def test_the_reaper_also_reaps_an_owner_a_session_left(
    make_tracker: TrackerFactory, bare: FakeRuntime
) -> None:
    """A session that re-registers under another owner (an app passing ``owner=`` once the
    user is known) leaves its first owner's tasks to nobody: the reaper only ever looks
    at the owner the session has when it ENDS."""
    tracker = make_tracker()
    cancelled: list[str] = []
    manager = SimpleNamespace(cancel_owner=lambda owner: cancelled.append(owner) or 1)
    reap_orphans(tracker, manager)
    recorder = Recorder()
    recorder.attach(tracker)
    before, after = new_owner_token(), new_owner_token()

    bare.run(tracker, "s", owner=before)
    bare.run(tracker, "s", owner=after)
    bare.close("s")
    wait_until(lambda: recorder.of("end", "s"), timeout=DEADLINE_S)
    assert after in cancelled
    assert before in cancelled, "the tasks of the session's first owner are never reaped"


def test_a_stopped_tracker_keeps_no_registrations(
    make_tracker: TrackerFactory, bare: FakeRuntime
) -> None:
    """After stop() nothing ever ends a session, so records and pending events taken then
    are kept for good (an app holding an old tracker after get_tracker.clear())."""
    tracker = make_tracker()
    tracker.stop()
    for n in range(20):
        try:
            bare.run(tracker, f"late-{n}", owner=new_owner_token())
        except RuntimeError:
            return  # refused with a clear error: fine
    assert tracker.live_session_count() == 0
    assert tracker._pending == []


def test_a_run_that_finishes_after_its_session_ended_does_not_start_it_again(
    make_tracker: TrackerFactory, listed: FakeRuntime
) -> None:
    """The tab closes while a script run is still going (Streamlit only asks it to stop), or
    a worker pushes a rerun to a disconnected session; the run reaches register_session
    after the session ENDED. register_session makes a fresh CONNECTED record for a session
    whose browser is gone: a second start (own on_session_start again), and a second end on
    the next pass. Presence flips on and off for nobody (a GPU service started for nothing)."""
    tracker = make_tracker(heartbeat_interval_s=0.02, grace_s=0.0)
    recorder = Recorder()
    recorder.attach(tracker)
    flips = record_presence(tracker)
    own_starts: list[str] = []
    listed.connect("s")
    wait_until(lambda: recorder.of("start", "s"), timeout=DEADLINE_S)  # seen by a tick
    listed.close("s")
    wait_until(lambda: recorder.of("end", "s"), timeout=DEADLINE_S)
    assert flips == [True, False]

    # The late run: the session is no longer in the runtime's active map.
    listed._local.session_id = "s"
    try:
        tracker.register_session(
            owner=new_owner_token(), on_session_start=lambda: own_starts.append("s")
        )
    finally:
        listed._local.session_id = None
    ticks = tracker.stats().ticks
    wait_until(lambda: tracker.stats().ticks >= ticks + 5, timeout=DEADLINE_S)
    assert len(recorder.of("start", "s")) == 1, recorder.events
    assert len(recorder.of("end", "s")) == 1, recorder.events
    assert flips == [True, False]
    assert own_starts == [], "on_session_start ran for a session that had ended"


# -- gaps: behaviour that holds, and had no test --------------------------------------------


def test_callbacks_raising_streamlit_control_flow_or_exit_stop_nothing(
    make_tracker: TrackerFactory, bare: FakeRuntime
) -> None:
    """st.stop() / st.rerun() inside a callback raise BaseException subclasses; so do
    SystemExit and KeyboardInterrupt. None of them may end the tracker thread."""
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

    tracker = make_tracker()
    raised = [StopException(), RerunException(None), SystemExit(3), KeyboardInterrupt()]

    def raiser(error: BaseException) -> Callable[..., None]:
        def fn(*_: object) -> None:
            raise error

        return fn

    for error in raised:
        tracker.add_listener(on_start=raiser(error), on_end=raiser(error))
    recorder = Recorder()
    recorder.attach(tracker)
    for n, error in enumerate(raised):
        bare.run(
            tracker,
            f"s{n}",
            owner=new_owner_token(),
            on_session_start=raiser(error),
            on_session_end=raiser(error),
        )
    for n in range(len(raised)):
        bare.close(f"s{n}")
    wait_until(lambda: len(recorder.of("end")) == len(raised), timeout=DEADLINE_S)
    assert [event[1] for event in recorder.of("start")] == [f"s{n}" for n in range(len(raised))]
    # Every session: own start + own end, and 4 start + 4 end listeners.
    assert tracker.stats().callback_errors == len(raised) * (2 + 2 * len(raised))
    assert tracker._thread.is_alive()
    bare.run(tracker, "after", owner=new_owner_token())
    wait_until(lambda: recorder.of("start", "after"), timeout=DEADLINE_S)


def test_a_blip_inside_the_grace_window_resumes_and_a_close_ends_once(
    make_tracker: TrackerFactory, listed: FakeRuntime
) -> None:
    """Listing mode: the connection record is replaced (Streamlit resumes the same id);
    the session goes DISCONNECTED, then CONNECTED, never ENDED, and its hook is re-armed
    from the tracker thread with the session's context."""
    tracker = make_tracker(heartbeat_interval_s=0.05, grace_s=30.0)
    recorder = Recorder()
    recorder.attach(tracker)
    cancelled: list[str] = []
    reap_orphans(tracker, SimpleNamespace(cancel_owner=lambda owner: cancelled.append(owner)))
    owner = new_owner_token()
    listed.run(tracker, "s", owner=owner)
    wait_until(lambda: recorder.of("start", "s"), timeout=DEADLINE_S)

    listed.close("s")
    wait_until(lambda: recorder.of("disconnect", "s"), timeout=DEADLINE_S)
    armed_before = len(listed.armed)
    listed.connect("s")  # the browser comes back to the same session id
    wait_until(lambda: recorder.of("resume", "s"), timeout=DEADLINE_S)
    wait_until(lambda: len(listed.armed) > armed_before, timeout=DEADLINE_S)
    assert listed.armed[-1][0] == "s" and listed.armed[-1][1] is not None
    info = tracker.get_session("s")
    assert info is not None and info.state.name == "CONNECTED" and info.owner == owner
    assert recorder.of("end", "s") == [] and cancelled == []
    assert len(recorder.of("start", "s")) == 1


def test_a_release_on_the_same_connection_is_not_a_disconnect(
    make_tracker: TrackerFactory, listed: FakeRuntime
) -> None:
    """st.cache_resource.clear() releases every session's hook while every browser stays:
    no disconnect, and the hook is armed again."""
    tracker = make_tracker(heartbeat_interval_s=0.05, grace_s=0.0)
    recorder = Recorder()
    recorder.attach(tracker)
    listed.run(tracker, "s", owner=new_owner_token())
    wait_until(lambda: recorder.of("start", "s"), timeout=DEADLINE_S)
    notify = listed.hooks.pop("s")
    armed_before = len(listed.armed)

    notify("s", time.monotonic())  # released, yet still in the active map
    wait_until(lambda: len(listed.armed) > armed_before, timeout=DEADLINE_S)
    ticks = tracker.stats().ticks
    wait_until(lambda: tracker.stats().ticks >= ticks + 3, timeout=DEADLINE_S)
    assert recorder.of("disconnect", "s") == [] and recorder.of("end", "s") == []
    listed.close("s")  # the re-armed hook reports the real close
    wait_until(lambda: recorder.of("end", "s"), timeout=DEADLINE_S)


def test_reload_and_second_tab_keep_the_owners_tasks_until_its_last_session_ends(
    make_tracker: TrackerFactory, listed: FakeRuntime
) -> None:
    tracker = make_tracker(heartbeat_interval_s=0.05, grace_s=0.0)
    recorder = Recorder()
    recorder.attach(tracker)
    cancelled: list[str] = []
    reap_orphans(tracker, SimpleNamespace(cancel_owner=lambda owner: cancelled.append(owner)))
    owner = new_owner_token()

    # Two tabs of one owner (a duplicated tab); one closes.
    listed.run(tracker, "tab1", owner=owner)
    listed.run(tracker, "tab2", owner=owner)
    listed.close("tab1")
    wait_until(lambda: recorder.of("end", "tab1"), timeout=DEADLINE_S)
    assert cancelled == []
    # tab2 reloads: its new session registers before the old one ends.
    listed.run(tracker, "tab2-reloaded", owner=owner)
    listed.close("tab2")
    wait_until(lambda: recorder.of("end", "tab2"), timeout=DEADLINE_S)
    assert cancelled == []
    # The last session of the owner closes: its tasks go, once.
    listed.close("tab2-reloaded")
    wait_until(lambda: recorder.of("end", "tab2-reloaded"), timeout=DEADLINE_S)
    assert cancelled == [owner]


def test_concurrent_runs_and_closes_give_one_start_and_one_end_each(
    make_tracker: TrackerFactory, listed: FakeRuntime
) -> None:
    """Script threads register (and re-register) while others close and the tracker lists:
    each session starts once and ends once, presence ends up False, and nothing is kept."""
    # Grace long enough that a blip below is always seen as one, however busy the machine.
    tracker = make_tracker(heartbeat_interval_s=0.005, grace_s=1.0)
    recorder = Recorder()
    recorder.attach(tracker)
    flips = record_presence(tracker)
    own: dict[str, list[str]] = {}
    own_lock = threading.Lock()

    def own_callback(kind: str, session_id: str) -> Callable[[], None]:
        def call() -> None:
            with own_lock:
                own.setdefault(session_id, []).append(kind)

        return call

    threads_n, per_thread = 6, 40
    errors: list[BaseException] = []

    def churn(worker: int) -> None:
        try:
            for n in range(per_thread):
                session_id = f"w{worker}-{n}"
                owner = new_owner_token()
                for _ in range(2):  # a rerun registers again
                    listed.run(
                        tracker,
                        session_id,
                        owner=owner,
                        on_session_start=own_callback("start", session_id),
                        on_session_end=own_callback("end", session_id),
                    )
                if n % 3 == 0:  # sometimes a blip first
                    listed.close(session_id)
                    listed.connect(session_id)
                listed.close(session_id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=churn, args=(n,)) for n in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(DEADLINE_S)
    assert not errors, errors
    total = threads_n * per_thread
    wait_until(lambda: len(recorder.of("end")) >= total, timeout=DEADLINE_S)
    wait_until(lambda: tracker.live_session_count() == 0, timeout=DEADLINE_S)
    ticks = tracker.stats().ticks
    wait_until(lambda: tracker.stats().ticks >= ticks + 3, timeout=DEADLINE_S)

    starts = [event[1] for event in recorder.of("start")]
    ends = [event[1] for event in recorder.of("end")]
    assert len(starts) == len(set(starts)) == total, "a session started twice"
    assert len(ends) == len(set(ends)) == total, "a session ended twice"
    assert all(calls == ["start", "end"] for calls in own.values()), "own callbacks out of order"
    assert len(own) == total
    assert flips and flips[-1] is False
    assert all(a != b for a, b in itertools.pairwise(flips)), flips
    assert tracker._owners == {} and tracker._beat_callbacks == {} and tracker._keys == {}


def test_stop_returns_within_its_timeout_while_a_callback_is_stuck(
    make_tracker: TrackerFactory, bare: FakeRuntime
) -> None:
    tracker = make_tracker()
    gate = Gate(tracker)
    gate.hold(tracker, bare)
    try:
        stopper = threading.Thread(target=tracker.stop, kwargs={"timeout": 0.5}, daemon=True)
        stopper.start()
        stopper.join(DEADLINE_S)
        assert not stopper.is_alive(), "stop() waited for the stuck callback"
        assert not gate.released, "the callback was still stuck when stop() returned"
        assert tracker.stopped
    finally:
        gate.release()
    wait_until(lambda: not tracker._thread.is_alive(), timeout=DEADLINE_S)


# -- against a real server ------------------------------------------------------------------

SERVER_GRACE_S = 1.0
SERVER_HEARTBEAT_S = 2.0  # long, so that what the end hook does shows apart from the ticks


@pytest.fixture(scope="module")
def tracked(
    streamlit_server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> TrackerServer:
    return start_tracker_server(
        streamlit_server_factory,
        tmp_path_factory.mktemp("review"),
        grace_s=SERVER_GRACE_S,
        heartbeat_s=SERVER_HEARTBEAT_S,
    )


@pytest.mark.server
def test_a_connected_tab_keeps_its_tasks_when_another_tab_of_its_owner_ends(
    tracked: TrackerServer,
) -> None:
    """Tab B of an owner is away longer than the grace window (a laptop lid, ~1 min with the
    default 30 s) and comes back inside disconnectedSessionTTL: Streamlit resumes the same
    session, the tracker starts it anew with owner None, and the idle frontend does not rerun
    (it reruns on reconnect only when a run or run_every fragment was going). When the
    owner's other tab A ends, the reaper sees no live session of the owner and cancels the
    job that the connected tab B shows."""
    owner = new_owner_token()
    with StreamlitWsClient(tracked.server.ws_url) as client:
        tab_a = client.open(f"owner={owner}&job=1")
        tab_b = client.open(f"owner={owner}")
        assert tab_a.session_id and tab_b.session_id
        tracked.events.wait_for("task", owner=owner, status="IN_PROGRESS")
        tracked.events.wait_for("registered", sid=tab_b.session_id)

        tab_b.drop()
        tracked.ended(tab_b.session_id)  # past its grace window: ENDED; A keeps the job
        tab_b.resume()  # Streamlit still holds the session: the same id comes back
        restarted = tracked.events.wait_for("start", count=2, sid=tab_b.session_id)[1]
        assert restarted["owner"] is None

        tab_a.close()
        tracked.ended(tab_a.session_id)
        info = tracked.events.events("task", owner=owner)
        assert [t["status"] for t in info if t["status"] in ("CANCELLING", "CANCELLED")] == [], (
            "the reaper cancelled the job of an owner whose tab B is connected"
        )
        tab_b.close()
        tracked.events.wait_for("end", count=2, sid=tab_b.session_id)


@pytest.mark.server
def test_after_a_resume_the_end_hook_is_armed_again(tracked: TrackerServer) -> None:
    """Streamlit clears session caches on every disconnect; the tracker re-arms the hook from
    its own thread once it sees the resume. A close after that is noticed by the hook (ms),
    not by the next tick (up to SERVER_HEARTBEAT_S later): a tick would date the disconnect at
    its own time, which is the heartbeat time of the session kept open beside it."""
    with StreamlitWsClient(tracked.server.ws_url) as client:
        keeper = client.open()
        session = client.open()
        assert session.session_id and keeper.session_id
        tracked.events.wait_for("start", sid=session.session_id)
        session.drop()
        tracked.events.wait_for("disconnect", sid=session.session_id)
        session.resume()
        # The pass that sees the resume re-arms the hook before it emits "resume".
        tracked.events.wait_for("resume", sid=session.session_id)

        session.close()
        second = tracked.events.wait_for("disconnect", count=2, sid=session.session_id)[1]
        # The tick after the disconnect was logged (its heartbeats come after it).
        tracked.events.wait_for(
            "heartbeat", sid=keeper.session_id, where=lambda beat: beat["t"] > second["t"]
        )
        tick_times = {beat["last_heartbeat"] for beat in tracked.events.events("heartbeat")}
        assert second["disconnected_at"] not in tick_times, "seen by a tick, not by the end hook"
        tracked.ended(session.session_id)
        assert len(tracked.events.events("end", sid=session.session_id)) == 1
        keeper.close()
