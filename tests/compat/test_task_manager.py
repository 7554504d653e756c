"""Differential scenarios for AsyncTaskManager: octostar 0.9.16 against taskmgr.compat.

Each test runs on both (the ``impl`` fixture). Where docs/compat.md lists a
difference, the test asserts what octostar does and what ours does instead.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from tests.compat.conftest import WAIT_S, WATCH_S, Impl, run_bounded
from tests.support.server import REPO_ROOT
from tests.support.wait import wait_until


def status(manager: Any, task_id: str) -> str:
    return str(manager.get_result(task_id)["status"].name)


def wait_status(manager: Any, task_id: str, name: str) -> dict[str, Any]:
    wait_until(
        lambda: status(manager, task_id) == name,
        timeout=WAIT_S,
        message=lambda: f"{task_id} to be {name}; it is {manager.get_result(task_id)}",
    )
    result: dict[str, Any] = manager.get_result(task_id)
    return result


def finished(manager: Any, task_id: str) -> dict[str, Any]:
    """Join with a deadline (octostar's join has none) and return the result."""
    joined = run_bounded(lambda: manager.join(task_id), WAIT_S)
    assert joined.done, f"join({task_id!r}) did not return: {manager.get_result(task_id)}"
    assert joined.value is None
    result: dict[str, Any] = manager.get_result(task_id)
    return result


def submit(manager: Any, task_id: str, fn: Any, kwargs: dict[str, Any] | None = None) -> None:
    """Submit ``fn``, and let it start only once submit returned.

    octostar queues a task before it writes INIT: a task that ends in between has
    its final status overwritten by INIT for good (docs/compat.md).
    """
    submitted = threading.Event()

    def gated(task_data: Any, **kwargs: Any) -> Any:
        submitted.wait(WAIT_S)
        return fn(task_data, **kwargs)

    assert manager.submit(task_id, gated, kwargs or {}) is True
    submitted.set()


def blocker(impl: Impl, manager: Any, task_id: str = "blocker") -> threading.Event:
    """Occupy one worker until the returned event is set."""
    go = impl.event()
    started = threading.Event()

    def hold(task_data: Any) -> str:
        started.set()
        go.wait(WAIT_S)
        return "held"

    submit(manager, task_id, hold)
    assert started.wait(WAIT_S)
    return go


def unblock_octostar(impl: Impl, manager: Any, task_id: str) -> None:
    """octostar's join polls until final: writing a final status ends that poll."""
    if not impl.ours:
        manager.output(task_id, impl.cls.TaskStatus.CANCELLED, None)


# -- the same on both ---------------------------------------------------------------------


def test_submit_returns_true_and_results_are_plain_dicts(impl: Impl) -> None:
    manager = impl.make()
    go = impl.event()
    assert manager.submit("a", lambda task_data: go.wait(WAIT_S)) is True
    result = manager.get_result("a")
    assert type(result) is dict
    assert set(result) == {"id", "status", "data"}
    assert result["id"] == "a"
    assert result["status"].name in ("INIT", "IN_PROGRESS")
    assert result["data"] is None


def test_a_task_that_returns_ends_success_with_its_value(impl: Impl) -> None:
    manager = impl.make()
    submit(manager, "a", lambda task_data, x: x * 2, {"x": 21})
    result = finished(manager, "a")
    assert result["status"] is impl.cls.TaskStatus.SUCCESS
    assert result["data"] == 42


def test_submit_takes_task_and_kwargs_by_keyword(impl: Impl) -> None:
    manager = impl.make(1)
    go = blocker(impl, manager)  # queued behind it: it cannot end before submit returned
    assert manager.submit(task_id="k", task=lambda task_data, x: x + 1, kwargs={"x": 1})
    go.set()
    assert finished(manager, "k")["data"] == 2


def test_the_task_gets_its_id_and_a_cancel_event(impl: Impl) -> None:
    manager = impl.make()
    submit(manager, "t", lambda td: (td.task_id, type(td.cancel_event), td.cancel_event.is_set()))
    assert finished(manager, "t")["data"] == ("t", threading.Event, False)


def test_partial_output_is_visible_while_the_task_runs(impl: Impl) -> None:
    manager = impl.make()
    go = impl.event()

    def steps(task_data: Any) -> str:
        task_data.output(impl.cls.TaskStatus.IN_PROGRESS, {"step": 1})
        go.wait(WAIT_S)
        return "done"

    submit(manager, "s", steps)
    wait_until(lambda: manager.get_result("s")["data"] == {"step": 1}, timeout=WAIT_S)
    assert status(manager, "s") == "IN_PROGRESS"
    go.set()
    assert finished(manager, "s")["data"] == "done"


def test_output_of_none_clears_the_partial_data(impl: Impl) -> None:
    manager = impl.make()
    go, cleared = impl.event(), impl.event()

    def steps(task_data: Any) -> None:
        task_data.output(impl.cls.TaskStatus.IN_PROGRESS, {"step": 1})
        task_data.output(impl.cls.TaskStatus.IN_PROGRESS, None)
        cleared.set()
        go.wait(WAIT_S)

    submit(manager, "s", steps)
    assert cleared.wait(WAIT_S)
    assert manager.get_result("s") == {
        "id": "s",
        "status": impl.cls.TaskStatus.IN_PROGRESS,
        "data": None,
    }


def test_a_raising_task_ends_error_with_the_exception(impl: Impl) -> None:
    manager = impl.make()
    error = ValueError("bad input")

    def fail(task_data: Any) -> None:
        raise error

    submit(manager, "e", fail)
    result = finished(manager, "e")
    assert result["status"].name == "ERROR"
    assert result["data"] is error


def test_system_exit_in_a_task_ends_error(impl: Impl) -> None:
    manager = impl.make()

    def leave(task_data: Any) -> None:
        raise SystemExit(3)

    submit(manager, "x", leave)
    result = finished(manager, "x")
    assert result["status"].name == "ERROR"
    assert isinstance(result["data"], SystemExit)


def test_cancel_of_a_running_task_ends_cancelled_with_its_last_data(impl: Impl) -> None:
    manager = impl.make()
    started, go = impl.event(), impl.event()

    def steps(task_data: Any) -> None:
        task_data.output(impl.cls.TaskStatus.IN_PROGRESS, "half")
        started.set()
        go.wait(WAIT_S)
        task_data.output(impl.cls.TaskStatus.IN_PROGRESS, "never shown")

    submit(manager, "c", steps)
    assert started.wait(WAIT_S)
    assert manager.cancel("c") is True
    assert manager.get_result("c") == {
        "id": "c",
        "status": impl.cls.TaskStatus.CANCELLING,
        "data": "half",
    }
    go.set()
    result = finished(manager, "c")
    assert result["status"].name == "CANCELLED"
    assert result["data"] == "half"


def test_a_second_cancel_returns_false(impl: Impl) -> None:
    manager = impl.make()
    started = impl.event()

    def wait_cancel(task_data: Any) -> None:
        started.set()
        task_data.cancel_event.wait(WAIT_S)
        task_data.output(None, None)

    submit(manager, "c", wait_cancel)
    assert started.wait(WAIT_S)
    assert manager.cancel("c") is True
    assert manager.cancel("c") is False
    assert finished(manager, "c")["status"].name == "CANCELLED"


def test_a_task_that_returns_a_value_after_its_cancel_ends_success(impl: Impl) -> None:
    manager = impl.make()
    started = impl.event()

    def early_return(task_data: Any) -> str:
        started.set()
        task_data.cancel_event.wait(WAIT_S)
        return "partial answer"

    submit(manager, "r", early_return)
    assert started.wait(WAIT_S)
    assert manager.cancel("r")
    result = finished(manager, "r")
    assert result["status"].name == "SUCCESS"
    assert result["data"] == "partial answer"


def test_except_exception_around_output_swallows_the_cancel(impl: Impl) -> None:
    manager = impl.make()
    started = impl.event()
    assert issubclass(impl.cls.CancelledError, Exception)

    def careless(task_data: Any) -> str:
        started.set()
        task_data.cancel_event.wait(WAIT_S)
        try:
            task_data.output(None, "more")
        except Exception as exc:
            return type(exc).__name__
        return "not raised"

    submit(manager, "w", careless)
    assert started.wait(WAIT_S)
    manager.cancel("w")
    result = finished(manager, "w")
    assert (result["status"].name, result["data"]) == ("SUCCESS", "CancelledError")


def test_an_error_raised_after_the_cancel_ends_error(impl: Impl) -> None:
    manager = impl.make()
    started = impl.event()

    def fail_on_cancel(task_data: Any) -> None:
        started.set()
        task_data.cancel_event.wait(WAIT_S)
        raise RuntimeError("cleanup failed")

    submit(manager, "f", fail_on_cancel)
    assert started.wait(WAIT_S)
    manager.cancel("f")
    result = finished(manager, "f")
    assert result["status"].name == "ERROR"
    assert str(result["data"]) == "cleanup failed"


def test_a_task_raising_cancelled_error_on_its_own_ends_cancelled(impl: Impl) -> None:
    manager = impl.make()

    def give_up(task_data: Any) -> None:
        task_data.output(None, "some")
        raise impl.cls.CancelledError()

    submit(manager, "g", give_up)
    result = finished(manager, "g")
    assert (result["status"].name, result["data"]) == ("CANCELLED", "some")


def test_cancel_of_an_unknown_or_finished_id_returns_false(impl: Impl) -> None:
    manager = impl.make()
    assert manager.cancel("nobody") is False
    submit(manager, "done", lambda task_data: 1)
    finished(manager, "done")
    assert manager.cancel("done") is False
    assert status(manager, "done") == "SUCCESS"


def test_unknown_ids_raise_key_error_and_join_returns_at_once(impl: Impl) -> None:
    manager = impl.make()
    with pytest.raises(KeyError):
        manager.get_result("nobody")
    joined = run_bounded(lambda: manager.join("nobody"), WAIT_S)
    assert joined.done and joined.value is None and joined.error is None


def test_resubmitting_a_finished_id_runs_the_new_task(impl: Impl) -> None:
    manager = impl.make()
    submit(manager, "a", lambda task_data: "first")
    assert finished(manager, "a")["data"] == "first"
    submit(manager, "a", lambda task_data: "second")
    assert finished(manager, "a")["data"] == "second"


def test_tasks_start_in_submission_order(impl: Impl) -> None:
    manager = impl.make(1)
    go = blocker(impl, manager)
    order: list[int] = []
    for n in range(6):
        submit(manager, f"t{n}", lambda task_data, n: order.append(n), {"n": n})
    assert all(status(manager, f"t{n}") == "INIT" for n in range(6))
    go.set()
    finished(manager, "t5")
    assert order == list(range(6))


def test_more_than_a_hundred_queued_tasks_are_accepted(impl: Impl) -> None:
    manager = impl.make(1)
    go = blocker(impl, manager)
    for n in range(150):
        submit(manager, f"q{n}", lambda task_data: None)
    go.set()
    assert finished(manager, "q149")["status"].name == "SUCCESS"


def test_max_workers_caps_how_many_tasks_run_at_once(impl: Impl) -> None:
    assert impl.cls.max_workers == 10
    manager = impl.make(3)
    assert manager.max_workers == 3
    go = impl.event()
    running = threading.Semaphore(0)

    def hold(task_data: Any) -> None:
        running.release()
        go.wait(WAIT_S)

    for n in range(4):
        submit(manager, f"h{n}", hold)
    for _ in range(3):
        assert running.acquire(timeout=WAIT_S)
    assert [status(manager, f"h{n}") for n in range(4)] == ["IN_PROGRESS"] * 3 + ["INIT"]


def test_get_handler_honours_the_max_workers_class_attribute(
    impl: Impl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(impl.cls, "max_workers", 3)
    handler = impl.cls.get_handler(f"compat-{impl.name}-workers")
    impl.managers.append(handler)
    assert handler.max_workers == 3
    assert impl.cls.get_handler(f"compat-{impl.name}-workers") is handler
    other = impl.cls.get_handler(f"compat-{impl.name}-other")
    impl.managers.append(other)
    assert other is not handler


def test_task_data_is_constructible_and_checks_its_cancel_event(impl: Impl) -> None:
    calls: list[tuple[Any, ...]] = []
    cancel = threading.Event()
    task_data = impl.cls.TaskData(lambda *args: calls.append(args), "t", cancel)
    assert (task_data.task_id, task_data.cancel_event) == ("t", cancel)
    task_data.output("any status", {"n": 1})
    assert calls == [("t", "any status", {"n": 1})]
    cancel.set()
    with pytest.raises(impl.cls.CancelledError):
        task_data.output(None, 2)
    assert len(calls) == 1


def test_results_queue_holds_the_results(impl: Impl) -> None:
    manager = impl.make()
    submit(manager, "a", lambda task_data: "value")
    finished(manager, "a")
    assert manager.results_queue.get_nowait("a") == manager.get_result("a")
    assert manager.results_queue.list_keys() == ["a"]
    assert not manager.results_queue.is_empty()


def test_join_all_finishes_queued_tasks_then_stops_the_workers(impl: Impl) -> None:
    manager = impl.make(1)
    go = blocker(impl, manager)
    threads: list[threading.Thread] = []
    for n in range(3):
        submit(manager, f"j{n}", lambda task_data: threads.append(threading.current_thread()))
    go.set()
    joined = run_bounded(manager.join_all, WAIT_S)
    assert joined.done and joined.error is None
    assert [status(manager, f"j{n}") for n in range(3)] == ["SUCCESS"] * 3
    assert threads
    wait_until(lambda: not any(t.is_alive() for t in threads), timeout=WAIT_S)


# -- documented differences: octostar's behaviour, and ours -------------------------------


def test_status_names_and_values(impl: Impl) -> None:
    members = {member.name: member.value for member in impl.cls.TaskStatus}
    octostar = {
        "INIT": 0,
        "IN_PROGRESS": 1,
        "CANCELLING": 2,
        "SUCCESS": 10,
        "ERROR": 11,
        "CANCELLED": 12,
    }
    # Ours has one more: INTERRUPTED (13), a task whose process died.
    assert members == ({**octostar, "INTERRUPTED": 13} if impl.ours else octostar)


def test_cancel_of_a_queued_task(impl: Impl) -> None:
    manager = impl.make(1)
    go = blocker(impl, manager)
    ran = threading.Event()
    submit(manager, "q", lambda task_data: ran.set())
    assert manager.cancel("q") is True
    if impl.ours:
        assert status(manager, "q") == "CANCELLED"
        assert run_bounded(lambda: manager.join("q"), WAIT_S).done
    else:  # never final: its join waits for ever
        assert status(manager, "q") == "CANCELLING"
        assert not run_bounded(lambda: manager.join("q"), WATCH_S).done
        unblock_octostar(impl, manager, "q")
    go.set()
    finished(manager, "blocker")
    assert not ran.is_set()


def test_resubmitting_after_a_queued_cancel(impl: Impl) -> None:
    manager = impl.make(1)
    go = blocker(impl, manager)
    submit(manager, "q", lambda task_data: "first")
    manager.cancel("q")
    resubmit = run_bounded(lambda: manager.submit("q", lambda task_data: "second"), WATCH_S)
    if impl.ours:
        assert resubmit.done and resubmit.value is True
        go.set()
        assert finished(manager, "q")["data"] == "second"
    else:  # the script thread that resubmits is blocked for ever
        assert not resubmit.done
        unblock_octostar(impl, manager, "q")
        assert resubmit.finished.wait(WAIT_S)


def test_resubmitting_a_running_id_starts_the_new_task_after_the_old_returned(
    impl: Impl,
) -> None:
    manager = impl.make(2)
    started, go, resubmitted = impl.event(), impl.event(), impl.event()
    order: list[str] = []

    def old(task_data: Any) -> str:
        started.set()
        go.wait(WAIT_S)  # ignores its cancel for a while
        order.append("old returned")
        return "old"

    def new(task_data: Any) -> str:
        order.append("new started")
        resubmitted.wait(WAIT_S)  # octostar writes INIT after queuing: end after that
        return "new"

    submit(manager, "r", old)
    assert started.wait(WAIT_S)
    resubmit = run_bounded(lambda: manager.submit("r", new), WATCH_S)
    if impl.ours:  # returns at once; the id shows the new task, queued
        assert resubmit.done and resubmit.value is True
        assert manager.get_result("r") == {
            "id": "r",
            "status": impl.cls.TaskStatus.INIT,
            "data": None,
        }
    else:  # the caller waits for the old task; the id shows it CANCELLING meanwhile
        assert not resubmit.done
        assert status(manager, "r") == "CANCELLING"
    assert order == []
    go.set()
    assert resubmit.finished.wait(WAIT_S)
    resubmitted.set()
    assert finished(manager, "r")["data"] == "new"
    assert order == ["old returned", "new started"]


def test_cancel_all_cancels_running_and_queued_tasks(impl: Impl) -> None:
    manager = impl.make(1)
    started = impl.event()

    def wait_cancel(task_data: Any) -> None:
        started.set()
        task_data.cancel_event.wait(WAIT_S)
        task_data.output(None, None)

    submit(manager, "running", wait_cancel)
    assert started.wait(WAIT_S)
    submit(manager, "queued", lambda task_data: None)
    assert manager.cancel_all() is None
    assert finished(manager, "running")["status"].name == "CANCELLED"
    if impl.ours:
        assert finished(manager, "queued")["status"].name == "CANCELLED"
    else:  # a queued task it cancels never ends
        assert status(manager, "queued") == "CANCELLING"
        unblock_octostar(impl, manager, "queued")


def test_submit_after_join_all(impl: Impl) -> None:
    manager = impl.make(1)
    manager.join_all()
    if impl.ours:  # refused with a clear error
        with pytest.raises(RuntimeError, match="join_all"):
            manager.submit("late", lambda task_data: 1)
    else:  # accepted, never run
        assert manager.submit("late", lambda task_data: 1) is True
        assert not run_bounded(lambda: manager.join("late"), WATCH_S).done
        assert status(manager, "late") == "INIT"
        unblock_octostar(impl, manager, "late")


def test_get_handler_after_join_all(impl: Impl) -> None:
    task_type = f"compat-{impl.name}-stopped"
    handler = impl.cls.get_handler(task_type)
    impl.managers.append(handler)
    handler.join_all()
    again = impl.cls.get_handler(task_type)
    impl.managers.append(again)
    # Ours replaces a stopped handler; octostar hands out the stopped one.
    assert (again is not handler) if impl.ours else (again is handler)


def test_finished_results_expire(impl: Impl) -> None:
    manager = impl.make(1, result_ttl_s=0.2) if impl.ours else impl.make(1)
    submit(manager, "a", lambda task_data: 1)
    finished(manager, "a")
    if impl.ours:  # kept result_ttl_s (default one hour), at most max_results of them
        wait_until(lambda: "a" not in manager.results_queue.list_keys(), timeout=WAIT_S)
        with pytest.raises(KeyError):
            manager.get_result("a")
    else:  # kept for ever
        assert manager.results_queue.list_keys() == ["a"]


def test_a_late_output_does_not_overwrite_a_final_status(impl: Impl) -> None:
    manager = impl.make()
    submit(manager, "a", lambda task_data: "value")
    finished(manager, "a")
    manager.output("a", impl.cls.TaskStatus.IN_PROGRESS, "late")
    if impl.ours:
        assert manager.get_result("a")["data"] == "value"
        assert status(manager, "a") == "SUCCESS"
    else:  # the final status is lost: a join from now on waits for ever
        assert status(manager, "a") == "IN_PROGRESS"
        unblock_octostar(impl, manager, "a")


def test_a_final_status_passed_to_output_while_running(impl: Impl) -> None:
    manager = impl.make()
    said, go = impl.event(), impl.event()

    def premature(task_data: Any) -> str:
        task_data.output(impl.cls.TaskStatus.SUCCESS, "half")
        said.set()
        go.wait(WAIT_S)
        return "whole"

    submit(manager, "p", premature)
    assert said.wait(WAIT_S)
    # octostar shows what the task said; ours: a task is final only once it has ended.
    assert manager.get_result("p") == {
        "id": "p",
        "status": impl.cls.TaskStatus["IN_PROGRESS" if impl.ours else "SUCCESS"],
        "data": "half",
    }
    joined = run_bounded(lambda: manager.join("p"), WATCH_S)
    assert joined.done is not impl.ours  # octostar's join returns while the task still runs
    go.set()
    assert joined.finished.wait(WAIT_S)
    wait_until(lambda: manager.get_result("p")["data"] == "whole", timeout=WAIT_S)
    assert status(manager, "p") == "SUCCESS"


def test_a_task_that_is_not_callable(impl: Impl) -> None:
    manager = impl.make(1)
    go = blocker(impl, manager)
    if impl.ours:  # refused at once, naming the problem
        with pytest.raises(TypeError, match="must be callable"):
            manager.submit("n", "not a function")
    else:  # accepted; the task ends ERROR
        assert manager.submit("n", "not a function") is True
        go.set()
        result = finished(manager, "n")
        assert result["status"].name == "ERROR"
        assert isinstance(result["data"], TypeError)


EXIT_SCRIPT = """
import sys
from {module} import AsyncTaskManager
manager = AsyncTaskManager(2)
manager.submit("a", lambda task_data: 1)
manager.join("a")
print("done", flush=True)
"""


def test_an_unstopped_manager_keeps_the_process_alive(impl: Impl) -> None:
    module = (
        "taskmgr.compat" if impl.ours else "streamlit_octostar_utils.threading.async_task_manager"
    )
    script = textwrap.dedent(EXIT_SCRIPT.format(module=module))
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "done"
        try:
            code: int | None = process.wait(WAIT_S if impl.ours else 3 * WATCH_S)
        except subprocess.TimeoutExpired:
            code = None
        # octostar's workers are non-daemon threads that never stop; ours let it exit.
        assert (code == 0) if impl.ours else (code is None)
    finally:
        process.kill()
        process.wait(WAIT_S)
