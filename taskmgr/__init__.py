"""A fair, bounded background task manager for multi-user Streamlit servers."""

from taskmgr.change_feed import ChangeFeed
from taskmgr.context import TaskContext
from taskmgr.errors import ManagerClosed, QueueFull, TaskCancelled, UnknownTask
from taskmgr.manager import AsyncTaskManager
from taskmgr.runners import AsyncioRunner, CoroutineRunner, TaskRunner, ThreadPoolRunner
from taskmgr.snapshot import LoopHealth, ManagerStats, OwnerStats, TaskSnapshot
from taskmgr.status import TaskStatus


def get_task_manager(task_type: str = "default") -> AsyncTaskManager:
    """The process-wide manager (``st.cache_resource``); imports Streamlit on first use."""
    from taskmgr.resource import get_task_manager as cached

    return cached(task_type)


__all__ = [
    "AsyncTaskManager",
    "AsyncioRunner",
    "ChangeFeed",
    "CoroutineRunner",
    "LoopHealth",
    "ManagerClosed",
    "ManagerStats",
    "OwnerStats",
    "QueueFull",
    "TaskCancelled",
    "TaskContext",
    "TaskRunner",
    "TaskSnapshot",
    "TaskStatus",
    "ThreadPoolRunner",
    "UnknownTask",
    "get_task_manager",
]
