"""How often pages refresh themselves; the other settings belong to taskmgr and sessions."""

from __future__ import annotations

#: Seconds between refreshes of a page's task list while some task is unfinished.
TASKS_REFRESH_S = 1.0

#: Seconds between looks at the owner's tasks that run in another process (read from the
#: store): the page redraws when one of them ends or its process is found dead.
ELSEWHERE_REFRESH_S = 2.0

#: Seconds between refreshes of the Admin page's tables.
ADMIN_REFRESH_S = 2.0
