"""Where tasks run: worker threads for plain functions, an event loop for coroutines."""

from taskmgr.runners.asyncio import AsyncioRunner
from taskmgr.runners.protocol import CancelWork, CoroutineRunner, CoroutineWork, TaskRunner
from taskmgr.runners.threads import ThreadPoolRunner

__all__ = [
    "AsyncioRunner",
    "CancelWork",
    "CoroutineRunner",
    "CoroutineWork",
    "TaskRunner",
    "ThreadPoolRunner",
]
