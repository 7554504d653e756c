"""Kept so that ``from taskmgr.runner import ...`` still works; see ``taskmgr.runners``."""

from taskmgr.runners import TaskRunner, ThreadPoolRunner

__all__ = ["TaskRunner", "ThreadPoolRunner"]
